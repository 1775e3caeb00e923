"""The learning-rate finder: the sweep, its stopping rules, the suggestion, and that it
leaves the network, optimizer and random generators exactly as it found them."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.lr_find import find_lr, set_lr, suggest, sweep_lr, write_lr
from workbench.core.train.trainer import Trainer


@pytest.fixture
def noise_experiment(tmp_path, tiny_experiment):
    """Two classes of random-noise images: a net memorises them, then SGD at a huge rate
    makes the loss explode (the colour set is too easy to ever diverge)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / "noise" / c).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
                tmp_path / "noise" / c / f"{i}.png")
    exp = tiny_experiment.copy()
    exp.data.folder = str(tmp_path / "noise")
    exp.optimizer = Component("SGD", {"lr": 0.01})
    return exp.validate()


def _set_up(exp: Experiment) -> Trainer:
    trainer = Trainer(exp)
    trainer._setup()
    return trainer


def _snapshot(trainer: Trainer) -> tuple[dict, dict]:
    return ({k: v.clone() for k, v in trainer.model.state_dict().items()},
            json.loads(json.dumps(trainer.optimizer.state_dict(), default=lambda t: t.tolist())))


def test_sweep_restores_weights_bn_buffers_optimizer_and_rng(tiny_experiment):
    exp = tiny_experiment.copy()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("BatchNorm1d"), Component("ReLU"), Component("Dropout"),
                        Component("Linear")]
    exp.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.9})
    trainer = _set_up(exp.validate())
    trainer._run_epoch(1, train=True)  # a non-empty optimizer state (momentum buffers)
    assert trainer.optimizer.state
    model_before, optim_before = _snapshot(trainer)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    expected_draws = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1), np.random.seed(1), torch.manual_seed(1)

    result = sweep_lr(trainer, num_steps=20)

    assert len(result.lrs) > 5
    after = trainer.model.state_dict()
    assert after.keys() == model_before.keys()
    for k, v in model_before.items():  # weights and running_mean/var/num_batches_tracked
        assert torch.equal(after[k], v), k
    assert _snapshot(trainer)[1] == optim_before  # momentum buffers and every group's lr
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected_draws


def test_find_lr_leaves_the_global_rng_alone(tiny_experiment):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    find_lr(tiny_experiment, num_steps=10)
    assert torch.equal(torch.rand(3), expected)


def test_rates_are_exponential_within_bounds_and_cycle_the_loader(tiny_experiment):
    # 21 training images at batch size 8: 3 batches, so 25 steps cycle the loader.
    result = find_lr(tiny_experiment, start_lr=1e-5, end_lr=1.0, num_steps=25)
    assert not result.stopped_early and len(result.lrs) == 25
    assert result.lrs[0] == pytest.approx(1e-5) and result.lrs[-1] == pytest.approx(1.0)
    ratios = np.diff(np.log(result.lrs))
    assert np.allclose(ratios, ratios[0]) and ratios[0] > 0
    assert len(result.losses) == len(result.smoothed) == 25
    assert all(math.isfinite(v) for v in result.losses + result.smoothed)


def test_a_scaled_parameter_group_keeps_its_ratio(tiny_experiment):
    trainer = _set_up(tiny_experiment)
    # A second group at a tenth of the rate, as a fine-tuned backbone gets.
    params = trainer.optimizer.param_groups[0]["params"]
    trainer.optimizer.param_groups[0]["params"] = params[:2]
    trainer.optimizer.add_param_group({"params": params[2:], "lr": 0.001})
    seen = []
    real_step = trainer.optimizer.step

    def step(*a, **k):
        seen.append([g["lr"] for g in trainer.optimizer.param_groups])
        return real_step(*a, **k)

    trainer.optimizer.step = step
    sweep_lr(trainer, start_lr=1e-4, end_lr=1e-1, num_steps=10)
    assert seen and all(b == pytest.approx(a / 10) for a, b in seen)
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [0.01, 0.001]  # restored


def test_suggestion_is_inside_the_range_and_below_divergence(noise_experiment):
    result = find_lr(noise_experiment, start_lr=1e-3, end_lr=1e6, num_steps=30,
                     smoothing=0.8)
    assert result.stopped_early and result.diverged_lr is not None
    assert "diverged" in result.reason
    assert len(result.lrs) < 30 and result.lrs[-1] == result.diverged_lr
    assert result.suggested_lr is not None
    assert 1e-3 <= result.suggested_lr < result.diverged_lr
    assert result.suggested_lr in result.lrs


def test_suggestion_on_the_learnable_colour_set(tiny_experiment):
    result = find_lr(tiny_experiment, start_lr=1e-5, end_lr=10.0, num_steps=30)
    assert result.suggested_lr is not None and 1e-5 <= result.suggested_lr <= 10.0
    i = result.lrs.index(result.suggested_lr)
    assert result.smoothed[-1] < result.smoothed[i]  # the loss still fell after it
    assert "suggested" in result.reason


def test_a_nan_loss_ends_the_sweep_without_raising(tiny_experiment):
    trainer = _set_up(tiny_experiment)
    real_loss, calls = trainer.loss_fn, []

    def loss_fn(logits, target):
        calls.append(1)
        loss = real_loss(logits, target)
        return loss * float("nan") if len(calls) == 8 else loss

    trainer.loss_fn = loss_fn
    before, _ = _snapshot(trainer)
    result = sweep_lr(trainer, start_lr=1e-4, end_lr=1.0, num_steps=20)
    assert result.stopped_early and "nan" in result.reason
    assert len(result.lrs) == 7 and result.diverged_lr == pytest.approx(
        1e-4 * 1e4 ** (7 / 19))
    assert all(math.isfinite(v) for v in result.losses)
    for k, v in before.items():
        assert torch.equal(trainer.model.state_dict()[k], v)


def test_a_stop_request_ends_the_sweep(tiny_experiment):
    trainer = _set_up(tiny_experiment)
    stops_at = 5

    def progress(step, total, lr, loss):
        assert total == 20 and lr > 0 and math.isfinite(loss)
        if step == stops_at:
            trainer.request_stop()

    result = sweep_lr(trainer, num_steps=20, progress=progress)
    assert result.stopped_early and "stopped" in result.reason
    assert len(result.lrs) == stops_at


def test_no_suggestion_when_the_curve_never_falls():
    lrs = list(np.logspace(-5, 0, 20))
    lr, why = suggest(lrs, [1.0 + i for i in range(20)])
    assert lr is None and "never fell" in why
    # For a person, in the app or on the command line: no parameter names (start_lr).
    assert "start_lr" not in why and "Model doctor" in why and "--start" in why
    lr, why = suggest(lrs, [5.0] * 20)  # flat: it never fell below its start either
    assert lr is None and "start_lr" not in why and "never fell" in why
    lr, why = suggest(lrs[:3], [3.0, 2.0, 1.0])
    assert lr is None and "too few" in why and "--steps" in why


def test_the_suggestion_is_the_lower_of_the_steepest_fall_and_a_tenth_of_the_lowest():
    lrs = list(np.logspace(-5, 0, 20))  # 3.8 steps a decade
    # A sharp drop just before the minimum (the shape of a smoothed curve that lags): the
    # steepest fall leads into step 12, where the loss is lowest, so a tenth of that wins.
    lr, why = suggest(lrs, [10.0 - i * 0.1 if i != 12 else 5.0 for i in range(20)])
    assert lr == lrs[8] and lr == pytest.approx(lrs[12] / 10, rel=0.2)
    assert "a tenth of" in why and f"{lrs[12]:.3g}" in why
    # An early fall, then a long flat valley: the steepest fall is the lower rate.
    curve = [5.0, 5.0, 5.0, 4.0, 1.0] + [0.9 - 0.001 * i for i in range(15)]
    lr, why = suggest(lrs, curve)
    assert lr == lrs[3] and "falls fastest" in why


@pytest.mark.parametrize("kwargs, field", [
    ({"start_lr": 0.0}, "start_lr"), ({"end_lr": 1e-8}, "end_lr"),
    ({"num_steps": 1}, "num_steps"), ({"smoothing": 1.0}, "smoothing"),
    ({"diverge_factor": 1.0}, "diverge_factor")])
def test_bad_settings_name_the_argument(tiny_experiment, kwargs, field):
    with pytest.raises(SpecError) as e:
        find_lr(tiny_experiment, **kwargs)
    assert e.value.field == field


def test_write_lr_round_trips_and_rejects_bad_rates(tmp_path, tiny_experiment):
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    write_lr(path, 0.0123)
    loaded = Experiment.load(path)
    assert loaded.optimizer.params["lr"] == 0.0123
    loaded.optimizer.params["lr"] = 0.01
    assert loaded.to_dict() == tiny_experiment.to_dict()  # nothing else changed
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(SpecError, match="optimizer.params.lr"):
            write_lr(path, bad)
    assert Experiment.load(path).optimizer.params["lr"] == 0.0123  # left unchanged
    exp = tiny_experiment.copy()
    assert set_lr(exp, 0.5) is exp and exp.optimizer.params["lr"] == 0.5


def test_lr_find_out_of_memory_names_the_batch_size_as_training_does(capsys, tmp_path,
                                                                     tiny_experiment,
                                                                     monkeypatch):
    """The sweep is the training loop: device memory running out is reported as in
    training (the batch size, and half of it to try), not as a bug."""
    from workbench import cli

    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError

    def hungry(self, x, target):
        raise oom("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "forward_loss", hungry)
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code = cli.main(["lr-find", str(exp_file), "--steps", "10"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "ran out of memory at batch size 8" in err and "Try batch size 4" in err
    assert "bug" not in err
