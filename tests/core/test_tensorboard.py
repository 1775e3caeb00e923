"""TensorBoard event files in every run folder, read back with TensorBoard's own reader."""

from __future__ import annotations

import json

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.runs.tensorboard import confusion_image
from workbench.core.train.run import run_training


def _experiment(tmp_path, epochs=3) -> Experiment:
    exp = Experiment(name="tb")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=20, size=16)
    exp.data.input_size = [16, 16]
    exp.training.epochs = epochs
    exp.training.device = "cpu"
    return exp.validate()


def _events(run_dir) -> EventAccumulator:
    ea = EventAccumulator(str(run_dir), size_guidance={"images": 4, "scalars": 0})
    ea.Reload()
    return ea


def test_a_trained_runs_folder_holds_its_curves_hparams_and_confusion_matrix(tmp_path):
    outcome = run_training(_experiment(tmp_path), tmp_path / "run", norm_interval=2)
    assert outcome.status == "finished"
    ea = _events(tmp_path / "run")
    scalars = ea.Tags()["scalars"]
    history = outcome.result.history
    for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"),
                     ("accuracy/val", "val_acc"), ("lr", "lr")):
        assert [e.value for e in ea.Scalars(tag)] == \
            [np.float32(m[key]) for m in history], tag
    steps = [e.step for e in ea.Scalars("loss/train_batch")]  # every batch, numbered on
    assert steps == list(range(1, len(steps) + 1)) and len(steps) % 3 == 0 and steps
    assert any(t.startswith("grad_norm/") for t in scalars)
    assert "hparam/best_val_loss" in scalars
    assert ea.Tags()["images"] == ["confusion/val"]


def test_the_cli_run_can_be_read_and_overwrite_clears_its_events(capsys, tmp_path):
    _experiment(tmp_path, epochs=1).save(tmp_path / "exp.json")
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run")
    assert code == 0, err
    first = sorted(p.name for p in (tmp_path / "run").glob("events.out.tfevents.*"))
    assert first
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run",
                           "--overwrite")
    assert code == 0, err
    now = sorted(p.name for p in (tmp_path / "run").glob("events.out.tfevents.*"))
    assert now and not set(first) & set(now)  # the old run's events went with it
    assert len(_events(tmp_path / "run").Scalars("loss/val")) == 1


def test_a_writer_that_fails_is_a_warning_never_a_failed_run(tmp_path, monkeypatch):
    import torch.utils.tensorboard as tb

    class Broken:
        def __init__(self, *a, **k):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(tb, "SummaryWriter", Broken)
    outcome = run_training(_experiment(tmp_path, epochs=1), tmp_path / "run")
    assert outcome.status == "finished" and outcome.bundle_path is not None
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "No space left" in info["tensorboard"]


def test_the_confusion_image_is_a_heatmap_of_the_matrix():
    img = confusion_image([[5, 1], [0, 6]], ["cat", "dog"])
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    big = confusion_image(np.eye(100, dtype=int).tolist(), [str(i) for i in range(100)])
    assert big.shape[0] <= 700  # stays a readable size


def test_the_confusion_image_names_every_class_in_full_and_titles_its_axes(monkeypatch):
    from PIL import ImageDraw

    drawn: list[str] = []
    real = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text",
                        lambda self, xy, text, *a, **k: (drawn.append(text),
                                                         real(self, xy, text, *a, **k))[1])
    names = ["triangle", "hexagon_large", "a very long class name"]
    img = confusion_image([[5, 1, 0], [0, 6, 1], [2, 0, 4]], names)
    for name in names:  # once as a row (true class), once as a column (predicted)
        assert drawn.count(name) == 2, (name, drawn)
    assert "true class" in drawn and "predicted class" in drawn
    assert img.shape[0] > 3 * 40 + 100  # room above the cells for the upright names

    drawn.clear()
    endless = "an extraordinarily long class name that never seems to end at all"
    confusion_image([[1, 0], [0, 1]], ["cat", endless])
    cut = [t for t in drawn if t.startswith("2. an extra") and t.endswith("…")]
    assert len(cut) == 2 and f"2. {endless}" in drawn  # cut short, and in full in the key
