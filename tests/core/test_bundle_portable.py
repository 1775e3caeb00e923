"""A bundle moved out of its run folder keeps its run's split, and a run's checkpoint
(``RUN/checkpoints/best.pt``) can be used as the model (deployment-day walkthrough)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from helpers import run_cli
from workbench.core.bundle import load_bundle
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import relative_path, split_for
from workbench.core.data.split_record import SPLIT_FILE, read_split_record
from workbench.core.train.run import run_training

NOTE = ("the bundle carries no record of its run's split: the validation split was "
        "recomputed from the folder and may include images the model was trained on")


@pytest.fixture
def trained_run(tmp_path, tiny_experiment):
    """A finished run of the tiny experiment whose folder then got five more blue images,
    so that a split recomputed from the folder differs from the run's."""
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = Path(tiny_experiment.data.folder)
    for i in range(5):
        Image.new("RGB", (12, 12), (30, 40, 200 + i)).save(folder / "blue" / f"new{i}.png")
    return run_dir


def _rels(folder, samples) -> set[str]:
    index = scan_folder(folder)
    return {relative_path(index, p) for p, _ in samples}


def test_a_bundle_moved_out_of_its_run_folder_evaluates_on_the_runs_validation_split(
        tmp_path, tiny_experiment, trained_run, capsys):
    from workbench.core.evaluate.evaluation import evaluate

    folder = tiny_experiment.data.folder
    record = read_split_record(trained_run)
    _, fresh_val = split_for(scan_folder(folder), tiny_experiment.data)
    assert _rels(folder, fresh_val) & record.train, "the recomputed split would differ"

    ship = tmp_path / "ship"
    ship.mkdir()
    moved = ship / "bundle.pt"
    shutil.copy(trained_run / "bundle.pt", moved)
    result = evaluate(moved, split="val")
    # Only that the folder gained images since the run (one of them falls in validation),
    # never that the split was recomputed.
    (changed,) = result.notes
    assert changed.startswith("the dataset changed since the model was trained (1 image "
                              "added to validation)"), changed
    seen = _rels(folder, [(p, 0) for p in result.paths])
    assert not seen & record.train, "evaluated on images the model was trained on"
    assert record.val <= seen
    code, out, err = run_cli(capsys, "evaluate", moved)
    assert code == 0 and "validation split" in out and NOTE not in err
    assert f"note: {changed}" in err


def test_an_old_bundle_without_a_record_says_its_split_was_recomputed(
        tmp_path, trained_run, capsys):
    old = tmp_path / "old.pt"
    data = torch.load(trained_run / "bundle.pt", weights_only=True)
    assert "split" in data
    del data["split"]  # as bundles were written before they carried the record
    torch.save(data, old)
    code, out, err = run_cli(capsys, "evaluate", old)
    assert code == 0, err
    assert f"note: {NOTE}" in err
    code, out, _ = run_cli(capsys, "evaluate", old, "--json")
    assert code == 0 and __import__("json").loads(out)["notes"] == [NOTE]
    # Still in its run folder: the run's split.json, and nothing to say of a recomputed
    # split (only that the folder gained images since).
    shutil.copy(old, trained_run / "bundle.pt")
    code, _, err = run_cli(capsys, "evaluate", trained_run / "bundle.pt")
    assert code == 0 and NOTE not in err and "the dataset changed since" in err


def test_a_runs_checkpoint_is_a_model_for_predict_evaluate_and_export(
        tmp_path, tiny_experiment, trained_run, capsys):
    best = trained_run / "checkpoints" / "best.pt"
    bundle = load_bundle(best)
    assert bundle.is_checkpoint and bundle.run_dir == trained_run
    assert bundle.split is None
    image = next((Path(tiny_experiment.data.folder) / "red").iterdir())

    code, out, err = run_cli(capsys, "predict", best, image)
    assert code == 0, err
    assert "not a Workbench bundle" not in err and out.startswith(f"{image}: ")
    assert f"note: {best} is a run's checkpoint, not a bundle: using the model it holds, " \
           f"the weights of epoch {bundle.epoch} of 2 (the best epoch so far" in err
    acc = bundle.info["metrics"]["val_acc"]  # the Runs tab's unit and rounding
    assert f"so far, val_acc {acc * 100:.1f}%)" in err
    # The same weights as the run's bundle when the best epoch is the one it holds.
    final = load_bundle(trained_run / "bundle.pt")
    if final.epoch == bundle.epoch:
        assert all(torch.equal(final.state_dict[k], v) for k, v in bundle.state_dict.items())

    code, out, err = run_cli(capsys, "evaluate", best)
    assert code == 0, err
    assert "validation split" in out and "recomputed" not in err  # RUN/split.json
    code, _, err = run_cli(capsys, "export", best, "--code", tmp_path / "m.py")
    assert code == 0 and (tmp_path / "m.py").exists(), err

    (trained_run / SPLIT_FILE).unlink()  # a run of an older Workbench
    code, out, err = run_cli(capsys, "evaluate", trained_run / "checkpoints" / "last.pt")
    assert code == 0, err
    assert f"note: {trained_run} holds no record of the run's split ({SPLIT_FILE}): the " \
           f"validation split was recomputed" in err
    assert "the last epoch finished" in err
