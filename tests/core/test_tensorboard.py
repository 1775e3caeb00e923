"""TensorBoard event files in every run folder, read back with TensorBoard's own reader."""

from __future__ import annotations

import json

import numpy as np
import pytest
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


# -- the numbers agree with the run's other surfaces ------------------------------------------
def _all_events(run_dir) -> EventAccumulator:
    ea = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0,
                                                       "tensors": 0})
    ea.Reload()
    return ea


def _summary_text(ea) -> str:
    [event] = ea.Tensors("summary/text_summary")
    return event.tensor_proto.string_val[0].decode()


def test_the_summary_is_the_kept_models_not_the_last_epochs(tmp_path, tiny_experiment):
    from PIL import Image
    import io

    from workbench.core.evaluate.evaluation import evaluate

    exp = tiny_experiment  # 8x8 colours, a small MLP: a few batches an epoch
    exp.training.epochs = 3
    # No later epoch can beat epoch 1 by 10: patience runs out at epoch 2 and the run keeps
    # epoch 1's weights (restore_best), though epoch 2 is the last trained.
    exp.training.early_stopping, exp.training.patience = True, 1
    exp.training.min_delta, exp.training.restore_best = 10.0, True
    outcome = run_training(exp, tmp_path / "run")
    assert outcome.status == "early_stopped" and outcome.result.weights_epoch == 1
    kept = json.loads((tmp_path / "run" / "run.json").read_text())["bundle"]["metrics"]
    assert kept["epoch"] == 1 and len(outcome.result.history) == 2
    ea = _all_events(tmp_path / "run")
    value = {tag: ea.Scalars(tag)[-1].value for tag in ea.Tags()["scalars"]}
    assert value["hparam/model_val_loss"] == np.float32(kept["val_loss"])
    assert value["hparam/model_val_acc"] == np.float32(kept["val_acc"])
    assert value["hparam/model_epoch"] == 1
    assert value["hparam/best_val_loss"] == np.float32(
        min(m["val_loss"] for m in outcome.result.history))
    assert not any(t.startswith("hparam/final_") for t in value)  # the last epoch's, unsaid
    assert "kept the weights of epoch 1" in _summary_text(ea)
    # The confusion matrix is the kept model's, as `workbench evaluate` finds it on the
    # validation split, and says which epoch it is.
    [image] = ea.Images("confusion/val")
    assert image.step == ea.Scalars("loss/val")[0].step  # epoch 1's step
    drawn = np.asarray(Image.open(io.BytesIO(image.encoded_image_string)).convert("RGB"))
    r = evaluate(outcome.bundle_path)
    assert r.split == "val" and r.accuracy == kept["val_acc"]
    expected = confusion_image(r.confusion.tolist(), r.classes,
                               "Validation, epoch 1: the weights the run kept")
    assert np.array_equal(drawn, expected)
    # Continued, epoch 3 does not beat it either: the run goes back to epoch 1 (best.pt),
    # an earlier session's epoch, and the summary still has its matrix (the checkpoint's).
    from workbench.core.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(tmp_path / "run")
    more = ckpt.experiment.copy()
    more.training.epochs = 4
    again = run_training(more, tmp_path / "run", checkpoint=ckpt)
    assert again.result.weights_epoch == 1 and len(again.result.history) == 3
    ea = _all_events(tmp_path / "run")
    [image] = ea.Images("confusion/val")
    drawn = np.asarray(Image.open(io.BytesIO(image.encoded_image_string)).convert("RGB"))
    assert image.step == 3 and np.array_equal(drawn, expected)
    assert "kept the weights of epoch 1" in _summary_text(ea)
    assert "the last epoch trained was 3" in _summary_text(ea)


def test_norms_are_written_at_the_steps_metrics_json_gives_them(tmp_path, tiny_experiment):
    run_training(tiny_experiment, tmp_path / "run", norm_interval=1)  # 2 epochs
    norms = json.loads((tmp_path / "run" / "metrics.json").read_text())["norms"]
    ea = _all_events(tmp_path / "run")
    for i, name in enumerate(norms[0]["names"]):  # metrics.json keeps 6 decimals
        for tag, which in (("grad_norm", 1), ("weight_norm", 2)):
            expected = [(s[0], s[which][i]) for e in norms for s in e["samples"]]
            assert expected[0][0] == 1  # the first step's sample is there too
            written = [(e.step, e.value) for e in ea.Scalars(f"{tag}/{name}")]
            assert [s for s, _ in written] == [s for s, _ in expected]
            assert [v for _, v in written] == pytest.approx([v for _, v in expected],
                                                            abs=1e-6)


@pytest.mark.parametrize("end", ["stopped", "failed"])
def test_a_stopped_and_continued_run_shows_each_step_once_and_one_summary(tmp_path, end,
                                                                          tiny_experiment):
    import threading

    from tensorboard.backend.event_processing import plugin_event_accumulator
    from tensorboard.plugins.hparams import metadata

    from workbench.core.runs.batches import read_batches
    from workbench.core.train.callbacks.base import Callback
    from workbench.core.train.checkpoint import load_checkpoint

    stop = threading.Event()

    class EndInEpoch2(Callback):  # stopped, or a failure (as a killed process would end)
        def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
            if (epoch, batch) == (2, 2):
                if end == "failed":
                    raise RuntimeError("the machine went down")
                stop.set()

    run = tmp_path / "run"
    first = run_training(tiny_experiment, run, [EndInEpoch2()], stop_event=stop)  # 2 epochs
    assert first.status == end and first.epochs_done == 1
    if end == "stopped":  # the dropped epoch's two batches are not shown
        assert [e.step for e in _all_events(run).Scalars("loss/train_batch")] == [1, 2, 3]
    ckpt = load_checkpoint(run)
    exp = ckpt.experiment.copy()
    exp.training.epochs = 3  # Continue, with one more epoch
    assert run_training(exp, run, checkpoint=ckpt).status == "finished"
    ea = _all_events(run)
    steps = [e.step for e in ea.Scalars("loss/train_batch")]
    assert steps == list(range(1, 10))  # each once, 4 and 5 from the continued session
    kept = [loss for e in read_batches(run) for loss in e["loss"]]  # metrics.json's
    assert [e.value for e in ea.Scalars("loss/train_batch")] == pytest.approx(kept, abs=1e-6)
    # One summary: the run's end, with the hyperparameters it ended with.
    assert [e.step for e in ea.Scalars("hparam/model_epoch")] == [9]
    assert len(ea.Images("confusion/val")) == 1
    hp = plugin_event_accumulator.EventAccumulator(str(run), size_guidance={"tensors": 0})
    hp.Reload()
    assert len(hp.Tensors(metadata.SESSION_START_INFO_TAG)) == 1
    info = metadata.parse_session_start_info_plugin_data(
        hp.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content)
    assert info.hparams["epochs"].number_value == 3
