"""The learning-rate finder: an exponential sweep of the learning rate over training batches.

The sweep trains for ``num_steps`` batches, raising every parameter group's learning rate
geometrically from ``start_lr`` to ``end_lr`` (keeping the groups' ratios, e.g. a fine-tuned
backbone's scaled rate), and records the loss at each rate. It stops early when the
smoothed loss blows up or the loss stops being finite. Afterwards the network's weights and
buffers, the optimizer's state and the global random-number generators are put back as they
were, so the sweep leaves no trace on a run it is made for.

:func:`find_lr` is the ordinary training loop (:meth:`Trainer.fit
<workbench.core.train.trainer.Trainer.fit>`) with the
:class:`~workbench.core.train.callbacks.lr_finder.LRFinder` callback setting each batch's
rate; :func:`sweep_lr` drives the same callback's steps on a trainer already set up.

The suggested rate is the lower of two of fastai's ``lr_find`` rules: where the smoothed loss
falls fastest against ``log10(lr)`` (Leslie Smith's LR range test), and a tenth of the rate
where it is lowest. The steepest fall alone misleads: the smoothed curve lags the raw one by tens of
steps, so its steepest fall often sits just below divergence. Measured on five networks
and optimizers on 16-32 px digits (6 epochs at the suggested rate), the steepest fall
alone trained worst every time (one run diverged, two killed their ReLUs): 10-36%
validation accuracy, against 21-71% for the lower of the two (and 11-70% for the
optimizers' default rates). It is a starting point, not an optimum.
"""

from __future__ import annotations

import copy
import math
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.train.callbacks.lr_finder import LRFinder, Progress

# The first points of the curve are dominated by the smoothing's warm-up and by noise;
# a slope there says little about the rate (fastai skips the first 10 of 100 likewise).
_SKIP_START_FRACTION = 0.1


@dataclass
class LRFindResult:
    """What a sweep measured.

    Attributes
    ----------
    lrs, losses, smoothed
        The learning rate of each step, the batch loss at it and the bias-corrected
        exponential moving average of the losses (all finite; a step whose loss was NaN
        or infinite is not recorded).
    suggested_lr
        The suggested rate (see :func:`suggest`), one of ``lrs``, or None (``reason`` says
        why).
    stopped_early
        True when the sweep ended before ``num_steps`` (divergence, a non-finite loss, or
        a stop request).
    reason
        One or two sentences for a person: how the sweep ended and how the suggestion was
        chosen (or why there is none).
    diverged_lr
        The rate at which the loss diverged or became non-finite, or None.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_lr: float | None
    stopped_early: bool
    reason: str
    diverged_lr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready summary the CLI's ``--json`` prints."""
        return {"lrs": list(self.lrs), "losses": list(self.losses),
                "smoothed": list(self.smoothed), "suggested_lr": self.suggested_lr,
                "reason": self.reason}

    def table(self, rows: int = 15, width: int = 30) -> str:
        """About ``rows`` evenly spaced points of the sweep as text (lr, loss, smoothed),
        with a bar of the smoothed loss (longer is higher) and the suggested rate marked."""
        lrs, smoothed = self.lrs, self.smoothed
        if not lrs:
            return "no points recorded"
        picks = {round(i * (len(lrs) - 1) / max(rows - 1, 1)) for i in range(rows)}
        if self.suggested_lr in lrs:
            picks.add(lrs.index(self.suggested_lr))
        low, high = min(smoothed), max(smoothed)
        span = (high - low) or 1.0
        lines = [f"{'lr':>10}  {'loss':>10}  {'smoothed':>10}"]
        for i in sorted(picks):
            bar = "#" * (1 + round((width - 1) * (smoothed[i] - low) / span))
            mark = "  <- suggested" if lrs[i] == self.suggested_lr else ""
            lines.append(f"{lrs[i]:10.3g}  {self.losses[i]:10.4g}  {smoothed[i]:10.4g}  "
                         f"{bar}{mark}")
        return "\n".join(lines)


def find_lr(experiment: Experiment, start_lr: float = 1e-7, end_lr: float = 10.0,
            num_steps: int = 100, smoothing: float = 0.98, diverge_factor: float = 4.0,
            progress: Progress | None = None, stop_event: threading.Event | None = None,
            index: Any = None) -> LRFindResult:
    """Sweep the learning rate for ``experiment`` and suggest one.

    Runs the ordinary :class:`~workbench.core.train.trainer.Trainer` (same network,
    initialisation, optimizer, loss, data pipelines and device) with an
    :class:`~workbench.core.train.callbacks.lr_finder.LRFinder`: one optimizer step a
    batch, no validation pass, nothing written. The caller's ``experiment`` is not
    modified; use
    :func:`set_lr` or :func:`write_lr` to adopt the suggestion.

    Parameters
    ----------
    experiment
        The experiment to sweep (copied).
    start_lr, end_lr
        The first and last learning rate of the sweep (``0 < start_lr < end_lr``).
    num_steps
        Batches to train, one per rate; the training loader is cycled when it has fewer.
    smoothing
        Weight of the past in the loss's exponential moving average, in ``[0, 1)``.
    diverge_factor
        Stop once the smoothed loss exceeds this multiple of its best value (``> 1``).
    progress
        Called after each step with ``(step, num_steps, lr, smoothed_loss)``.
    stop_event
        Set it to end the sweep at the next batch; the points so far are returned.
    index
        An already scanned dataset index of the experiment's folder, to skip rescanning.

    Returns
    -------
    LRFindResult

    Raises
    ------
    WorkbenchError
        For bad sweep settings (a :class:`SpecError` naming the argument) and anything the
        user can fix in the experiment or dataset. A NaN or infinite loss is *not* an
        error: the sweep stops and the result says so.
    """
    from workbench.core.train.trainer import Trainer, TrainingDiverged

    _check_settings(start_lr, end_lr, num_steps, smoothing, diverge_factor)
    finder = LRFinder(start_lr, end_lr, num_steps, smoothing, diverge_factor, progress,
                      stop_event)
    exp = experiment.copy()
    # The ordinary loop, stepping at every batch for as many epochs as the steps need (an
    # epoch gives at least one, or the finder ends the run), with nothing but the finder
    # ending it early.
    exp.training.epochs = min(num_steps, 100000)
    exp.training.early_stopping = False
    exp.training.accumulate = 1
    rng = _rng_state()  # the trainer's setup seeds the global generators
    try:
        Trainer(exp, [finder], index=index).fit()
    except TrainingDiverged as e:  # a NaN or infinite loss ends the sweep, not an error
        finder.not_finite(e.value)
    finally:
        _set_rng_state(rng)
    return _result(finder)


def sweep_lr(trainer: Any, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
             smoothing: float = 0.98, diverge_factor: float = 4.0,
             progress: Progress | None = None) -> LRFindResult:
    """Run the sweep on a trainer that is already set up, then restore it.

    ``trainer`` needs the attributes its setup creates (model, optimizer, loss, train
    loader, pipelines), e.g. a run mid-way; its stop event ends the sweep early. The steps
    are the trainer's own and the sweep :class:`LRFinder`'s, as in :func:`find_lr`. The model's
    parameters and buffers (e.g. BatchNorm running statistics), its train/eval mode, the
    optimizer's state and learning rates, the AMP grad scaler and the global random-number
    generators are restored bit for bit afterwards, also when the sweep raises.

    Parameters and result as for :func:`find_lr`.
    """
    _check_settings(start_lr, end_lr, num_steps, smoothing, diverge_factor)
    model, optimizer = trainer.model, trainer.optimizer
    # Deep copies: state_dict() returns views of the live tensors, which training mutates.
    saved_model = copy.deepcopy(model.state_dict())
    saved_optim = copy.deepcopy(optimizer.state_dict())
    scaler = getattr(trainer, "_scaler", None)
    saved_scaler = copy.deepcopy(scaler.state_dict()) if scaler is not None else None
    was_training = model.training
    rng = _rng_state()
    try:
        return _sweep(trainer, start_lr, end_lr, num_steps, smoothing, diverge_factor,
                      progress)
    finally:
        model.load_state_dict(saved_model)  # copies into the same tensors: ties survive
        optimizer.load_state_dict(saved_optim)
        if scaler is not None:
            scaler.load_state_dict(saved_scaler)
        optimizer.zero_grad(set_to_none=True)
        model.train(was_training)
        _set_rng_state(rng)


def set_lr(experiment: Experiment, lr: float) -> Experiment:
    """Set ``experiment``'s optimizer learning rate in place (validated) and return it.

    Raises
    ------
    SpecError
        When ``lr`` is not a positive finite number or is outside the optimizer's bounds.
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) \
            or lr <= 0:
        raise SpecError("optimizer.params.lr", f"expected a positive finite number, got {lr!r}")
    trial = experiment.copy()
    trial.optimizer.params["lr"] = float(lr)
    Experiment.from_dict(trial.to_dict())  # range checks of the optimizer's declaration
    experiment.optimizer.params["lr"] = float(lr)
    return experiment


def write_lr(experiment_path: str | Path, lr: float) -> Experiment:
    """Set the learning rate in an experiment JSON file (written atomically).

    Returns the updated :class:`Experiment`. Raises :class:`SpecError` for a file that
    cannot be read or a rate that is not valid; the file is then left unchanged.
    """
    exp = set_lr(Experiment.load(experiment_path), lr)
    exp.save(experiment_path, keep_relative_folder=True)
    return exp


# -- the sweep ----------------------------------------------------------------------------
def _sweep(trainer: Any, start_lr: float, end_lr: float, num_steps: int, smoothing: float,
           diverge_factor: float, progress: Progress | None) -> LRFindResult:
    finder = LRFinder(start_lr, end_lr, num_steps, smoothing, diverge_factor, progress,
                      trainer.stop_event)
    finder.begin(trainer.optimizer)
    trainer.model.train()
    batches = _cycle(trainer)
    while not finder.done and not finder.stop_requested():
        finder.set_lr()
        x, y = next(batches)
        loss = _train_step(trainer, x, y)
        if math.isfinite(loss):
            finder.record(loss)
        else:
            finder.not_finite(loss)
    return _result(finder)


def _result(finder: LRFinder) -> LRFindResult:
    suggested, why = suggest(finder.lrs, finder.smoothed)
    return LRFindResult(finder.lrs, finder.losses, finder.smoothed, suggested,
                        finder.stopped, f"{finder.ending}; {why}", finder.diverged_lr)


#: Why there is no suggestion when the loss never fell: for an app user and a command-line
#: user alike (the sweep's first rate is "Start lr" in the app, ``--start`` on the CLI).
_NEVER_FELL = ("the loss never fell during the sweep, so no rate is suggested: the network "
               "or the data may be at fault (see the Model doctor), or the sweep started too "
               "high (a lower Start lr in the app, workbench lr-find --start)")


def suggest(lrs: list[float], smoothed: list[float]) -> tuple[float | None, str]:
    """The suggested rate (one of ``lrs``), and why.

    The lower of the steepest fall of ``smoothed`` against ``log10(lr)`` and the recorded
    rate nearest (in log scale) to a tenth of the rate where ``smoothed`` is lowest. Only
    the points up to the curve's minimum count for the slope (past it the loss rises
    towards divergence), and the first tenth is skipped (the smoothing's warm-up). Returns
    ``(None, reason)`` when there are too few points or the curve never falls.
    """
    n = len(smoothed)
    if n < 5:
        return None, (f"too few points ({n}) for a suggestion: sweep more steps, or start "
                      f"at a lower rate (the sweep's Steps and Start lr in the app, --steps "
                      f"and --start of workbench lr-find)")
    y = np.asarray(smoothed, dtype=float)
    x = np.log10(np.asarray(lrs, dtype=float))
    slopes = np.gradient(y, x)
    lo = min(int(n * _SKIP_START_FRACTION), n - 2)
    lowest = int(np.argmin(y))
    hi = lowest + 1
    if hi - lo < 2:
        return None, _NEVER_FELL
    steepest = lo + int(np.argmin(slopes[lo:hi]))
    if slopes[steepest] >= 0:
        return None, _NEVER_FELL
    tenth = int(np.argmin(np.abs(x[:hi] - (x[lowest] - 1))))
    if steepest <= tenth:
        return float(lrs[steepest]), (
            f"suggested {lrs[steepest]:.3g}, where the smoothed loss falls fastest "
            f"(steepest negative slope against log lr)")
    return float(lrs[tenth]), (
        f"suggested {lrs[tenth]:.3g}, a tenth of {lrs[lowest]:.3g} where the smoothed loss "
        f"is lowest (its steepest fall, at {lrs[steepest]:.3g}, is too close to where the "
        f"loss turns up)")


def _train_step(trainer: Any, x: torch.Tensor, y: torch.Tensor) -> float:
    """One optimisation step on a batch, the Trainer's own; returns the batch loss
    (possibly NaN or infinite: the caller decides, nothing raises)."""
    x, target, _ = trainer.batch_inputs(x, y, train=True)
    _, loss = trainer.forward_loss(x, target)
    value = loss.item()
    if math.isfinite(value):  # stepping on NaN would only write it into the (restored) weights
        trainer.optimizer_step(loss)
    return value


def _cycle(trainer: Any) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Usable training batches forever, restarting the loader as often as needed."""
    single_bad = getattr(trainer, "_has_batchnorm", False)
    while True:
        usable = 0
        for x, y, _skipped in trainer.train_loader:
            if x is None or len(x) == 0 or (len(x) == 1 and single_bad):
                continue  # as in training: nothing to learn, or BatchNorm cannot use it
            usable += 1
            yield x, y
        if usable == 0:
            raise WorkbenchError("the learning-rate finder found no usable training batch: "
                                 "add images to the dataset or lower data.val_fraction")


def _check_settings(start_lr: float, end_lr: float, num_steps: int, smoothing: float,
                    diverge_factor: float) -> None:
    if not (math.isfinite(start_lr) and start_lr > 0):
        raise SpecError("start_lr", f"must be a positive number, got {start_lr!r}")
    if not (math.isfinite(end_lr) and end_lr > start_lr):
        raise SpecError("end_lr", f"must be larger than start_lr ({start_lr:g}), got {end_lr!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise SpecError("num_steps", f"must be an integer of at least 2, got {num_steps!r}")
    if not 0 <= smoothing < 1:
        raise SpecError("smoothing", f"must be in [0, 1), got {smoothing!r}")
    if not diverge_factor > 1:
        raise SpecError("diverge_factor", f"must be larger than 1, got {diverge_factor!r}")


def _rng_state() -> dict[str, Any]:
    state = {"random": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["random"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])
