"""Buffers behind the live training plots: growable arrays, EMA smoothing, per-batch losses,
layer norms.

Only numpy here (no Qt), so the arithmetic the plots rely on is tested on its own and costs
the GUI thread as little as possible: appending is amortised O(1) per point, smoothing is
vectorised, and the layer-norm history has a fixed size however long the run is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# exp(-L) must stay finite within one chunk of the EMA recurrence (float64 ends near 1e308).
_MAX_LOG_SPAN = 600.0


class GrowableArray:
    """A 1-D numpy array that grows by doubling, so appending n points costs O(n) overall.

    Parameters
    ----------
    dtype
        The element type.
    capacity
        The initial allocation (number of elements).
    """

    def __init__(self, dtype: type = float, capacity: int = 1024):
        self._data = np.empty(max(1, int(capacity)), dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def data(self) -> np.ndarray:
        """The filled part (a view: it stays valid after later appends, which never write
        into it)."""
        return self._data[:self._size]

    def append(self, values: np.ndarray | list[float]) -> None:
        """Append ``values`` (any 1-D sequence)."""
        values = np.asarray(values, dtype=self._data.dtype).ravel()
        end = self._size + values.size
        if end > self._data.size:
            grown = np.empty(max(end, 2 * self._data.size), dtype=self._data.dtype)
            grown[:self._size] = self._data[:self._size]
            self._data = grown
        self._data[self._size:end] = values
        self._size = end

    def truncate(self, size: int) -> None:
        """Keep only the first ``size`` elements."""
        self._size = max(0, min(self._size, int(size)))

    def replace(self, values: np.ndarray) -> None:
        """Make ``values`` the whole content (the capacity is kept when it is enough)."""
        self._size = 0
        self.append(values)

    def clear(self) -> None:
        self._size = 0


@dataclass
class EmaState:
    """Where a running EMA stands: the raw (biased) average and the weight it lacks.

    ``decay`` is the product of the smoothing factor over the finite points seen so far;
    ``1 - decay`` is the total weight of the average (it debiases the start of the curve).
    """

    raw: float = 0.0
    decay: float = 1.0


def ema(values: np.ndarray, smoothing: float,
        state: EmaState | None = None) -> tuple[np.ndarray, EmaState]:
    """Debiased exponential moving average, vectorised (no Python loop over points).

    ``y[t] = raw[t] / (1 - a**n)`` with ``raw[t] = a*raw[t-1] + (1-a)*x[t]`` (as
    TensorBoard smooths), where ``n`` counts the finite points so far: the first points are
    not pulled towards zero, and a NaN or infinite loss is left out of the average (its
    smoothed value is the average of the points before it).

    Parameters
    ----------
    values
        The new points.
    smoothing
        ``a`` in [0, 1); 0 returns the values unchanged.
    state
        The state after the previous points (``None``: start afresh); pass the returned one
        with the next points to extend the curve without recomputing it.

    Returns
    -------
    smoothed, state
        The smoothed values (same length as ``values``) and the state after them.
    """
    x = np.asarray(values, dtype=float).ravel()
    state = EmaState() if state is None else EmaState(state.raw, state.decay)
    a = float(smoothing)
    if a <= 0.0 or x.size == 0:
        return x.copy(), state
    a = min(a, 1.0 - 1e-12)
    finite = np.isfinite(x)
    log_a = math.log(a)
    out = np.empty_like(x)
    # Closed form of the recurrence inside a chunk: raw[t] = P[t] * (raw0 + S[t]) with
    # P[t] = prod a_k (a_k = a for finite points, 1 for skipped ones) and
    # S[t] = sum (1 - a_k) x_k / P[k]. 1/P grows geometrically, so chunks are kept short
    # enough for it to stay finite; the carry between chunks is (raw, decay).
    chunk = max(1, int(_MAX_LOG_SPAN / -log_a))
    for start in range(0, x.size, chunk):
        xs = x[start:start + chunk]
        ok = finite[start:start + chunk]
        log_p = np.cumsum(np.where(ok, log_a, 0.0))
        weights = np.where(ok, (1.0 - a) * np.exp(-log_p), 0.0)
        p = np.exp(log_p)
        raw = p * (state.raw + np.cumsum(weights * np.where(ok, xs, 0.0)))
        decay = state.decay * p
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + xs.size] = raw / (1.0 - decay)  # 0/0 (no point yet) is NaN
        state = EmaState(float(raw[-1]), float(decay[-1]))
    return out, state


class LossSeries:
    """Per-batch losses with their global steps, their x in epochs and their EMA.

    Parameters
    ----------
    smoothing
        The EMA factor (see :func:`ema`).
    """

    def __init__(self, smoothing: float = 0.0):
        self.smoothing = float(smoothing)
        self.steps = GrowableArray()
        self.epochs = GrowableArray()  # step / batches per epoch: the x of the epochs axis
        self.losses = GrowableArray()
        self.smoothed = GrowableArray()
        self._state = EmaState()

    def __len__(self) -> int:
        return len(self.losses)

    def add(self, steps: np.ndarray | list[int], losses: np.ndarray | list[float],
            batches_per_epoch: int) -> None:
        """Append a chunk. Steps at or before ones already held (a run resumed from an
        earlier checkpoint) replace those and everything after them."""
        steps_arr = np.asarray(steps, dtype=float).ravel()
        losses_arr = np.asarray(losses, dtype=float).ravel()
        held = self.steps.data
        if held.size and steps_arr.size and steps_arr[0] <= held[-1]:
            keep = int(np.searchsorted(held, steps_arr[0]))
            for buf in (self.steps, self.epochs, self.losses, self.smoothed):
                buf.truncate(keep)
            self.set_smoothing(self.smoothing)
        self.steps.append(steps_arr)
        self.epochs.append(steps_arr / max(1, batches_per_epoch))
        self.losses.append(losses_arr)
        # Only the new points are smoothed: the EMA state carries over from the last chunk.
        smoothed, self._state = ema(losses_arr, self.smoothing, self._state)
        self.smoothed.append(smoothed)

    def set_smoothing(self, smoothing: float) -> None:
        """Recompute the whole EMA with another factor (vectorised: fast on 100k points)."""
        self.smoothing = float(smoothing)
        smoothed, self._state = ema(self.losses.data, self.smoothing)
        self.smoothed.replace(smoothed)

    def x(self, in_steps: bool) -> np.ndarray:
        return self.steps.data if in_steps else self.epochs.data

    def bounds(self, in_steps: bool, log: bool) -> tuple[tuple[float, float] | None,
                                                         tuple[float, float] | None]:
        """The extent of x and of the losses (log10 of them with ``log``): the smoothed
        curve lies between the raw losses' extremes. ``(None, None)`` when empty."""
        x, y = self.x(in_steps), self.losses.data
        finite = y[np.isfinite(y)] if not log else log10_or_nan(y)
        finite = finite[np.isfinite(finite)]
        if x.size == 0 or finite.size == 0:
            return None, None
        return (float(x[0]), float(x[-1])), (float(finite.min()), float(finite.max()))


class NormHistory:
    """Per-layer gradient and weight norms over training steps, in bounded memory.

    At most ``max_samples`` samples are kept. When full, every other sample is dropped and
    from then on only every other incoming sample is kept, so the kept samples stay evenly
    spaced over the whole run however long it grows.

    Parameters
    ----------
    max_samples
        The most samples held (even, at least 2).
    """

    def __init__(self, max_samples: int = 2048):
        self.max_samples = max(2, int(max_samples) // 2 * 2)
        self.clear()

    def clear(self) -> None:
        self.names: list[str] = []
        self._steps = np.empty(0)
        self._grad = np.empty((0, 0))
        self._weight = np.empty((0, 0))
        self._size = 0
        self._stride = 1
        self._seen = 0

    def __len__(self) -> int:
        return self._size

    @property
    def steps(self) -> np.ndarray:
        return self._steps[:self._size]

    @property
    def grad(self) -> np.ndarray:
        """Gradient norms, shape (samples, layers)."""
        return self._grad[:self._size]

    @property
    def weight(self) -> np.ndarray:
        """Weight norms, shape (samples, layers)."""
        return self._weight[:self._size]

    def add(self, step: int, names: list[str], grad_norms: list[float],
            weight_norms: list[float]) -> bool:
        """Record one sample; returns whether it was kept.

        A sample for other layers than the held ones (a different network) starts the
        history afresh.
        """
        names = [str(n) for n in names]
        if len(grad_norms) != len(names) or len(weight_norms) != len(names):
            raise ValueError("add_norms needs one gradient and one weight norm per layer name")
        if names != self.names:
            self.clear()
            self.names = names
            self._steps = np.empty(self.max_samples)
            self._grad = np.full((self.max_samples, len(names)), np.nan)
            self._weight = np.full((self.max_samples, len(names)), np.nan)
        index, self._seen = self._seen, self._seen + 1
        if index % self._stride:
            return False
        if self._size == self.max_samples:
            self._decimate()
            if index % self._stride:
                return False
        i = self._size
        self._steps[i] = step
        self._grad[i] = np.asarray(grad_norms, dtype=float)
        self._weight[i] = np.asarray(weight_norms, dtype=float)
        self._size += 1
        return True

    def _decimate(self) -> None:
        half = self._size // 2
        for a in (self._steps, self._grad, self._weight):
            a[:half] = a[:self._size:2]
        self._size = half
        self._stride *= 2


def log10_or_nan(values: np.ndarray) -> np.ndarray:
    """log10 of the positive finite values; NaN elsewhere (a norm of 0 has no logarithm)."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out


def nearest_index(sorted_x: np.ndarray, x: float) -> int:
    """Index of the value of ``sorted_x`` (ascending, non-empty) nearest to ``x``."""
    i = int(np.searchsorted(sorted_x, x))
    if i <= 0:
        return 0
    if i >= sorted_x.size:
        return sorted_x.size - 1
    return i if sorted_x[i] - x < x - sorted_x[i - 1] else i - 1
