"""`workbench evaluate`, from a walkthrough: --split chooses the validation split of a
train/val/test dataset; a folder holding the model's training images gets a note saying so;
--json agrees with the text on the top-k accuracy; an unknown command says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import make_image_folder, random_bundle, run_cli as run
from workbench.core.evaluate.evaluation import evaluate

TRAINED_ON = "images this model was trained on"


@pytest.fixture
def run_dir(capsys, tmp_path, tiny_experiment) -> Path:
    """A run trained by `workbench train` (its bundle carries its split's record)."""
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--epochs", "1", "--device", "cpu",
                       "--out", out)
    assert code == 0, err
    return out


def test_a_folder_of_its_training_images_is_noted(run_dir, tiny_folder, tmp_path):
    from workbench.core.bundle import load_bundle
    from workbench.core.data.split_record import SplitRecord

    bundle = run_dir / "bundle.pt"
    trained = SplitRecord.from_dict(load_bundle(bundle).split).train
    r = evaluate(bundle, tiny_folder)
    [note] = [n for n in r.notes if TRAINED_ON in n]
    assert note.startswith(f"{len(trained)} of these {r.num_images} images are ")
    assert "says little about new images" in note and "validation split" in note
    # Its validation split holds no training images; the same images copied elsewhere,
    # the original still there, are the training images (walk-paths defect 3).
    assert not any(TRAINED_ON in n for n in evaluate(bundle).notes)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_folder, copy)
    assert any(TRAINED_ON in n for n in evaluate(bundle, copy).notes)
    # The bundle moved out of its run folder still carries the record.
    moved = tmp_path / "elsewhere" / "model.pt"
    moved.parent.mkdir()
    shutil.copy(bundle, moved)
    assert any(TRAINED_ON in n for n in evaluate(moved, tiny_folder).notes)


def test_without_a_record_only_its_own_dataset_is_compared(tmp_path, tiny_experiment,
                                                           tiny_folder):
    bundle, _ = random_bundle(tmp_path / "loose" / "bundle.pt", tiny_experiment)
    r = evaluate(bundle, tiny_folder)
    [note] = [n for n in r.notes if TRAINED_ON in n]
    assert "the bundle carries no record" in note  # recomputed, and said
    copy = tmp_path / "copy"
    shutil.copytree(tiny_folder, copy)
    assert not any(TRAINED_ON in n for n in evaluate(bundle, copy).notes)


def test_cli_split_val_evaluates_the_validation_part_of_a_train_val_test_folder(
        capsys, tmp_path, tiny_experiment):
    root = tmp_path / "parts"
    for part, n in (("train", 6), ("val", 3), ("test", 2)):
        make_image_folder(root / part, per_class=n, seed=len(part))
    exp = tiny_experiment.copy()
    exp.data.folder = str(root)
    bundle, _ = random_bundle(tmp_path / "b" / "bundle.pt", exp)
    results = {}
    for split in ("auto", "val", "test", "all"):
        code, out, err = run(capsys, "evaluate", bundle, "--split", split, "--json")
        assert code == 0, err
        results[split] = json.loads(out)
    assert results["auto"]["split"] == "test" and results["auto"]["num_images"] == 6
    assert results["val"]["split"] == "val" and results["val"]["num_images"] == 9
    assert results["test"]["num_images"] == 6 and results["all"]["num_images"] == 33
    code, out, _ = run(capsys, "evaluate", bundle, "--split", "val")
    assert code == 0 and "the validation split of" in out
    code, _, err = run(capsys, "evaluate", bundle, "--split", "train")
    assert code == 2 and "invalid choice" in err


def test_json_top_k_agrees_with_the_text(capsys, tmp_path, tiny_experiment, tiny_folder):
    bundle, _ = random_bundle(tmp_path / "b" / "bundle.pt", tiny_experiment)
    # By default k is 5 lowered below the 3 classes, as the Evaluate tab shows it: top-2,
    # the same in the JSON and the text (it was k 3 "always 100%" and no line in the text).
    code, out, _ = run(capsys, "evaluate", bundle, tiny_folder, "--json")
    top = json.loads(out)["top_k_accuracy"]
    assert code == 0 and top["k"] == 2 and 0 <= top["accuracy"] <= 1 and "reason" not in top
    code, out, _ = run(capsys, "evaluate", bundle, tiny_folder)
    assert f"top-2 accuracy {100 * top['accuracy']:.1f}%" in out
    assert evaluate(bundle, tiny_folder).top_k == 2
    code, out, _ = run(capsys, "evaluate", bundle, tiny_folder, "--help")
    assert "below the model's number of classes" in " ".join(out.split())
    # A k asked for at the number of classes is left out, and the JSON says why.
    code, out, _ = run(capsys, "evaluate", bundle, tiny_folder, "--json", "--top-k", "5")
    top = json.loads(out)["top_k_accuracy"]
    assert code == 0 and top["accuracy"] is None and "3 classes" in top["reason"]
    code, out, _ = run(capsys, "evaluate", bundle, tiny_folder, "--top-k", "5")
    assert "no top-k accuracy" in out


@pytest.mark.parametrize("argv", [["runs", "--help"], ["runs"], ["evalute", "x.pt"]])
def test_an_unknown_command_is_named(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "usage: workbench gui" not in err
    assert f"unknown command '{argv[0]}'" in err and "evaluate" in err
    assert err.count("\n") == 1


def test_options_alone_still_go_to_the_gui(capsys, monkeypatch):
    import workbench.cli as cli

    seen = []
    monkeypatch.setitem(cli._COMMANDS, "gui", lambda args: seen.append(args) or 0)
    assert run(capsys, "--data", "somewhere")[0] == 0 and seen[-1].data == "somewhere"
    assert run(capsys)[0] == 0 and seen[-1].command == "gui"
