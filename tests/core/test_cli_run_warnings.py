"""``workbench train`` warns before epoch 1 about the classic mistakes a learner makes with
the data: a flip that swaps two classes (left/right arrows), with a paste-able ``--set``
that removes it; the test part of a dataset given as the dataset; a validation split of a
handful of images."""

from __future__ import annotations

import shlex

from helpers import make_image_folder, run_cli


def _warnings(err: str) -> list[str]:
    return [ln[len("warning: "):] for ln in err.splitlines() if ln.startswith("warning: ")]


def _experiment(tmp_path, data, capsys):
    exp = tmp_path / "mlp.json"
    code, _, err = run_cli(capsys, "init", "--preset", "mlp", "--data", data, "-o", exp)
    assert code == 0, err
    return exp


def test_a_label_changing_flip_is_warned_with_a_set_that_removes_it(tmp_path, capsys):
    data = make_image_folder(tmp_path / "arrows", classes=("left", "right"), per_class=12,
                             size=16)
    exp = _experiment(tmp_path, data, capsys)
    flip = '--set=augment.transforms=[{"type": "RandomHorizontalFlip", "params": {}}]'
    code, _, err = run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu",
                           "--out", tmp_path / "flipped", flip)
    assert code == 0, err
    (said,) = [w for w in _warnings(err) if "RandomHorizontalFlip" in w]
    assert said.startswith("RandomHorizontalFlip may change the label: the classes "
                           "'left'/'right' differ only by left and right, which it swaps.")
    assert said.endswith("Fix: remove the flip, on the command line --set "
                         "'augment.transforms=[]'.")
    # Pasted as printed (a shell splits it), it trains without the flip and without a word.
    option = shlex.split(said.split("on the command line ", 1)[1].rstrip("."))
    code, _, err = run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu",
                           "--out", tmp_path / "fixed", flip, *option)
    assert code == 0, err
    assert not [w for w in _warnings(err) if "may change the label" in w], err


def test_training_on_the_test_part_and_on_three_validation_images_is_warned(tmp_path,
                                                                             capsys):
    root = tmp_path / "split"
    for part, n in (("train", 10), ("val", 4), ("test", 5)):
        make_image_folder(root / part, per_class=n, size=16)
    exp = _experiment(tmp_path, str(root), capsys)
    code, _, err = run_cli(capsys, "train", exp, "--data", root / "test", "--epochs", "1",
                           "--device", "cpu", "--out", tmp_path / "run")
    assert code == 0, err  # warnings: the run goes on
    part, small = _warnings(err)[-2:]
    assert part.startswith(f"{root / 'test'} is the test part of the dataset {root} (it has "
                           f"train/ beside it)")
    assert part.endswith(f"Train on {root} instead: it trains on train/, validates on "
                         f"val/ and keeps test/ for evaluation. Fix: on the command line "
                         f"--data {shlex.quote(str(root))}.")
    assert small.startswith("Only 3 validation images: one image moves accuracy by 33 "
                            "points, so the validation accuracy says little")
    # The whole dataset: 12 validation images in val/, still few; no word of parts.
    code, _, err = run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu",
                           "--out", tmp_path / "whole")
    assert code == 0, err
    (small,) = _warnings(err)
    assert small.startswith("Only 12 validation images: one image moves accuracy by 8 points")
    assert "(add images to val/;" in small


def test_check_warns_of_the_test_part_and_a_handful_of_validation_images_as_train_does(
        tmp_path, capsys):
    """The learner's report: `workbench check few` said nothing of 3 validation images."""
    root = tmp_path / "split"
    for part, n in (("train", 10), ("val", 4), ("test", 5)):
        make_image_folder(root / part, per_class=n, size=16)
    code, out, err = run_cli(capsys, "check", root / "test", "--json")
    assert code == 0, err
    part, small = _warnings(err)[-2:]
    assert part.startswith(f"{root / 'test'} is the test part of the dataset {root}")
    assert small.startswith("Only 3 validation images: one image moves accuracy by 33 ")
    import json

    notes = json.loads(out)["notes"]
    assert part.rstrip(".") in notes and small.rstrip(".") in notes


def test_check_and_train_say_a_validation_share_that_holds_out_no_image(tmp_path, capsys):
    """The learner's report: 1 image a class, `check` said "no problems found" and `train`
    "(4 for training, none for validation)" only; run.json keeps the warning too."""
    import json

    data = make_image_folder(tmp_path / "one", per_class=1, size=16)
    code, _, err = run_cli(capsys, "check", data)
    assert code == 0, err
    (said,) = _warnings(err)
    assert said.startswith("No validation images: the validation share 0.2 of 3 training "
                           "images holds out none (each class has a single image")
    assert "The accuracy shown is then the training accuracy" in said
    exp = _experiment(tmp_path, data, capsys)
    code, _, err = run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu",
                           "--out", tmp_path / "run")
    assert code == 0, err
    assert _warnings(err) == [said]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert said in info["start_warnings"]  # the run's start notes, shown after a restart
