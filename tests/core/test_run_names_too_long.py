"""A dataset folder with a long name still gets a run: the suggested run name has its
dataset part shortened in the middle, so ``<date>_<time>-<name>`` fits the 255 bytes a
folder's name may take (and so do a tune trial's and an export's file names made from it);
a name typed too long is refused with "shorten the run name"; a path the file system finds
too long is said so, not blamed on the disk."""

from __future__ import annotations

import errno
import os
import shlex
import shutil
from pathlib import Path

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.runs.names import (MAX_NAME_BYTES, name_size, run_name_base,
                                       run_name_problem, shorten_middle, suggest_run_name)
from workbench.core.runs.recorder import new_run_dir
from workbench.core.runs.store import read_run_info
from workbench.core.train.run import run_training

LONG = ["Holiday photos 2025 " * 12,  # 240 characters
        "ü" * 110 + " photos",         # 227 bytes
        "猫と犬の写真" * 13]            # 234 bytes


@pytest.mark.parametrize("folder_name", LONG, ids=["words", "accents", "cjk"])
def test_a_long_dataset_name_gives_a_run_folder_that_can_be_made(tmp_path, folder_name,
                                                                 tiny_experiment):
    folder = tmp_path / folder_name.strip()
    shutil.move(tiny_experiment.data.folder, folder)
    tiny_experiment.data.folder = str(folder)
    runs = tmp_path / "runs"
    name = suggest_run_name(tiny_experiment, runs)
    assert name_size(name) <= MAX_NAME_BYTES
    assert name.endswith("-1") and ".." in name  # cut in the middle: both ends still told
    assert name.startswith(folder_name.strip()[:4].replace(" ", "-"))
    outcome = run_training(tiny_experiment, runs_parent=runs, name=name)
    assert outcome.status == "finished", outcome.error
    run_dir = Path(outcome.run_dir)
    assert len(run_dir.name.encode()) <= 255 and run_dir.name.endswith(name)
    assert read_run_info(run_dir)["name"] == name
    # The next suggestion counts on past it; a tune trial's name and an export's files
    # named after the run fit too.
    assert suggest_run_name(tiny_experiment, runs) == name[:-1] + "2"
    trial = f"{run_name_base(tiny_experiment)}-trial-1234"
    assert name_size(trial) <= MAX_NAME_BYTES
    assert name_size(f"{name}-2-export.safetensors.json") <= 255


def test_a_name_too_long_for_a_folder_is_cut_in_the_middle_not_refused_by_the_disk(tmp_path):
    made = new_run_dir("ü" * 200 + "-seed-cnn-3", tmp_path)
    assert made.is_dir() and len(made.name.encode()) <= 255
    assert made.name.endswith("üü-seed-cnn-3") and "ü..ü" in made.name
    assert shorten_middle("abc-def", 7) == "abc-def"
    assert name_size(shorten_middle("हिन्दी" * 50, 40)) <= 40
    # An undecodable byte of a file name (a lone surrogate) is one byte on disk, not 3.
    assert name_size("Photos-\udce9t\udce9") == 10 == len(os.fsencode("Photos-\udce9t\udce9"))


def test_a_typed_name_too_long_is_refused_with_what_to_do():
    assert run_name_problem("a" * MAX_NAME_BYTES) == ""
    problem = run_name_problem("ü" * 101)
    assert "202 bytes" in problem and problem.endswith("shorten the run name")


@pytest.mark.skipif(os.name == "nt", reason="a POSIX file name limit")
def test_a_path_too_long_for_the_file_system_is_not_blamed_on_the_disk(tmp_path):
    with pytest.raises(WorkbenchError) as raised:
        new_run_dir("run", tmp_path / ("p" * 300))
    message = str(raised.value)
    assert "too long" in message and "check the disk" not in message
    assert "shorter path" in message


def test_the_command_to_write_a_missing_bundle_is_quoted(tmp_path, tiny_experiment,
                                                         monkeypatch):
    import workbench.core.bundle as bundle

    def full(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(bundle, "atomic_write", full)
    run_dir = tmp_path / "runs dir" / "run #2"
    outcome = run_training(tiny_experiment, run_dir)
    assert outcome.status == "failed"
    assert f"(workbench resume {shlex.quote(str(run_dir))})" in str(outcome.error)
