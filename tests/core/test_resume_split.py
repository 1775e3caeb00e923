"""A resumed run validates on the images it validated on before, whatever was added to or
removed from its dataset folder since, and says what changed (the tester's "a run stopped
and continued tomorrow": 4 of 14 validation images had been trained on)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from PIL import Image

from helpers import run_cli as run
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import split_for
from workbench.core.data.split_record import (SPLIT_FILE, read_split_record,
                                              relative_paths, split_of_run, stable_side)
from workbench.core.runs.clearing import clear_run_files
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training


class Seen(Callback):
    """What the run set out with: its notes and its split."""

    def on_fit_start(self, trainer, info):
        self.notes = list(info["notes"])
        self.train = list(trainer.split_keeper.train)
        self.val = list(trainer.split_keeper.val)


def _rels(folder: str, samples) -> set[str]:
    index = scan_folder(folder)
    rel = relative_paths(index, [p for p, _ in samples])
    return {rel[p] for p, _ in samples}


def _change_folder(folder: str, val: set[str]) -> tuple[str, list[str]]:
    """Delete one validation image of red, add five blue images (named so that the rule
    sends three to training and two to validation, at the tiny experiment's 0.3 and seed
    0); returns what changed."""
    gone = sorted(r for r in val if r.startswith("red/"))[0]
    os.remove(Path(folder) / gone)
    names = [f"blue/n{i}.png" for i in range(100)]
    added = [r for r in names if not stable_side(0, "blue", r, 0.3)][:3] + \
        [r for r in names if stable_side(0, "blue", r, 0.3)][:2]
    for i, r in enumerate(added):
        Image.new("RGB", (12, 12), (30, 40, 200 + i)).save(Path(folder) / r)
    return gone, added


def _resume(run_dir: Path, epochs: int):
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment
    exp.training.epochs = ckpt.epoch + epochs
    seen = Seen()
    outcome = run_training(exp, run_dir, [seen], checkpoint=ckpt)
    assert outcome.status == "finished", outcome.error
    return seen


def test_a_resume_after_the_folder_changed_keeps_the_validation_images(tmp_path,
                                                                       tiny_experiment):
    run_dir = tmp_path / "run"
    first = Seen()
    assert run_training(tiny_experiment, run_dir, [first]).status == "finished"
    folder = tiny_experiment.data.folder
    record = read_split_record(run_dir)
    assert record.val == _rels(folder, first.val) and record.train == _rels(folder, first.train)
    assert record.val_images == len(first.val)

    gone, added = _change_folder(folder, record.val)
    fresh_train, _ = split_for(scan_folder(folder), tiny_experiment.data)
    assert _rels(folder, fresh_train) & (record.val - {gone}), \
        "without the record this resume would train on validation images"

    seen = _resume(run_dir, 1)
    val, train = _rels(folder, seen.val), _rels(folder, seen.train)
    assert record.val - {gone} <= val and record.train <= train
    for r in added:
        assert (r in val) == stable_side(0, "blue", r, tiny_experiment.data.val_fraction)
    to_val = len(set(added) & val)
    assert to_val == 2
    note = next(n for n in seen.notes if n.startswith("the dataset changed"))
    assert note.startswith("the dataset changed since epoch 2: 5 images added (3 to "
                           "training, 2 to validation), 1 removed (from validation). Images "
                           "trained on before stay in training, and validation keeps its "
                           f"{len(record.val) - 1} earlier images")
    assert f"from epoch 3 on it is measured on {len(val)} images, not {len(record.val)}" \
        in note
    # The best epoch is chosen again among the epochs measured on the new set: the earlier
    # best's loss was measured on other images (early stopping compared across the change).
    afresh = next(n for n in seen.notes if "chosen afresh" in n)
    assert afresh.startswith(f"the best epoch is chosen afresh from epoch 3 on, among the "
                             f"epochs measured on today's {len(val)} validation images")
    assert json.loads((run_dir / "run.json").read_text())["best"]["epoch"] == 3
    assert torch.load(run_dir / "checkpoints" / "best.pt", weights_only=False)["epoch"] == 3
    # The epoch measured on the new set is marked in the history, and the record says so.
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert [e.get("val_changed") for e in epochs] == [
        None, None, {"added": to_val, "removed": 1, "images": len(val)}]
    assert "val_changed" in load_checkpoint(run_dir).history[-1]
    kept = read_split_record(run_dir)
    assert kept.val == val | {gone} and kept.missing == {gone}
    assert kept.changes == [{"epoch": 3, "added_train": 5 - to_val, "added_val": to_val,
                             "removed_train": 0, "removed_val": 1, "moved": 0,
                             "val_images": len(val)}]

    # What evaluating the run's model on its validation split should measure.
    index = scan_folder(folder)
    assert split_of_run(index, tiny_experiment.data, run_dir) == (seen.train, seen.val)
    assert split_of_run(index, tiny_experiment.data, None) == split_for(index,
                                                                       tiny_experiment.data)

    # Resumed again with no change: the same split, not a word, nothing rewritten.
    stamp = (run_dir / SPLIT_FILE).stat().st_mtime_ns
    again = _resume(run_dir, 1)
    assert (again.train, again.val) == (seen.train, seen.val)
    assert not [n for n in again.notes if "dataset changed" in n or "afresh" in n]
    assert (run_dir / SPLIT_FILE).stat().st_mtime_ns == stamp
    assert "val_changed" not in json.loads((run_dir / "metrics.json").read_text())[
        "epochs"][-1]


def test_a_run_without_a_record_resumes_as_before_and_is_recorded(tmp_path,
                                                                  tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    (run_dir / SPLIT_FILE).unlink()  # a run of an older Workbench
    folder = tiny_experiment.data.folder
    _change_folder(folder, _rels(folder, split_for(scan_folder(folder),
                                                   tiny_experiment.data)[1]))
    seen = _resume(run_dir, 1)
    assert (seen.train, seen.val) == split_for(scan_folder(folder), tiny_experiment.data)
    assert not [n for n in seen.notes if "dataset" in n]
    assert read_split_record(run_dir).val == _rels(folder, seen.val)


def test_a_damaged_record_is_said_and_the_split_made_afresh(tmp_path, tiny_experiment):
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    (run_dir / SPLIT_FILE).write_bytes(b"garbage")
    seen = _resume(run_dir, 1)
    assert any(n.startswith(f"the run's record of its split, {run_dir / SPLIT_FILE}, is "
                            f"damaged") for n in seen.notes)
    assert (seen.train, seen.val) == split_for(scan_folder(tiny_experiment.data.folder),
                                               tiny_experiment.data)
    assert read_split_record(run_dir).val == _rels(tiny_experiment.data.folder, seen.val)


def test_cli_resume_says_what_changed(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    assert "dataset changed" not in out + err
    _change_folder(tiny_experiment.data.folder, read_split_record(run_dir).val)
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1")
    assert code == 0, err
    line = next(x for x in out.splitlines() if "dataset changed" in x)
    assert line.startswith("note: the dataset changed since epoch 2: 5 images added (3 to "
                           "training, 2 to validation), 1 removed (from validation).")
    # train --overwrite clears the record with the run's other files.
    assert SPLIT_FILE in clear_run_files(run_dir)


def test_evaluate_measures_the_runs_own_validation_images_after_the_folder_changed(
        tmp_path, tiny_experiment):
    from workbench.core.bundle import load_bundle
    from workbench.core.evaluate.evaluation import labelled_samples

    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = tiny_experiment.data.folder
    record = read_split_record(run_dir)
    gone, _ = _change_folder(folder, record.val)
    _, fresh_val = split_for(scan_folder(folder), tiny_experiment.data)
    samples, _, split = labelled_samples(load_bundle(run_dir / "bundle.pt"), split="val")
    assert split == "val"
    # The recorded validation images still there, plus only new images the rule sends
    # there: never an image the run trained on, as the fresh split would have it.
    assert _rels(folder, samples) - (record.val - {gone}) <= \
        {r for r in _rels(folder, samples) if r.startswith("blue/n")}
    assert not _rels(folder, samples) & record.train
    assert _rels(folder, fresh_val) & record.train, "the plain split would differ here"


def test_int8_calibrates_and_compares_on_the_split_the_run_recorded(tmp_path,
                                                                    tiny_experiment):
    """Stop 30's note: ``export --int8`` compared the float and int8 models on the folder's
    current split, which after a change holds images the run trained on."""
    from workbench.core.bundle import load_bundle
    from workbench.core.export.int8 import calibration_splits

    run_dir = tmp_path / "run"
    first = Seen()
    outcome = run_training(tiny_experiment, run_dir, [first])
    folder = tiny_experiment.data.folder
    _change_folder(folder, read_split_record(run_dir).val)
    index = scan_folder(folder)
    kept = split_of_run(index, tiny_experiment.data, run_dir)
    assert kept != split_for(index, tiny_experiment.data)
    bundle = load_bundle(outcome.bundle_path)
    assert calibration_splits(bundle) == kept
    # The bundle on its own (copied out of its run folder): the record it carries.
    alone = tmp_path / "alone.pt"
    alone.write_bytes(Path(outcome.bundle_path).read_bytes())
    assert calibration_splits(load_bundle(alone)) == kept
    # A bundle written before bundles carried the record, on its own: the experiment's.
    data = torch.load(alone, weights_only=True)
    del data["split"]
    torch.save(data, alone)
    assert calibration_splits(load_bundle(alone)) == split_for(index, tiny_experiment.data)


def test_run_json_counts_the_split_a_resumed_run_kept_not_a_fresh_one(tmp_path,
                                                                      tiny_experiment):
    # The tester's "Continue on a grown dataset": run.json said 96/24 (a fresh 80/20
    # split of the grown folder) while the run trained on 98/22, as its header said.
    run_dir = tmp_path / "run"
    assert run_training(tiny_experiment, run_dir).status == "finished"
    folder = tiny_experiment.data.folder
    _change_folder(folder, read_split_record(run_dir).val)
    fresh_train, fresh_val = split_for(scan_folder(folder), tiny_experiment.data)

    seen = _resume(run_dir, 1)
    kept = (len(seen.train), len(seen.val))
    assert kept != (len(fresh_train), len(fresh_val))  # the case that was miscounted
    data = json.loads((run_dir / "run.json").read_text())["data"]
    assert (data["train"], data["val"]) == kept
    assert read_split_record(run_dir).val_images == kept[1]
