"""The training doctor on a live run: a loss that explodes without ever being NaN ends the
run as diverged, naming the learning rate, instead of finishing as a "success"."""

from __future__ import annotations

import json
import math

import pytest

from helpers import make_digits, make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.core.train.callbacks.doctor import (EXPLODED_FACTOR, SUSTAINED_BATCHES,
                                                   ExplodingLoss)
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training


def test_the_line_is_far_above_guessing_and_only_a_sustained_excess_counts():
    check = ExplodingLoss(10)
    assert check.limit == pytest.approx(EXPLODED_FACTOR * math.log(10))
    assert ExplodingLoss(2).limit < check.limit  # the scale of a sane loss: ln(classes)
    healthy = [2.4, 2.1, 1.7, 5.0, 30.0, 1.2, 0.4]  # a bad start and an outlier included
    assert not any(check.batch(v) for v in healthy)
    spikes = [1e6] * (SUSTAINED_BATCHES - 1) + [1.0] + [1e6] * (SUSTAINED_BATCHES - 1)
    assert not any(check.batch(v) for v in spikes)  # interrupted: not yet
    assert [check.batch(v) for v in [1e6] * SUSTAINED_BATCHES][-1]
    assert check.epoch(1e4) and not check.epoch(3.0)
    text = check.message(1.5e10, 1, 7, 10.0)
    assert "1.5e+10" in text and "batch 7 of epoch 1" in text
    # The rate and the way forward are the doctor's diverged finding's, said once.
    assert "learning rate (10)" in text and "lower it" in text and "start again" not in text


def _experiment(tmp_path, optimizer: Component) -> Experiment:
    exp = Experiment(name="digits-like")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=20, size=16)
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 8
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.optimizer = optimizer
    exp.training.epochs = 3
    exp.training.device = "cpu"
    return exp.validate()


@pytest.mark.parametrize("optimizer", [Component("Adam", {"lr": 10.0}),
                                       Component("SGD", {"lr": 10.0, "momentum": 0.9})])
def test_a_learning_rate_far_too_large_ends_the_run_as_diverged(tmp_path, optimizer):
    # Measured before this check: the loss reached 1e9-1e11 and never NaN; the run finished
    # with a bundle and every epoch marked best.
    outcome = run_training(_experiment(tmp_path, optimizer), tmp_path / "run")
    assert outcome.status == "diverged"
    assert "exploded" in outcome.message and "learning rate (10)" in outcome.message
    assert math.isfinite(outcome.error.value)  # a number: no NaN ended it
    assert outcome.bundle_path is None and not (tmp_path / "run" / "bundle.pt").exists()


def test_the_batch_the_divergence_names_is_plotted_and_logged(tmp_path):
    """The learner's report: "exploded to 6.02e+08 at batch 4", while the loss plot and
    TensorBoard had batches 1 to 3 only: the batch that ended the run was never shown."""
    import re

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from workbench.core.train.trainer import Callback

    class Plot(Callback):  # what the Train tab's loss-per-batch plot hears
        def __init__(self):
            self.batches, self.per_epoch = [], 0

        def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
            self.batches.append(((epoch - 1) * num_batches + batch, loss))
            self.per_epoch = num_batches

    plot = Plot()
    outcome = run_training(_experiment(tmp_path, Component("Adam", {"lr": 10.0})),
                           tmp_path / "run", [plot])
    assert outcome.status == "diverged"
    value, batch, epoch = re.search(r"exploded to (\S+) at batch (\d+) of epoch (\d+)",
                                    outcome.message).groups()
    step = (int(epoch) - 1) * plot.per_epoch + int(batch)
    assert plot.batches[-1] == (step, outcome.error.value)
    assert f"{plot.batches[-1][1]:.3g}" == value
    ea = EventAccumulator(str(tmp_path / "run"), size_guidance={"scalars": 0})
    ea.Reload()
    last = ea.Scalars("loss/train_batch")[-1]
    assert last.step == step and f"{last.value:.3g}" == value  # (a float32 in the file)


def test_a_validation_loss_that_explodes_ends_the_run_and_keeps_only_sane_epochs(
        tmp_path, monkeypatch):
    # Measured in the app: Adam lr 10 on cnn-bn trained at a loss of 31.6 (under the
    # training limit) while the validation loss was 1.2e6 and 3.4e5; the run went on and
    # kept those epochs as its "last good" checkpoint, from which Continue diverged again.
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def wrecked(self, x, target):  # from epoch 2 on: training about 40, validation 1e6x
        logits, loss = real(self, x, target)
        if self.epochs_done >= 1:
            loss = loss + 40.0 if self.model.training else loss * 1e6 + 1e3
        return logits, loss

    monkeypatch.setattr(Trainer, "forward_loss", wrecked)
    exp = _experiment(tmp_path, Component("Adam", {"lr": 1e-3}))
    outcome = run_training(exp, tmp_path / "run")
    assert outcome.status == "diverged"
    assert "validation loss exploded" in outcome.message and "epoch 2" in outcome.message
    assert outcome.epochs_done == 1  # epoch 2 is not kept: the checkpoint is epoch 1's
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt").epoch == 1
    assert outcome.bundle_path is None


def test_a_huge_validation_loss_with_a_sane_training_loss_is_not_a_divergence(
        tmp_path, monkeypatch):
    # BatchNorm's running statistics after a few batches of a small set (measured: resnet18
    # from random weights on 24 images, validation 593-630 with training 1.7): a run to let
    # go on, its validation loss falling as the statistics settle. Only a network with
    # BatchNorm has that excuse (see the test after this one).
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def eval_only(self, x, target):
        logits, loss = real(self, x, target)
        return logits, (loss * 1e3 if not self.model.training else loss)

    monkeypatch.setattr(Trainer, "forward_loss", eval_only)
    exp = _experiment(tmp_path, Component("Adam", {"lr": 1e-3}))
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "finished" and outcome.epochs_done == 3


def test_the_command_line_exits_with_3_and_a_healthy_run_is_left_alone(capsys, tmp_path):
    bad = _experiment(tmp_path, Component("Adam", {"lr": 10.0}))
    bad.save(tmp_path / "bad.json")
    code, _, err = run_cli(capsys, "train", tmp_path / "bad.json", "--out", tmp_path / "bad")
    assert code == 3
    assert "exploded" in err and "learning rate (10)" in err and "Traceback" not in err
    assert not (tmp_path / "bad" / "bundle.pt").exists()

    good = bad.copy()
    good.optimizer = Component("Adam", {"lr": 1e-3})
    good.save(tmp_path / "good.json")
    code, out, err = run_cli(capsys, "train", tmp_path / "good.json", "--out",
                             tmp_path / "good")
    assert code == 0, err
    assert json.loads((tmp_path / "good" / "run.json").read_text())["status"] == "finished"


# -- the doctor on whole runs a user would recognise (digits: 10 classes, 16 px) ----------
@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return make_digits(tmp_path_factory.mktemp("digits"), per_class=100)


def _digits_experiment(folder, epochs=8, lr=1e-3) -> Experiment:
    exp = Experiment(name="digits")
    exp.data.folder = folder
    exp.data.input_size, exp.data.channels = [16, 16], 1
    exp.data.mean, exp.data.std = [0.2], [0.3]
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    exp.augment.transforms = []
    exp.optimizer = Component("Adam", {"lr": lr})
    exp.training.epochs = epochs
    exp.training.device = "cpu"
    return exp.validate()


def _findings(run_dir):
    return json.loads((run_dir / "run.json").read_text()).get("findings")


def test_a_healthy_digits_run_gets_no_warning(digits, tmp_path):
    outcome = run_training(_digits_experiment(digits), tmp_path / "run")
    assert outcome.status == "finished"
    assert outcome.result.history[-1]["val_acc"] > 0.9  # it did learn
    assert [f for f in outcome.result.findings if f["severity"] != "info"] == []
    assert _findings(tmp_path / "run") == outcome.result.findings


def test_adam_lr_10_on_the_digits_stops_as_diverged_naming_the_rate(digits, capsys, tmp_path):
    _digits_experiment(digits, lr=10.0).save(tmp_path / "exp.json")
    (tmp_path / "run").mkdir()  # a folder of the user's: kept, with run.json saying why
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run")
    assert code == 3, err
    lines = [ln for ln in out.splitlines() if ln.startswith("doctor:")]
    (diverged,) = [f for f in _findings(tmp_path / "run") if f["kind"] == "diverged"]
    assert diverged["severity"] == "error" and diverged["epoch"] == 1
    assert not (tmp_path / "run" / "bundle.pt").exists()
    # The LR finder proposes a rate for this network and data, and the finding takes it:
    # the finding's line comes last, with that rate alone.
    (suggestion,) = [ln for ln in out.splitlines() if "the LR finder suggests" in ln]
    lr = float(suggestion.rsplit("--lr ", 1)[1].rstrip(")"))
    assert 1e-5 <= lr <= 1.0
    assert lines[-1].startswith("doctor: diverged at epoch 1 (error)")
    assert "learning rate (10)" in lines[-1] and f"--lr {lr:g}" in lines[-1]
    assert "--lr 0.001" not in out or lr == 0.001
    assert diverged["action"]["set"] == {"optimizer.params.lr": lr}
    assert f"--lr {lr:g}" in diverged["fix"] and "from the start" in diverged["fix"]
    # And the rate it proposes trains the network (the steepest fall alone, 0.026, did not).
    retry = run_training(_digits_experiment(digits, lr=lr), tmp_path / "retry")
    assert retry.result.history[-1]["val_acc"] > 0.8, retry.result.history
    assert [f for f in retry.result.findings if f["severity"] != "info"] == []


def test_shuffled_labels_get_not_learning_once(tmp_path):
    folder = make_digits(tmp_path / "shuffled", per_class=100, shuffle_labels=True)
    outcome = run_training(_digits_experiment(folder), tmp_path / "run")
    kinds = [f["kind"] for f in outcome.result.findings]
    assert kinds.count("not_learning") == 1, kinds
    (f,) = [f for f in outcome.result.findings if f["kind"] == "not_learning"]
    assert f["epoch"] == 3 and "labels" in f["message"]
    assert _findings(tmp_path / "run") == outcome.result.findings


def test_sixty_images_for_forty_epochs_get_overfitting(tmp_path):
    folder = make_digits(tmp_path / "few", per_class=8)  # 64 for training, 16 to validate
    outcome = run_training(_digits_experiment(folder, epochs=40), tmp_path / "run")
    said = [f for f in outcome.result.findings if f["kind"] == "overfitting"]
    f = said[-1]  # any before it withdrawn: the validation loss reached a new best after it
    assert not f["resolved"] and all("reached a new best" in g["resolved"] for g in said[:-1])
    assert 5 < f["epoch"] < 40 and "best validation loss so far was at epoch" in f["message"]
    assert f["action"]["set"] == {"training.early_stopping": True}


def test_a_resumed_run_keeps_its_findings_and_repeats_none(digits, capsys, tmp_path):
    exp = _digits_experiment(digits, epochs=3, lr=1e-6)  # far too small: nothing moves
    first = run_training(exp, tmp_path / "run")
    assert [f["kind"] for f in first.result.findings] == ["lr_too_low", "not_learning"]
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert ckpt.callbacks["doctor"]["findings"] == first.result.findings
    code, out, err = run_cli(capsys, "resume", tmp_path / "run", "--epochs", "5")
    assert code == 0, err
    assert "doctor:" not in out  # said once, in the first segment
    assert _findings(tmp_path / "run") == first.result.findings


def test_a_deep_sigmoid_stack_gets_vanishing_gradients_and_not_learning_says_why(tmp_path):
    folder = make_digits(tmp_path / "d", per_class=30)
    exp = _digits_experiment(folder, epochs=3, lr=0.01)
    layers = [Component("Flatten", {})]
    for _ in range(10):
        layers += [Component("Linear", {"out_features": 64}), Component("Sigmoid", {})]
    exp.model.layers, exp.model.preset = [*layers, Component("Linear", {"out_features": 10})], None
    exp.optimizer = Component("SGD", {"lr": 0.01})
    outcome = run_training(exp.validate(), tmp_path / "run")
    found = {f["kind"]: f for f in outcome.result.findings}
    assert found["vanishing_gradients"]["epoch"] == 1  # measured: 4e-9 of the last layer's
    assert "Linear" in found["vanishing_gradients"]["message"]
    assert "vanishing" in found["not_learning"]["message"]


def test_the_lr_finder_after_a_divergence_is_not_run_beyond_its_budget(tmp_path):
    from workbench.core.train.doctor.suggest import lr_after_divergence

    exp = _experiment(tmp_path, Component("Adam", {"lr": 10.0}))
    before = {"kind": "diverged", "fix": "use a learning rate of 0.001 (--lr 0.001)",
              "action": None}
    findings = [dict(before)]
    lr, text = lr_after_divergence(exp, findings, budget_s=1e-6, finder="the finder button")
    assert lr is None and "would take about" in text and "(the finder button)" in text
    assert findings == [before]  # the first proposal stands


def test_the_lr_finders_budget_leaves_out_the_setup_before_its_first_step(tmp_path,
                                                                         monkeypatch):
    """Building the network and data took 50 s (a slow disk, a cold cache); the sweep's
    steps take 0.01 s each: it runs, its setup is not projected onto its 100 steps."""
    from types import SimpleNamespace

    from workbench.core.train.doctor import suggest

    clock = [0.0]
    monkeypatch.setattr(suggest, "time", SimpleNamespace(perf_counter=lambda: clock[0]))

    def find_lr(experiment, num_steps, progress, stop_event, index):
        clock[0] += 50.0  # the setup, before the first step
        for step in range(1, num_steps + 1):
            clock[0] += 0.01
            progress(step, num_steps, 1e-3, 1.0)
            if stop_event.is_set():
                break
        return SimpleNamespace(suggested_lr=1e-3, reason="")

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", find_lr)
    exp = _experiment(tmp_path, Component("Adam", {"lr": 10.0}))
    findings = [{"kind": "diverged", "epoch": 1, "fix": "use 0.001 (--lr 0.001)",
                 "action": None}]
    lr, text = suggest.lr_after_divergence(exp, findings, budget_s=60.0)
    assert lr == 1e-3 and "would take" not in text
    assert text == "the LR finder suggests a learning rate of 0.001 (--lr 0.001)"
