"""``workbench evaluate BUNDLE DIR`` on the bundle's dataset moved elsewhere (copied to
another machine, renamed) still says how many of the images are ones the model was trained
on, matching the run's split record by the images' paths inside the folder; another
dataset with the same classes but other images gets no such note."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from helpers import make_image_folder, run_cli
from workbench.core.data.split_record import read_split_record
from workbench.core.train.run import run_training

NOTE = r"(\d+) of these (\d+) images are images this model was trained on"


def test_the_trained_on_note_follows_the_dataset_when_it_moved(tmp_path, capsys,
                                                               tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    trained = len(read_split_record(run_dir).train)
    bundle = tmp_path / "carried.pt"  # the bundle alone, as sent to another machine
    shutil.copy(run_dir / "bundle.pt", bundle)
    shutil.rmtree(run_dir)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(tiny_experiment.data.folder, moved)

    code, out, err = run_cli(capsys, "evaluate", bundle, moved)
    assert code == 0, err
    note = re.search(NOTE, out + err)
    assert note, out + err
    assert (int(note.group(1)), int(note.group(2))) == (trained, 30)
    assert "evaluate its validation split" in out + err

    code, out, err = run_cli(capsys, "evaluate", bundle, moved, "--split", "val")
    assert code == 0, err
    assert "trained on" not in out + err


def test_another_dataset_with_the_same_classes_gets_no_note(tmp_path, capsys,
                                                            tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    shutil.rmtree(tiny_experiment.data.folder)
    other = Path(make_image_folder(tmp_path / "other", per_class=10, seed=3))
    for f in other.rglob("*.png"):  # other photos: other names
        f.rename(f.with_name("photo_" + f.name))
    code, out, err = run_cli(capsys, "evaluate", run_dir / "bundle.pt", other)
    assert code == 0, err
    assert "trained on" not in out + err
