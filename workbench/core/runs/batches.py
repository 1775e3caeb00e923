"""The training losses of a run's batches, and its layer-norm samples, kept with its epochs.

metrics.json holds one entry per epoch; a plot of the loss per batch needs more, and a run
continued tomorrow (or reopened by the app) would otherwise show its batches only from the
continuation on. :class:`BatchLosses` keeps, per finished epoch, at most
:data:`POINTS_PER_EPOCH` means of consecutive batches' losses (all of them when the epoch
has fewer batches), written beside the epochs as metrics.json's ``"batches"``::

    {"epochs": [...], "batches": [{"epoch": 1, "num_batches": 313, "loss": [2.31, ...]}]}

About 1 KB an epoch, whatever the dataset's size. :func:`batch_steps` places the points on
the run's global step axis, as the live plot numbers its batches. The epoch a divergence cut
short is kept too, marked ``"cut": true`` (:meth:`_ByEpoch.end_epoch`), its batches up to
``"last_batch"``, the batch the divergence names, which is a point of its own: a restart
plots what the live plot showed, though no checkpoint holds that epoch
(:func:`~workbench.core.runs.record.keep_epochs` keeps it). :class:`EpochNorms` keeps
the per-layer gradient and weight norms the trainer samples (a few an epoch) the same way,
as ``"norms"``: ``[{"epoch", "names", "samples": [[step, [grad...], [weight...]], ...]}]``
(a norm that is not finite is written as null).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

#: The most points kept for one epoch (each the mean of consecutive batches' losses).
POINTS_PER_EPOCH = 50


def binned(values: list[float], points: int = POINTS_PER_EPOCH) -> list[float]:
    """``values`` as at most ``points`` means of consecutive runs of them, in order."""
    n = len(values)
    if n <= points:
        return [float(v) for v in values]
    edges = [round(i * n / points) for i in range(points + 1)]
    return [sum(values[a:b]) / (b - a) for a, b in zip(edges, edges[1:])]


class _ByEpoch:
    """What a run collects during an epoch, kept as one entry per finished epoch
    (``earlier``: a continued run's entries, as its reader gives them)."""

    def __init__(self, earlier: list[dict[str, Any]] | None = None):
        self.epochs: list[dict[str, Any]] = list(earlier or [])
        self._current: list[Any] = []

    def keep_until(self, epoch: int) -> None:
        """Forget the entries after ``epoch`` (a run resumed from an earlier checkpoint)."""
        self.epochs = [e for e in self.epochs if e["epoch"] <= epoch]
        self._current = []

    def end_epoch(self, epoch: int, cut: bool = False) -> None:
        """Close ``epoch``: its entry replaces any of the same or a later epoch. ``cut``:
        the epoch ended early (a diverged run's last), its entry marked ``"cut"``."""
        self.epochs = [e for e in self.epochs if e["epoch"] < epoch]
        entry = self._entry(cut)
        if entry is not None:
            self.epochs.append({"epoch": int(epoch), **entry, **({"cut": True} if cut else {})})
        self._current = []

    def _entry(self, cut: bool) -> dict[str, Any] | None:
        raise NotImplementedError


class BatchLosses(_ByEpoch):
    """Collects a run's batch losses epoch by epoch (entries as :func:`read_batches` reads
    them)."""

    _num_batches = 0
    _last_batch = 0

    def add(self, loss: float, num_batches: int, batch: int = 0) -> None:
        if math.isfinite(loss):
            self._current.append(float(loss))
            self._last_batch = int(batch)
        self._num_batches = int(num_batches)

    def _entry(self, cut: bool) -> dict[str, Any] | None:
        if not cut:
            return {"num_batches": self._num_batches,
                    "loss": [round(v, 6) for v in binned(self._current)]}
        if not self._current or not 0 < self._last_batch <= self._num_batches:
            return None
        # Its last batch a point of its own: the one a divergence names, as plotted live.
        loss = binned(self._current[:-1], POINTS_PER_EPOCH - 1) + self._current[-1:]
        return {"num_batches": self._num_batches, "last_batch": self._last_batch,
                "loss": [round(v, 6) for v in loss]}


def read_batches(run_dir: str | Path, kept: bool = True) -> list[dict[str, Any]]:
    """The ``"batches"`` of ``run_dir``/metrics.json, each entry checked; ``[]`` for a run
    from before they were kept, or a file that cannot be read. ``kept``: only the epochs
    run.json counts (:func:`~workbench.core.runs.record.read_metrics`)."""
    from workbench.core.runs.record import read_metrics

    out = []
    for e in read_metrics(run_dir, kept).get("batches") or []:
        if not isinstance(e, dict):
            continue
        epoch, n, loss = e.get("epoch"), e.get("num_batches"), e.get("loss")
        last = e.get("last_batch", n) if e.get("cut") is True else n  # (an epoch cut short)
        if isinstance(epoch, int) and isinstance(n, int) and n > 0 and \
                isinstance(last, int) and not isinstance(last, bool) and 0 < last <= n and \
                isinstance(loss, list) and 0 < len(loss) <= last and \
                all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in loss):
            out.append({"epoch": epoch, "num_batches": n, "loss": [float(v) for v in loss],
                        **({"last_batch": last, "cut": True} if e.get("cut") is True
                           else {})})
    return out


def batch_steps(entry: dict[str, Any], batches_per_epoch: int) -> list[int]:
    """Global 1-based step numbers for ``entry``'s points: each at the middle of the batches
    it averages, in epoch ``entry["epoch"]`` of ``batches_per_epoch`` steps (the entry's
    own ``num_batches``, unless the run says otherwise). An epoch cut short spreads its
    points over its batches up to ``last_batch``, the last point at that batch."""
    bpe, k = max(1, int(batches_per_epoch or entry["num_batches"])), len(entry["loss"])
    start = (entry["epoch"] - 1) * bpe
    last = entry.get("last_batch")
    if last is None:
        return _spread(start, bpe, k)
    return _spread(start, int(last) - 1, k - 1) + [start + int(last)]


def _spread(start: int, span: int, k: int) -> list[int]:
    """``k`` steps after ``start``, each at the middle of its share of ``span`` batches."""
    return [start + min(span, int((i + 0.5) * span / k) + 1) for i in range(k)]


def _finite(values: list[float]) -> list[float | None]:
    return [round(float(v), 6) if math.isfinite(v) else None for v in values]


class EpochNorms(_ByEpoch):
    """Collects the trainer's norm samples epoch by epoch (entries as :func:`read_norms`
    reads them)."""

    _names: list[str] = []

    def add(self, step: int, names: list[str], grads: list[float],
            weights: list[float]) -> None:
        self._names = [str(n) for n in names]
        self._current.append([int(step), _finite(grads), _finite(weights)])

    def _entry(self, cut: bool) -> dict[str, Any] | None:
        return {"names": self._names, "samples": self._current} if self._current else None


def read_norms(run_dir: str | Path, kept: bool = True) -> list[dict[str, Any]]:
    """The ``"norms"`` of ``run_dir``/metrics.json, each entry checked (a null norm read as
    NaN); ``[]`` for a run from before they were kept, or a file that cannot be read.
    ``kept``: as for :func:`read_batches`."""
    from workbench.core.runs.record import read_metrics

    def numbers(values: Any, n: int) -> list[float] | None:
        if not isinstance(values, list) or len(values) != n:
            return None
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                   for v in values):
            return None
        return [math.nan if v is None else float(v) for v in values]

    out = []
    for e in read_metrics(run_dir, kept).get("norms") or []:
        names = e.get("names") if isinstance(e, dict) else None
        if not isinstance(e, dict) or not isinstance(e.get("epoch"), int) or \
                not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            continue
        samples = []
        for s in e.get("samples") if isinstance(e.get("samples"), list) else []:
            if isinstance(s, list) and len(s) == 3 and isinstance(s[0], int):
                g, w = numbers(s[1], len(names)), numbers(s[2], len(names))
                if g is not None and w is not None:
                    samples.append([s[0], g, w])
        if samples:
            out.append({"epoch": e["epoch"], "names": names, "samples": samples})
    return out

