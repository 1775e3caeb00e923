"""What a run killed mid-run (SIGKILL, a power cut) leaves, and how it is read back.

An epoch's files are written checkpoint first and run.json last, so metrics.json never
holds an epoch the checkpoint lacks; a folder an older Workbench left with metrics ahead is
read as far as run.json counts the epochs. A run that wrote no bundle offers its last
checkpoint as its model, with that checkpoint's own epoch and validation accuracy."""

from __future__ import annotations

import json
import os
from pathlib import Path

from helpers import stop_after
from workbench.core.bundle import load_bundle
from workbench.core.runs.batches import read_batches
from workbench.core.runs.lock import RunLock
from workbench.core.runs.record import read_history, read_record
from workbench.core.runs.store import RunStore
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training




def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _killed_run(experiment, folder: Path, done: int = 2, planned: int = 4) -> Path:
    """A run trained ``done`` of ``planned`` epochs whose process was then killed: no
    bundle, run.json still "running" (and its lock free: the process is gone)."""
    exp = experiment.copy()
    exp.training.epochs = planned
    outcome = run_training(exp, folder, [stop_after(done)])
    assert outcome.status == "stopped", outcome.error
    (folder / "bundle.pt").unlink()
    info = _json(folder / "run.json")
    info.update(status="running", finished=None, bundle=None, message="")
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return folder


def test_an_epoch_is_written_checkpoint_first_and_committed_by_run_json_last(
        tiny_experiment, tmp_path, monkeypatch):
    replaced = []
    real = os.replace

    def spy(src, dst, *args, **kwargs):
        real(src, dst, *args, **kwargs)
        replaced.append(Path(dst).name)
    monkeypatch.setattr(os, "replace", spy)
    tiny_experiment.training.epochs = 3
    assert run_training(tiny_experiment, tmp_path / "run").status == "finished"
    # Each epoch: last.pt before metrics.json, metrics.json before the run.json that
    # counts the epoch (a kill between two leaves no epoch shown that is not kept).
    epochs = [i for i, name in enumerate(replaced) if name == "last.pt"]
    assert len(epochs) == 3
    for start in epochs:
        rest = replaced[start:]
        assert rest.index("metrics.json") < rest.index("run.json"), replaced


def test_metrics_ahead_of_run_json_are_read_as_far_as_the_kept_epochs(tiny_experiment,
                                                                      tmp_path):
    run = _killed_run(tiny_experiment, tmp_path / "run", done=2)
    # What a kill between writing metrics.json and the checkpoint left (older Workbench):
    # epoch 3's metrics and batch losses, no checkpoint of it, run.json at 2.
    metrics = _json(run / "metrics.json")
    extra = dict(metrics["epochs"][-1], epoch=3, val_acc=0.123)
    metrics["epochs"].append(extra)
    metrics["batches"].append(dict(metrics["batches"][-1], epoch=3))
    (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    assert load_checkpoint(run).epoch == 2

    assert [m["epoch"] for m in read_history(run)] == [1, 2]
    assert {b["epoch"] for b in read_batches(run)} == {1, 2}
    record = RunStore(tmp_path).get(run)
    assert record.status == "interrupted" and record.epochs_done == 2
    assert record.best_val_acc != 0.123 and record.model_epoch == 2


def test_a_killed_run_offers_its_last_checkpoint_as_its_model(tiny_experiment, tmp_path):
    run = _killed_run(tiny_experiment, tmp_path / "run", done=2)
    record = RunStore(tmp_path).get(run)
    assert record.status == "interrupted" and not record.has_bundle
    assert record.model_file == "checkpoints/last.pt"
    assert record.model_path == str(run / "checkpoints" / "last.pt")
    history = read_history(run)
    # The checkpoint's own epoch and what it measured: what loading it gives.
    loaded = load_bundle(record.model_path)
    assert record.model_epoch == loaded.epoch == 2
    assert record.model_val_acc == history[1]["val_acc"] == loaded.info["metrics"]["val_acc"]


def test_a_run_still_training_offers_no_checkpoint_model(tiny_experiment, tmp_path):
    run = _killed_run(tiny_experiment, tmp_path / "run", done=2)
    lock = RunLock(run)
    assert lock.acquire()  # as its training process would hold it
    try:
        record = RunStore(tmp_path).get(run)
        assert record.status == "running" and record.model_file == ""
        assert record.model_val_acc is None
    finally:
        lock.release()
    # A diverged run's checkpoint is no model to offer either.
    info = _json(run / "run.json")
    (run / "run.json").write_text(json.dumps(dict(info, status="diverged")), "utf-8")
    assert read_record(run).model_file == ""


def test_a_resumed_run_rewrites_metrics_from_its_checkpoint_before_its_first_epoch(
        tiny_experiment, tmp_path):
    run = _killed_run(tiny_experiment, tmp_path / "run", done=2)
    metrics = _json(run / "metrics.json")
    metrics["epochs"].append(dict(metrics["epochs"][-1], epoch=3))
    (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")

    class Seen(Callback):
        def on_epoch_start(self, trainer, epoch):
            if epoch == 3:  # epoch 3 of this run: not the one the kill left
                self.epochs = [m["epoch"] for m in _json(run / "metrics.json")["epochs"]]
                self.done = _json(run / "run.json")["epochs_done"]

    ckpt = load_checkpoint(run)
    exp = ckpt.experiment
    exp.training.epochs = 3
    seen = Seen()
    assert run_training(exp, run, watchers=[seen], checkpoint=ckpt).status == "finished"
    assert seen.epochs == [1, 2] and seen.done == 2
    assert [m["epoch"] for m in read_history(run)] == [1, 2, 3]
