"""``workbench evaluate RUN DIR`` on the run's own dataset reached another way (a symbolic
link to it, or a copy of it while the original is still there) says how many of the images
the model was trained on, as it does on the dataset's own path."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import run_cli
from workbench.core.data.split_record import read_split_record
from workbench.core.train.run import run_training

NOTE = r"(\d+) of these (\d+) images are images this model was trained on"


@pytest.fixture
def trained_run(tmp_path, tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    return run_dir, len(read_split_record(run_dir).train), Path(tiny_experiment.data.folder)


def _note(capsys, run_dir, folder) -> tuple[int, int]:
    code, out, err = run_cli(capsys, "evaluate", run_dir, folder)
    assert code == 0, err
    note = re.search(NOTE, out + err)
    assert note, out + err
    return int(note.group(1)), int(note.group(2))


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                    reason="symbolic links need a POSIX file system here")
def test_a_symlinked_path_to_the_dataset_gets_the_note(tmp_path, capsys, trained_run):
    run_dir, trained, folder = trained_run
    link = tmp_path / "link_data"
    link.symlink_to(folder, target_is_directory=True)
    assert _note(capsys, run_dir, folder) == (trained, 30)
    assert _note(capsys, run_dir, link) == (trained, 30)


def test_a_copy_of_the_dataset_beside_the_original_gets_the_note(tmp_path, capsys,
                                                                 trained_run):
    run_dir, trained, folder = trained_run
    copy = tmp_path / "copy data ü"
    shutil.copytree(folder, copy)
    assert folder.is_dir()  # the original is still there
    assert _note(capsys, run_dir, copy) == (trained, 30)
