"""The validation balanced accuracy (``val_bal_acc``: the mean per-class recall): recorded
every epoch, a metric that picks the best epoch, stops early and ranks a study's trials, and
the same number as ``workbench evaluate``'s macro average recall."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from helpers import report_html, run_cli
from workbench.core.evaluate.evaluation import evaluate
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.runs.store import read_run_info
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 40), (30, 40, 220)
SIDE = 8


def _images(folder, colours):
    folder.mkdir(parents=True, exist_ok=True)
    for i, colour in enumerate(colours):
        Image.new("RGB", (SIDE, SIDE), colour).save(folder / f"{i:03d}.png")


def imbalanced_folder(root):
    """train/ and val/ of one big class ("big", red) and two small ones ("blue", "green").
    Six of the 20 big validation images are green (at even places, so torchrun's two
    validation shards see 6 and 0 of them): a model that tells the colours apart gets 14 of
    the big class right and every small one, one that always answers "big" all 20 big."""
    _images(root / "train" / "big", [RED] * 8)
    _images(root / "train" / "blue", [BLUE] * 6)
    _images(root / "train" / "green", [GREEN] * 6)
    _images(root / "val" / "big", [GREEN if i < 12 and i % 2 == 0 else RED for i in range(20)])
    _images(root / "val" / "blue", [BLUE] * 2)
    _images(root / "val" / "green", [GREEN] * 2)
    return root


def imbalanced_experiment(root, epochs=3) -> Experiment:
    exp = Experiment(name="imbalanced")
    exp.data.folder = str(imbalanced_folder(root))
    exp.data.input_size = [SIDE, SIDE]
    exp.data.mean, exp.data.std = [0.5] * 3, [0.5] * 3
    exp.data.batch_size = 8
    exp.model.layers = [Component("Flatten"), Component("Linear")]
    exp.training.epochs = epochs
    exp.training.device = "cpu"
    return exp.validate()


# Classes in order: big (red), blue, green. Flattened pixels: red 0-63, green 64-127, blue
# 128-191.
def _always_big() -> dict[str, torch.Tensor]:
    return {"1.weight": torch.zeros(3, 3 * SIDE * SIDE), "1.bias": torch.tensor([1.0, 0, 0])}


def _by_colour() -> dict[str, torch.Tensor]:
    w = torch.zeros(3, 3 * SIDE * SIDE)
    for cls, channel in enumerate((0, 2, 1)):
        w[cls, channel * SIDE * SIDE:(channel + 1) * SIDE * SIDE] = 1.0 / (SIDE * SIDE)
    return {"1.weight": w, "1.bias": torch.zeros(3)}


# Epoch 1 always answers "big": accuracy 20/24, balanced accuracy 1/3. Epoch 2 tells the
# colours apart: accuracy 18/24, balanced accuracy (14/20 + 1 + 1) / 3 = 0.9. Epoch 3 is
# epoch 1 again.
SCRIPT = {1: _always_big, 2: _by_colour, 3: _always_big}


class Scripted(Callback):
    """Sets the network to the epoch's scripted weights after every training step, so the
    validation pass (and the checkpoints) see exactly those."""

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        trainer.model.load_state_dict(SCRIPT[epoch]())


def _scripted_run(tmp_path, monitor, **training):
    exp = imbalanced_experiment(tmp_path / "data")
    exp.training.monitor = monitor
    for name, value in training.items():
        setattr(exp.training, name, value)
    outcome = run_training(exp, tmp_path / monitor, [Scripted()])
    assert not outcome.failed, outcome.message
    return outcome


def test_each_epoch_records_the_balanced_accuracy(tmp_path):
    outcome = _scripted_run(tmp_path, "val_acc")
    history = json.loads((outcome.run_dir / "metrics.json").read_text())["epochs"]
    assert [round(m["val_acc"], 4) for m in history] == [0.8333, 0.75, 0.8333]
    assert [round(m["val_bal_acc"], 4) for m in history] == [0.3333, 0.9, 0.3333]
    # Accuracy prefers the network that always answers the big class.
    assert read_run_info(outcome.run_dir)["best"] == {"metric": "val_acc", "value": 20 / 24,
                                                      "epoch": 1}
    assert load_checkpoint(outcome.run_dir / "checkpoints" / "best.pt").epoch == 1


def test_the_balanced_accuracy_picks_the_epoch_that_gets_every_class(tmp_path):
    outcome = _scripted_run(tmp_path, "val_bal_acc")
    best = read_run_info(outcome.run_dir)["best"]
    assert best["metric"] == "val_bal_acc" and best["epoch"] == 2
    assert best["value"] == pytest.approx(0.9)
    checkpoint = load_checkpoint(outcome.run_dir / "checkpoints" / "best.pt")
    assert checkpoint.epoch == 2
    for name, tensor in _by_colour().items():  # best.pt holds epoch 2's weights
        assert torch.equal(checkpoint.model[name], tensor), name


def test_early_stopping_on_it_keeps_the_best_and_evaluate_gives_the_same_number(
        tmp_path, capsys):
    exp = imbalanced_experiment(tmp_path / "data")
    exp.training.monitor = "val_bal_acc"
    exp.training.early_stopping, exp.training.patience = True, 1
    outcome = run_training(exp, tmp_path / "run", [Scripted()])
    assert outcome.status == "early_stopped", outcome.message
    assert "the validation balanced accuracy (val_bal_acc) did not improve" in outcome.message
    assert outcome.result.weights_epoch == 2 and outcome.result.restored_best
    kept = outcome.result.weights_metrics
    assert kept["val_bal_acc"] == pytest.approx(0.9)
    result = evaluate(outcome.bundle_path, split="val")
    assert result.macro_average()["recall"] == kept["val_bal_acc"]
    code, out, err = run_cli(capsys, "evaluate", outcome.bundle_path, "--split", "val",
                             "--json")
    assert code == 0, err
    assert json.loads(out)["macro_average"]["recall"] == kept["val_bal_acc"]
    # TensorBoard's HParams row has the kept model's and the best of any epoch.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(outcome.run_dir), size_guidance={"scalars": 0,
                                                                   "tensors": 0})
    events.Reload()
    value = {tag: events.Scalars(tag)[-1].value for tag in events.Tags()["scalars"]}
    assert value["hparam/model_val_bal_acc"] == pytest.approx(0.9)
    assert value["hparam/best_val_bal_acc"] == pytest.approx(0.9)
    [summary] = events.Tensors("summary/text_summary")
    assert "its balanced accuracy, 90.00%, is workbench evaluate's macro average recall" in \
        summary.tensor_proto.string_val[0].decode()
    # The report's saved-model line gives it too, since it picked the epoch.
    text = report_html(capsys, outcome.run_dir, tmp_path / "r.html")
    assert "The saved model holds epoch 2 (the best epoch, restored): validation accuracy " \
           "75.00%" in text and ", balanced accuracy 90.00% during training" in text


def test_the_command_line_says_it_when_it_picks_the_best_epoch(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    imbalanced_experiment(tmp_path / "data", epochs=2).save(tmp_path / "exp.json")
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "a",
                             "--set", "training.monitor=val_bal_acc")
    assert code == 0, err
    history = json.loads((tmp_path / "a" / "metrics.json").read_text())["epochs"]
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and all(m["val_bal_acc"] is not None for m in history)
    for line, m in zip(lines, history):
        assert f"val_bal_acc {100 * m['val_bal_acc']:.1f}%" in line, line
    assert "* best val_bal_acc" in lines[0]
    saved = next(line for line in out.splitlines() if "the bundle holds epoch" in line)
    assert f"val_bal_acc {100 * history[-1]['val_bal_acc']:.1f}%" in saved, saved
    # TensorBoard's epoch scalars have it next to the accuracy.
    events = EventAccumulator(str(tmp_path / "a"), size_guidance={"scalars": 0})
    events.Reload()
    assert [e.value for e in events.Scalars("accuracy/val_balanced")] == \
        [pytest.approx(m["val_bal_acc"], rel=1e-6) for m in history]
    # Not monitored: the epoch line stays as it was (metrics.json still has it).
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "b")
    assert code == 0, err
    assert "val_bal_acc" not in out
    history = json.loads((tmp_path / "b" / "metrics.json").read_text())["epochs"]
    assert all(m["val_bal_acc"] is not None for m in history)


def test_a_run_without_validation_has_none_and_cannot_monitor_it(tmp_path):
    from workbench.core.errors import SpecError
    from workbench.core.train.callbacks.early_stopping import resolve_monitor

    with pytest.raises(SpecError, match="val_bal_acc but this run has no validation split"):
        resolve_monitor("val_bal_acc", has_validation=False)
    exp = imbalanced_experiment(tmp_path / "data", epochs=1)
    exp.data.use_folder_split = False
    exp.data.val_fraction = 0.0
    outcome = run_training(exp, tmp_path / "run")
    assert not outcome.failed, outcome.message
    assert [m["val_bal_acc"] for m in outcome.result.history] == [None]


def test_a_study_ranks_its_trials_by_the_balanced_accuracy(tmp_path):
    optuna = pytest.importorskip("optuna")
    from workbench.core.tune.study import run_study

    exp = imbalanced_experiment(tmp_path / "data", epochs=1)
    space = {"format_version": 1, "sampler": "random", "seed": 0, "epochs": 1,
             "metric": "val_bal_acc",
             "params": {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1,
                                                "log": True}}}
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    summary = run_study(exp, space, trials=2, study_name="bal", storage=storage,
                        runs_parent=tmp_path / "runs")
    assert summary.metric == "val_bal_acc" and summary.direction == "maximize"
    study = optuna.load_study(study_name="bal", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    for t in study.trials:
        history = json.loads((tmp_path / "runs" / t.user_attrs["run_dir"] / "metrics.json")
                             .read_text())["epochs"]
        assert t.value == history[-1]["val_bal_acc"]


def test_under_torchrun_it_is_the_whole_validation_splits(tmp_path):
    # Each rank validates every other image; the number must be the whole split's (the
    # ranks' confusion matrices summed), not rank 0's half.
    import os
    import subprocess
    import sys

    import numpy as np

    from workbench.core.evaluate.metrics import balanced_accuracy, confusion_matrix

    exp = imbalanced_experiment(tmp_path / "data", epochs=4)
    exp.optimizer = Component("Adam", {"lr": 0.05})
    exp.save(tmp_path / "exp.json")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
         "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", "--nnodes", "1",
         "-m", "workbench", "train", str(tmp_path / "exp.json"), "--out", str(tmp_path / "run"),
         "--device", "cpu", "--set", "training.monitor=val_bal_acc"],
        env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "x 2 processes" in proc.stdout
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    result = evaluate(tmp_path / "run" / "bundle.pt", split="val")
    assert history[-1]["val_bal_acc"] == result.macro_average()["recall"]
    # The check means something: rank 0's half alone would give another number.
    half = slice(0, None, 2)
    own = confusion_matrix(result.y_true[half], np.asarray(result.y_pred)[half], 3)
    assert balanced_accuracy(own) != pytest.approx(history[-1]["val_bal_acc"])
