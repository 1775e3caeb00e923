"""Plot ranges that follow growing data in steps instead of at every redraw.

pyqtgraph's auto-range moves a plot's range whenever its data grow, which is at every
redraw of a live curve; each move makes both axes recompute their ticks, labels and grid
lines in Python. With the training thread competing for the interpreter lock, that was the
larger part of a live plot's repaint. :class:`StickyRange` keeps the range while the data
fit well in it and, when they no longer do, jumps to a range with headroom (x) or rounded
bounds (y), so the axes are rebuilt a few dozen times over a whole run.

The headroom is for data that grow: only while a run goes (:meth:`StickyRange.set_live`).
A run that ended (stopped, finished, diverged), or one shown from its folder, is fitted to
its data by pyqtgraph's auto-range: a stopped run kept its room to grow (the x axis 15 %
past its last batch) and its curves sat squeezed into the rest.
"""

from __future__ import annotations

import math

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

_X_HEADROOM = 0.15  # a new x range leaves about this share of the data's span free
_MIN_FILL = 0.5  # the data must fill at least this share of the range, or it is renewed


class StickyRange:
    """Keeps ``view``'s range around its data, changing it only in steps.

    The data's extent comes from the caller (the view's own ``childrenBounds`` would see
    only what is drawn, which clipping to the view limits to the current range). Following
    stops when the user pans or zooms the plot, and resumes with pyqtgraph's "auto-range"
    button (or :meth:`reset`).

    Parameters
    ----------
    view
        The plot's ViewBox. Its own auto-range is turned off: this object does that job.
    """

    def __init__(self, view: pg.ViewBox):
        self.view = view
        self.following = True
        #: While a run goes: ranges with headroom, moved in steps; else a tight fit.
        self.live = False
        self._range: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._fitting = False  # pyqtgraph's auto-range is on because this object put it on
        view.disableAutoRange()
        view.sigRangeChangedManually.connect(self._on_changed_by_hand)

    def _on_changed_by_hand(self, *_args: object) -> None:
        self.following = False

    def set_live(self, live: bool) -> None:
        """``True`` while a run goes (the data grow: ranges with headroom, in steps);
        ``False`` when it ends: the data are fitted tightly from now on (:meth:`release`),
        whatever is drawn next (the run reloaded from its folder, another axis), until a
        run goes again."""
        self.live = bool(live)
        if not self.live:
            self.release()

    def reset(self) -> None:
        """Follow the data again, from a fresh range (e.g. the units of an axis changed, or
        a new run starts: not the last run's axes until its first points)."""
        self.following = True
        self._range = None
        self._fitting = False
        self.view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.0, disableAutoRange=True)

    def release(self) -> None:
        """Hand the range back to pyqtgraph's auto-range (a tight fit), unless the user
        has zoomed: for when the data stop growing."""
        if self.following:
            self._range = None
            self._fitting = True
            self.view.enableAutoRange()

    def update(self, x: tuple[float, float] | None, y: tuple[float, float] | None) -> None:
        """Move the range if the data, spanning ``x`` and ``y`` in view coordinates (log10
        on a log axis), outgrew it; ``None``: no data."""
        if any(self.view.autoRangeEnabled()):
            if self._fitting:  # on since release(), or pressed again after a zoom
                self.following = True
            else:  # the auto-range button was pressed while the range was ours
                self.reset()
        if not self.following or x is None or y is None:
            return
        if not all(math.isfinite(v) for v in (*x, *y)):
            return
        if not self.live:  # nothing grows: fit the data as they are
            if not all(self.view.autoRangeEnabled()):
                self.release()
            return
        old = self._range
        new = ((old and _keep(old[0], *x)) or _x_range(*x),
               (old and _keep(old[1], *y)) or _y_range(*y))
        if new != old:
            self._range = new
            self._fitting = False
            self.view.setRange(xRange=new[0], yRange=new[1], padding=0.0,
                               disableAutoRange=True)


def _keep(current: tuple[float, float], lo: float, hi: float) -> tuple[float, float] | None:
    """``current`` while the data [lo, hi] fit inside it and fill enough of it."""
    c_lo, c_hi = current
    span = c_hi - c_lo
    if lo < c_lo or hi > c_hi or (hi - lo) < _MIN_FILL * span:
        return None
    return current


def _x_range(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    if span <= 0:
        return lo - 0.5, hi + 0.5
    step = _nice_step(span / 10)
    return lo - 0.01 * span, lo + math.ceil(span * (1 + _X_HEADROOM) / step) * step


def _y_range(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    if span <= 0:
        pad = 0.5 * abs(lo) or 0.5
        return lo - pad, hi + pad
    step = _nice_step(span / 10)
    # Round outwards to a multiple of step, and keep a little margin from the data.
    return (math.floor((lo - 0.02 * span) / step) * step,
            math.ceil((hi + 0.02 * span) / step) * step)


def _nice_step(at_most: float) -> float:
    """The largest round number (1, 2 or 5 times a power of 10) not above ``at_most``."""
    base = 10 ** math.floor(math.log10(at_most))
    return max(m * base for m in (1, 2, 5) if m * base <= at_most * (1 + 1e-9))


def empty_frame(view: pg.ViewBox, y: tuple[float, float] = (0, 1)) -> None:
    """Give an auto-ranged ``view`` the frame of no data (x 0..1, ``y``), not the last
    data's: with no points pyqtgraph's auto-range keeps the range it had (a new run's
    epoch plots showed the last run's 86 epochs until their first point)."""
    view.setRange(xRange=(0, 1), yRange=y, padding=0.0)
    view.enableAutoRange()
