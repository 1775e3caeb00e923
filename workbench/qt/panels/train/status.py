"""Texts of the Train panel's status lines: progress with speed, ETA, device and memory;
epoch metrics; how a run ended."""

from __future__ import annotations

import re
from typing import Any

from workbench.qt.panels.runs.model import format_duration


def format_bytes(n: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


class Speed:
    """How fast a run goes, from the chunks the worker sends, and the ETA: the seconds an
    epoch takes from its start to the next one's (validation and checkpoint included,
    pauses not: the chunks' ``epoch_time``), smoothed over the epochs, and the batches a
    second (the chunks' batches over their ``seconds``, smoothed over the chunks: weighted
    by time, not by chunk). Both are kept across Pause and Resume. Apart for the epochs
    that compute a frozen backbone's features and those that train on them, cached
    (:meth:`count`), which run many times faster."""

    def __init__(self, smoothing: float = 0.8, epoch_smoothing: float = 0.5):
        self.smoothing, self.epoch_smoothing = smoothing, epoch_smoothing
        self.rate: float | None = None  # the latest chunk's rate, until counted
        self.sums: dict[bool, tuple[float, float]] = {}  # (batches, seconds), smoothed
        self.epochs: dict[bool, float] = {}  # an epoch's seconds, smoothed
        self.timed = 0  # the last epoch counted in ``epochs``

    def reset(self) -> None:
        self.__init__(self.smoothing, self.epoch_smoothing)

    def update(self, rate: float) -> None:
        """A chunk's batches a second (:meth:`count` counts it)."""
        if rate > 0:
            self.rate = rate

    @property
    def rates(self) -> dict[bool, float]:
        """Batches a second, by cached (True) or not."""
        return {k: n / t for k, (n, t) in self.sums.items() if t > 0}

    def count(self, chunk: dict, last: int = 0) -> float | None:
        """Count ``chunk`` (its rate given to :meth:`update`; with ``steps`` and
        ``seconds``, those) and the epoch time it brings, each as one of the epochs on
        cached features (after ``last``, :func:`last_feature_epoch`; 0: none) or not; the
        batches a second of the chunk's kind."""
        cached = bool(last) and int(chunk["epoch"]) > last
        timed = chunk.get("epoch_time")
        if timed and int(timed[0]) > self.timed:
            self.timed, seconds = int(timed[0]), float(timed[1])
            key = bool(last) and self.timed > last
            old = self.epochs.get(key)
            self.epochs[key] = seconds if old is None else \
                self.epoch_smoothing * old + (1 - self.epoch_smoothing) * seconds
        if self.rate is not None:
            steps, seconds = len(chunk.get("steps") or ()), chunk.get("seconds")
            batches, seconds = (steps, float(seconds)) if steps and seconds else \
                (1.0, 1 / self.rate)
            n, t = self.sums.get(cached, (0.0, 0.0))
            self.sums[cached] = (self.smoothing * n + batches, self.smoothing * t + seconds)
            self.rate = None
        return self.rates.get(cached)

    def eta(self, epochs: int, batches: int | None, per_epoch: int,
            cached: bool = False) -> float | None:
        """Seconds for ``epochs`` whole epochs of ``per_epoch`` batches and, unless None,
        the ``batches`` left of the one under way with its end (validation, checkpoint);
        None when not measured yet. Until an epoch has been timed, all at the batch rate."""
        if not epochs and batches is None:
            return 0.0
        rate, epoch = self.rates.get(cached), self.epochs.get(cached)
        if epoch is None:
            return (epochs * per_epoch + (batches or 0)) / rate if rate else None
        if batches is None:
            return epochs * epoch
        # This epoch: its batches left at the batch rate, then its validation and checkpoint.
        now = batches / rate + max(0.0, epoch - per_epoch / rate) if rate else \
            epoch * batches / max(1, per_epoch)
        return epochs * epoch + now


def last_feature_epoch(info: dict) -> int:
    """The last epoch of this session that computes cached backbone features, the later
    ones training on them (the start info's ``features``, "cached" or "cached, K views",
    from its ``start_epoch``: a continued run computes them again); 0 without."""
    features = str(info.get("features") or "")
    if not features.startswith("cached"):
        return 0
    match = re.search(r"(\d+) views", features)
    return int(info.get("start_epoch") or 1) + (int(match.group(1)) if match else 1) - 1


def progress_text(chunk: dict, info: dict, speed: Speed) -> str:
    """``Epoch 3/10 · batch 12/50 · loss 0.4312 · 1,234 img/s · ETA 1 min 05 s · cpu ·
    512.0 MB``. With cached backbone features (:func:`last_feature_epoch`) the epochs that
    compute them are timed apart from the later ones, which only train the layers after
    the backbone: until one of those has run, ``ETA 40 s to the end of epoch 2; later
    epochs are much faster (features cached)``."""
    epochs = int(info.get("epochs") or 0)
    epoch, batch, nb = int(chunk["epoch"]), int(chunk["batch"]), int(chunk["num_batches"])
    parts = [f"Epoch {epoch}/{epochs or '?'}", f"batch {batch}/{nb}",
             f"loss {chunk['losses'][-1]:.4f}" if chunk.get("losses") else ""]
    last = last_feature_epoch(info)
    rate = speed.count(chunk, last)
    if rate:
        bs = int(info.get("batch_size") or 0)
        parts.append(f"{rate * bs:,.0f} img/s" if bs else f"{rate:.1f} batches/s")
        parts.append(_eta(epoch, batch, nb, epochs, last, speed))
    if info.get("device"):
        parts.append(str(info["device"]))
    if chunk.get("memory"):
        parts.append(format_bytes(chunk["memory"]))
    return " · ".join(p for p in parts if p)


def _eta(epoch: int, batch: int, nb: int, epochs: int, last: int, speed: Speed) -> str:
    """``ETA …`` for what is left of the run at ``speed``: the epochs that compute
    features (up to ``last``) at their speed, the later ones at theirs once known."""
    left = max(0, nb - batch)
    if not last:
        eta = speed.eta(max(0, epochs - epoch), left, nb)
        return f"ETA {format_duration(eta)}" if eta is not None else ""
    computing = max(0, min(epochs, last) - epoch)  # whole epochs after this one
    cached = max(0, epochs - max(epoch, last))
    slow = speed.eta(computing, left if epoch <= last else None, nb, False)
    fast = speed.eta(cached, left if epoch > last else None, nb, True)
    if fast is None:
        later = "later epochs are much faster (features cached)"
        if not slow:  # the last feature epoch's last batch
            return later
        return f"ETA {format_duration(slow)} to the end of epoch {last}; {later}"
    return f"ETA {format_duration((slow or 0.0) + fast)}"


#: Said after the training accuracy of an epoch that had no validation images.
NO_VALIDATION = " (no validation images: accuracy on the training images only)"


def metrics_text(m: dict, monitor: str | None = None) -> str:
    """An epoch's metrics in words; the balanced accuracy too when ``monitor`` (the metric
    that picks the best epoch) is ``val_bal_acc``."""
    def pct(v: Any) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    def num(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    text = f"train loss {num(m.get('train_loss'))}, accuracy {pct(m.get('train_acc'))}"
    if m.get("val_loss") is not None:
        text += f"; validation loss {num(m.get('val_loss'))}, accuracy {pct(m.get('val_acc'))}"
        if monitor == "val_bal_acc":
            text += f", balanced accuracy {pct(m.get('val_bal_acc'))}"
    else:  # the training images' accuracy is all there is: not a result on new images
        text += NO_VALIDATION
    if m.get("lr") is not None:  # the rate the epoch trained at: shows a schedule at work
        text += f"; lr {m['lr']:.3g}"
    if m.get("seconds") is not None:  # the epoch's, not the run's: Runs gives that
        text += f" (the epoch took {m['seconds']:.1f} s)"
    return text


def ending_text(summary: dict) -> tuple[str, str]:
    """``(text, level)`` saying how a run ended (finished, stopped, stopped early) and which
    epoch's weights it kept, with their metrics: the numbers the saved model has; a warning,
    not green, when they were measured on no validation image, or are at chance
    (:func:`kept_text`)."""
    history = summary.get("history") or []
    n = len(history)
    epochs = f"{n} epoch{'' if n == 1 else 's'}"
    if summary.get("early_stopped"):
        text, level = f"Stopped early after {epochs}: {summary.get('stop_reason', '')}.", "ok"
    elif summary.get("stopped"):
        text, level = (f"Stopped after {n} complete epoch{'' if n == 1 else 's'} (an "
                       f"unfinished epoch is not kept)."), "warning"
    else:
        text, level = f"Finished {epochs}.", "ok"
    model = summary.get("model") or {}
    metrics = model.get("metrics") or (history[-1] if history else None)
    epoch = model.get("epoch") or (metrics or {}).get("epoch")
    if metrics:
        kept = kept_text(epoch, bool(model.get("restored_best") or
                                     summary.get("restored_best")),
                         metrics, (summary.get("best") or {}).get("metric"),
                         len(summary.get("classes") or []))
        text += kept
        if (metrics.get("val_loss") is None or AT_CHANCE in kept) and level == "ok":
            level = "warning"  # not green: nothing measured the model on unseen images
    return text, level


#: Said after the model a run kept when it is at chance (:func:`kept_text`).
AT_CHANCE = "; see the Doctor tab."


def kept_text(epoch: Any, restored: bool, metrics: dict, monitor: str | None,
              classes: int = 0) -> str:
    """`` Model kept: epoch 4 (the best epoch, restored): train loss ….``: the epoch whose
    weights a run kept (``restored``: the best one, restored at its end), with its
    ``metrics`` (:func:`metrics_text`); and, of ``classes`` (0: not known), when those are
    at chance, `` This model is no better than always answering one class (25%): it has
    learned nothing; see the Doctor tab.`` (:func:`~workbench.core.train.doctor.view.
    kept_at_chance`)."""
    from workbench.core.train.doctor.view import kept_at_chance

    which = " (the best epoch, restored)" if restored else ""
    chance = kept_at_chance(metrics, classes)
    return (f" Model kept: epoch {epoch}{which}: {metrics_text(metrics, monitor)}." +
            (f" {chance}{AT_CHANCE}" if chance else ""))


def show_start_notes(label: Any, notes: Any, warnings: Any = (), heading: str = "") -> None:
    """Show what a run said as it started in ``label`` (hidden when nothing): its
    ``notes`` (the trainer's start info, or run.json's ``start_notes`` of a run shown
    again) and ``warnings`` (run.json's ``start_warnings``), a warning when one says the
    weights are random; ``heading`` on a line above them (a run shown again names itself:
    :mod:`.last_notes`)."""
    from workbench.qt.panels.train.finding_texts import app_text, name_settings

    # The core names settings by their path in the file, and the flags a terminal user
    # types ("(--lr 0.001)"); the app by the controls' names, and without the flags.
    notes = [name_settings(app_text(str(n))) for n in notes or [] if n]
    warnings = [app_text(str(w)) for w in warnings or [] if w] \
        if isinstance(warnings, list) else []
    lines = [f"Note: {n}" for n in notes] + [f"Warning: {w}" for w in warnings]
    if hasattr(label, "max_lines"):  # the heading's line comes on top of the notes' three
        label.max_lines = 4 if heading and lines else 3
    label.show_message("\n".join([heading] * bool(heading and lines) + lines),
                       "warning" if warnings or any("random" in n for n in notes) else "info")
    label.setVisible(bool(lines))


def saved_model_line(summary: dict) -> tuple[str, str]:
    """The line under the plots once a run saved its model: where, and what to do next; a
    warning when no training batch ran (every batch skipped: the model is untrained). A
    batch size of 1 with BatchNorm is refused before the run, with a batch size that fits
    the training images (:func:`workbench.core.train.doctor.causes.batch_fix`): here each
    batch held one image whatever the batch size, so no size is proposed."""
    from workbench.core.train.doctor.causes import MIN_BATCH

    if (summary.get("model") or {}).get("untrained"):  # the core's FitResult.untrained
        return (f"No training batch ran (every batch held one image, which BatchNorm "
                f"cannot train on, and was skipped), so the saved model {summary['bundle']} "
                f"is untrained. Give each batch at least {MIN_BATCH} images (more training "
                f"images, or a larger batch size) and train again.", "warning")
    return (f"Model saved to {summary['bundle']} (try it on the Predict tab). Continue trains "
            f"this run further.", "info")


def model_doctor_line(experiment: Any, index: Any) -> tuple[str, str]:
    """The line under the plots as a run starts: the learning-rate advice
    (:mod:`workbench.core.train.optim_advice`), a batch size that leaves too few steps an
    epoch (:func:`_steps_warning`), what the Model doctor warns about the
    network being trained, and the Augment tab's hint where an augmentation may change the
    label (:func:`workbench.core.data.augment.at_start.run_hints`; ``("", "info")`` when
    none), so a learner who never looked at the optimizer or opened the Model or Augment
    tab hears it before the run, not only from the training doctor after it. One line, the
    rate first: it is what makes a run diverge. Needs torch (imported by then); never
    raises."""
    lr = _optimizer_warning(experiment)
    doctor = _doctor_warning(experiment, index)
    augment = augment_warning(experiment, [str(c) for c in getattr(index, "classes", None)
                                           or []])
    parts = [f"{lr} The Optimizer settings on the Train tab have the fix." if lr else "",
             _steps_warning(experiment, index)]
    if doctor:
        warns = " also warns" if lr else " warns"
        parts.append(f"The Model doctor{warns} about this network: {doctor}; the Model tab "
                     f"has the fix.")
    if augment:
        parts.append(f"The Augment tab{' also' if lr or doctor else ''} warns that {augment}")
    text = " ".join(p for p in parts if p)
    return (text, "warning") if text else ("", "info")


def augment_warning(experiment: Any, classes: list[str], why: bool = True) -> str:
    """The Augment tab's first label hint on ``classes`` (its first sentence: the line has
    room for one), to follow "The Augment tab warns that": what may happen and where its
    one-click fix is (the button at the right of the run line, :mod:`.start_fix`, whose
    tooltip has the whole hint) first, so that a line cut short at a laptop's width still
    says it; why after it, in brackets (``why`` False: left out); ``""`` when none."""
    try:
        from workbench.core.data.augment.at_start import offered_fix, run_hints

        hints = run_hints(experiment, classes)
        fix = offered_fix(hints)
    except Exception:  # noqa: BLE001  (a hint: never in the way of a run)
        return ""
    if not hints:
        return ""
    first = hints[0].text.split(". ", 1)[0].rstrip(".")
    head, _, reason = first.partition(": ")  # "X may change the label: the classes ..."
    n = len(hints) - 1
    more = f"; {n} more hint{'' if n == 1 else 's'} there" if n else ""
    reason = f" ({reason}{more})" if reason and why else f" ({more[2:]})" if more else ""
    if fix is None:
        return f"{head}; the Augment tab says what to do{reason}."
    return f"{head}; “{fix.label}” at the right fixes it for the next run{reason}."


def _optimizer_warning(experiment: Any) -> str:
    """The learning-rate (or weight-decay) advice about ``experiment.optimizer``, or ``""``."""
    try:
        from workbench.core.train.optim_advice import optimizer_advice

        advice = optimizer_advice(getattr(experiment, "optimizer", None))
    except Exception:  # noqa: BLE001  (a hint: never in the way of a run)
        return ""
    return advice.message if advice is not None else ""


def _steps_warning(experiment: Any, index: Any) -> str:
    """The batch size's warning (too few steps an epoch: :mod:`.batch_steps`, the rule of
    :func:`~workbench.core.train.doctor.causes.steps_cause`) with where its fix is, or
    ``""``."""
    try:
        from workbench.core.train.doctor.causes import split_steps_cause

        cause = split_steps_cause(index, experiment)
    except Exception:  # noqa: BLE001  (a hint: never in the way of a run)
        return ""
    if cause is None:
        return ""
    label = cause.action["label"]
    return (f"{cause.why[:1].upper()}{cause.why[1:]}: “{label}” under Batch size fixes it "
            f"for the next run.")


def _doctor_warning(experiment: Any, index: Any) -> str:
    """The Model doctor's first warning about the network (``"title, and 2 more
    warnings"``), or ``""``."""
    if index is None or not getattr(index, "classes", None):
        return ""
    try:
        from workbench.core.model.doctor import diagnose

        found = [f for f in diagnose(experiment, len(index.classes))
                 if str(getattr(f.severity, "value", f.severity)).lower().startswith(
                     ("err", "warn"))]
    except Exception:  # noqa: BLE001  (a hint: never in the way of a run)
        return ""
    if not found:
        return ""
    n = len(found) - 1  # in words, not one more bracket after the title's own
    more = f", and {n} more warning{'' if n == 1 else 's'}" if n else ""
    return f"{found[0].title}{more}"
