"""What the commands count and say of a messy folder agrees with what the Data tab and the
run use: damaged files are not counted as images evaluated or as colour modes, a folder
training would refuse is said so at ``init``, an evaluation of "its validation split"
says when that split is no longer the run's, and a class folder that is a link to the
dataset or to another class is named (the messy-folder walkthrough's items 5, 6, 7, 10)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PIL import Image

from helpers import make_image_folder, run_cli
from workbench.core.data.split_record import read_split_record, stable_side
from workbench.core.train.run import run_training


def _truncated_jpeg(path: Path) -> None:
    """A JPEG whose header reads (as RGB 64x64) but whose data stops half way."""
    noise = Image.effect_noise((64, 64), 80).convert("RGB")
    noise.save(path, "JPEG", quality=95)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with Image.open(path) as im:
        assert im.mode == "RGB"  # the header reads


def test_evaluate_counts_only_the_images_it_evaluated_as_trained_on(tmp_path, capsys,
                                                                     tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = Path(tiny_experiment.data.folder)
    (folder / "red" / "zero.png").write_bytes(b"")
    _truncated_jpeg(folder / "blue" / "half.jpg")
    code, out, err = run_cli(capsys, "evaluate", run_dir / "bundle.pt", folder)
    assert code == 0, err
    evaluated = int(re.search(r": (\d+) images", out).group(1))
    assert evaluated == 30  # the two damaged files are not evaluated
    note = re.search(r"(\d+) of these (\d+) images are images this model was trained on",
                     out + err)
    assert note, out + err
    assert int(note.group(2)) == evaluated
    assert int(note.group(1)) == len(read_split_record(run_dir).train)


def test_evaluating_its_validation_split_says_what_changed_since_training(
        tmp_path, capsys, tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = Path(tiny_experiment.data.folder)
    record = read_split_record(run_dir)
    os.remove(folder / sorted(record.val)[0])  # one validation image deleted
    names = [f"blue/n{i}.png" for i in range(100)]
    for r in [r for r in names if stable_side(0, "blue", r, 0.3)][:2]:  # two go to val
        Image.new("RGB", (12, 12), (30, 40, 220)).save(folder / r)
    code, out, err = run_cli(capsys, "evaluate", run_dir / "bundle.pt", "--split", "val")
    assert code == 0, err
    before = len(record.val)
    said = " ".join((out + err).split())
    assert "the dataset changed since the model was trained (2 images added to " \
           "validation, 1 image of validation gone from the folder)" in said, said
    assert f"its validation split now holds {before + 1} images, {before - 1} of the " \
           f"{before} its run validated on" in said
    # Unchanged: nothing said.
    for r in [r for r in names if stable_side(0, "blue", r, 0.3)][:2]:
        os.remove(folder / r)
    run_cli(capsys, "evaluate", run_dir / "bundle.pt", "--split", "val")
    Image.new("RGB", (12, 12), (220, 30, 30)).save(folder / sorted(record.val)[0])
    code, out, err = run_cli(capsys, "evaluate", run_dir / "bundle.pt", "--split", "val")
    assert code == 0 and "changed since the model was trained" not in out + err


def test_init_says_a_folder_training_would_refuse(tmp_path, capsys):
    folder = Path(make_image_folder(tmp_path / "data", per_class=4))
    (folder / "broken").mkdir()
    for name in ("a.jpg", "b.png"):
        (folder / "broken" / name).write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "init", "--data", folder, "-o", tmp_path / "exp.json")
    assert code == 0 and (tmp_path / "exp.json").is_file()
    assert ("note: cannot be trained on yet: class 'broken' in "
            f"{folder} has no usable training images (all 2 of its files are unreadable)"
            in err), err
    # The same line scan prints.
    _, _, scan_err = run_cli(capsys, "scan", folder)
    line = next(x for x in scan_err.splitlines() if x.startswith("note: cannot be trained"))
    assert line in err.splitlines()
    # A folder that trains: no such note.
    (folder / "broken" / "a.jpg").unlink()
    Image.new("RGB", (12, 12), (1, 2, 3)).save(folder / "broken" / "a.jpg")
    _, _, err = run_cli(capsys, "init", "--data", folder, "-o", tmp_path / "exp2.json")
    assert "cannot be trained" not in err


def test_init_counts_the_colour_modes_of_readable_images_only(tmp_path, capsys):
    folder = Path(make_image_folder(tmp_path / "data", classes=("blue", "red"),
                                    per_class=5))
    Image.new("L", (12, 12), 90).save(folder / "blue" / "gray.png")
    _truncated_jpeg(folder / "red" / "zz_half.jpg")  # its header says RGB
    code, _, err = run_cli(capsys, "init", "--data", folder, "-o", tmp_path / "exp.json")
    assert code == 0, err
    assert "modes RGB 10, L 1" in err, err  # 11 readable images, as the Data tab counts


def test_a_class_folder_linked_to_the_dataset_or_another_class_is_named(tmp_path, capsys,
                                                                        tiny_experiment):
    from workbench.cli.run_warnings import run_warnings

    folder = Path(tiny_experiment.data.folder)
    os.symlink(folder, folder / "rootloop")
    os.symlink("red", folder / "red_alias")
    itself = "class 'rootloop' is a link to the dataset folder itself"
    alias = "class 'red_alias' is a link to class 'red'"
    code, _, err = run_cli(capsys, "scan", folder)  # scan (the Data tab shows the same)
    assert code == 0 and itself in err and alias in err
    said = " ".join(run_warnings(tiny_experiment))  # what train prints before epoch 1
    assert itself in said and alias in said
    code, _, err = run_cli(capsys, "check", folder)
    assert itself in err and alias in err, err
    # Ordinary class folders (a link to a folder elsewhere is a class of its own).
    os.remove(folder / "rootloop")
    os.remove(folder / "red_alias")
    other = Path(make_image_folder(tmp_path / "elsewhere", classes=("green",)))
    os.symlink(other / "green", folder / "yellow")
    _, _, err = run_cli(capsys, "scan", folder)
    assert "is a link to" not in err
