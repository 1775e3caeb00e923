"""Live training plots: per-batch loss, per-epoch loss, accuracy and learning rate, layer norms.

Data arrive through :meth:`TrainingPlots.add_batches`, :meth:`~TrainingPlots.add_epoch` and
:meth:`~TrainingPlots.add_norms` into numpy buffers (:mod:`.data`); while
:meth:`~TrainingPlots.start` is in effect a QTimer at about 15 Hz pushes what changed into
the curves, one plot per pass of the event loop, so drawing cost does not grow with the
number of batches per second and the GUI never waits for all plots at once. Each curve is
created once and only ever updated with ``setData``; long curves are peak-downsampled to
the plot's pixel width and clipped to the visible range by pyqtgraph, so 100k+ batches
redraw quickly, and the live plots' ranges grow in steps (:mod:`.range`): the GUI thread
shares the interpreter lock with training, and a pyqtgraph repaint runs much Python (the
GUI's longest stall while training, ``scripts/bench_ui.py``).

Controls (:mod:`.controls`): loss smoothing, log scale, x axis (epochs or steps), layer
norms (:mod:`.norms`); the per-epoch curves and the best epoch, named with the metric that
picked it (:mod:`.epochs`); a line reads out the point under the mouse (:mod:`.hover`); earlier
runs can be overlaid (:meth:`~TrainingPlots.set_overlays`). Titles and legends are a line
above each plot (:mod:`.header`), and each plot keeps a readable minimum height; a plot with
no data says so instead of showing the numbers of a made-up range (:mod:`.notes`).
"""
from __future__ import annotations

import math
import time
from functools import partial

import numpy as np
from PySide6.QtCore import QPointF, QTimer, Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.core.runs.batches import batch_steps
from workbench.qt.plots.controls import ControlSetters, PlotControls
from workbench.qt.plots.data import LossSeries, NormHistory
from workbench.qt.plots.epochs import EpochCurves
from workbench.qt.plots.header import PlotHeader, add_header
from workbench.qt.plots.hover import Readout, batch_readout, epoch_readout, history_column
from workbench.qt.plots.marks import HoverMarks
from workbench.qt.plots.norms import NormsView
from workbench.qt.plots.notes import NO_DATA, PlotNote
from workbench.qt.plots.overlays import Overlays
from workbench.qt.plots.range import StickyRange, empty_frame
from workbench.qt.plots.lr import LrCurve
from workbench.qt.plots.style import BLUE, no_tab_stop, plot_axes, style_plot

PLOT_INTERVAL_MS = 66  # ~15 Hz: smooth enough to watch, and never more than 20 Hz
NORMS_REDRAW_S = 0.5  # layer norms change slowly; their plot has many curves
_HINT = "Hover over a plot to read its values."


class TrainingPlots(QWidget, ControlSetters):
    """Controls, a hover read-out and five plots: loss per batch, loss per epoch, accuracy
    per epoch (%), learning rate per epoch and per-layer norms.

    Attributes
    ----------
    controls : PlotControls
        The row of controls.
    readout : QLabel
        Describes the point nearest the mouse.
    batch_plot, loss_plot, acc_plot, lr_plot, norms_plot : pyqtgraph.PlotItem
    batch_curve, batch_smooth_curve, train_loss_curve, val_loss_curve, train_acc_curve,
    val_acc_curve, bal_acc_curve, lr_curve : pyqtgraph.PlotDataItem
        ``bal_acc_curve``: the validation balanced accuracy, drawn while it picks the best
        epoch (:mod:`.epochs`).
    best_lines : list of pyqtgraph.InfiniteLine
        The best-epoch markers of the loss and accuracy plots.
    headers : dict
        Each plot's :class:`~.header.PlotHeader` (title and legend, above it).
    norms : NormsView
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.controls = PlotControls()
        self.readout = QLabel(_HINT)
        self.readout.setMinimumHeight(self.readout.fontMetrics().height())
        # One view (and scene) per plot: the per-batch plot repaints many times a second,
        # and in a shared scene each repaint also walks the other plots' items, calling
        # into Python for each; with the training thread holding the interpreter lock
        # between those calls, that made each repaint several times slower.
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        self.views: dict[pg.PlotItem, pg.PlotWidget] = {}
        # A legend inside a plot this small covered its curves: each has a header line.
        self.headers: dict[pg.PlotItem, PlotHeader] = {}
        titles = ("Loss per batch", "Loss per epoch", "Accuracy per epoch (%)",
                  "Learning rate", "")
        # Two rows of plots, not three: at a laptop's height each keeps a readable
        # MIN_PLOT_HEIGHT; the norms plot gets the width its layer curves need.
        cells = ((0, 0, 1), (0, 1, 1), (0, 2, 1), (1, 0, 1), (1, 1, 2))  # row, column, span
        for title, (row, column, columns) in zip(titles, cells):
            axes = plot_axes("epoch" in title or "rate" in title)
            view = no_tab_stop(pg.PlotWidget(axisItems=axes))
            header = add_header(view, title)
            grid.addWidget(header, 2 * row, column, 1, columns)
            grid.addWidget(view, 2 * row + 1, column, 1, columns)
            self.views[view.getPlotItem()] = view
            self.headers[view.getPlotItem()] = header
        for column in range(3):
            grid.setColumnStretch(column, 1)
        for row in (1, 3):
            grid.setRowStretch(row, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.controls)
        layout.addWidget(self.readout)
        layout.addLayout(grid, 1)

        self._plots = tuple(self.views)  # also the order of a staged redraw
        self.batch_plot, self.loss_plot, self.acc_plot, self.lr_plot, self.norms_plot = \
            self._plots
        self._epoch_plots = (self.loss_plot, self.acc_plot, self.lr_plot)
        for plot, ylabel in zip(self._plots, ("loss", "loss", "accuracy (%)", "lr", "norm")):
            style_plot(plot, ylabel)
        # Rates span decades; a constant one would sit on a linear axis labelled "0".
        self.lr_plot.setLogMode(x=False, y=True)
        # The raw curve is the bulk of the points: drawn without antialiasing, it costs a
        # fraction; the smoothed line on top is what the eye follows.
        # autoDownsampleFactor 1: peak downsampling to one min/max pair per pixel column,
        # which draws the same envelope as every point would (pyqtgraph's default is 5).
        self.batch_curve = self.batch_plot.plot(pen=pg.mkPen((*BLUE, 90), width=1),
                                                name="batch", antialias=False,
                                                autoDownsampleFactor=1.0)
        self.batch_smooth_curve = self.batch_plot.plot(pen=pg.mkPen(BLUE, width=2),
                                                       name="smoothed",
                                                       autoDownsampleFactor=1.0)
        # Already smooth: a mean per pixel column draws it with half the points of "peak".
        self.batch_smooth_curve.setDownsampling(auto=True, method="mean")
        self.epochs = EpochCurves(self.loss_plot, self.acc_plot)
        e = self.epochs
        self.train_loss_curve, self.val_loss_curve = e.train_loss, e.val_loss
        self.train_acc_curve, self.val_acc_curve, self.bal_acc_curve = \
            e.train_acc, e.val_acc, e.bal_acc
        self.best_lines = e.best_lines
        self.lr = LrCurve(self.lr_plot)  # an epoch at lr 0 marked at the log axis' floor
        self.lr_curve = self.lr.curve
        self.notes = {plot: PlotNote(plot, ended="No batch finished" if plot is self.batch_plot
                                     else "No epoch finished") for plot in self._plots[:-1]}
        self.norms = NormsView(self.norms_plot, self.headers[self.norms_plot])
        self.notes[self.norms_plot] = self.norms.note  # the norms view says more in it
        self.overlays = Overlays(self.loss_plot, self.acc_plot, self.headers[self.loss_plot],
                                 self.headers[self.acc_plot])
        self.marks = HoverMarks()
        # The two plots redrawn many times a second move their ranges in steps.
        self._ranges = {p: StickyRange(p.vb) for p in (self.batch_plot, self.norms_plot)}

        self._smoothing = self.controls.smoothing()
        self._log_y = False
        self.x_axis = "epochs"
        c = self.controls
        c.smoothing_changed.connect(self._on_smoothing_changed)
        c.log_scale_toggled.connect(self._on_log_scale_toggled)
        c.x_axis_changed.connect(self._on_x_axis_changed)
        c.norms_mode_changed.connect(self._on_norms_view_changed)
        c.norms_kind_changed.connect(self._on_norms_view_changed)
        for plot, view in self.views.items():
            view.scene().sigMouseMoved.connect(partial(self._on_mouse_moved, plot))

        self._timer = QTimer(self)
        self._timer.setInterval(PLOT_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw_next)
        self._next_timer = QTimer(self)  # the rest of a staged redraw, in the next pass
        self._next_timer.setSingleShot(True)
        self._next_timer.setInterval(0)
        self._next_timer.timeout.connect(self._redraw_next)
        self.clear_data()
        self._set_axis_labels()

    # -- data in ---------------------------------------------------------------------------
    def clear_data(self) -> None:
        """Forget the run's data (batches, epochs, norms, best epoch and its metric);
        overlays and the controls' settings stay."""
        self.batches = LossSeries(self._smoothing)
        self._history: list[dict] = []
        self._bpe = 0
        self.epochs.clear()
        self.norm_history = NormHistory()
        self.norms.clear()
        for sticky in self._ranges.values():
            sticky.reset()
        for plot in self._epoch_plots:  # accuracy in %: 0-100 until the first epoch
            empty_frame(plot.vb, (0, 100) if plot is self.acc_plot else (0, 1))
        self._dirty: set[pg.PlotItem] = set(self._plots)
        self._norms_drawn_at = -math.inf
        for plot, note in self.notes.items():
            note.set_ended(False)
            if plot is not self.norms_plot:
                self._note(plot)
        # Emptied one plot per event-loop pass, like a timer redraw: a run starts with
        # this, while the panel around is busy too.
        self._next_timer.start()

    def start(self) -> None:
        """Redraw periodically (while a run is going); the batch and norms plots leave
        their data room to grow."""
        for sticky in self._ranges.values():
            sticky.set_live(True)
        self._timer.start()

    def stop(self) -> None:
        """Stop redrawing, after drawing what is buffered."""
        self._timer.stop()
        self._next_timer.stop()
        self.update_curves()
        for sticky in self._ranges.values():
            sticky.set_live(False)  # no more growth to make room for: fit the data tightly
        for note in self.notes.values():  # an empty plot will not get data now
            note.set_ended(True)

    def add_batches(self, steps: list[int], losses: list[float], batches_per_epoch: int) -> None:
        """Buffer per-batch losses; ``steps`` are global 1-based optimizer-step numbers.

        Steps at or before ones already held (a run resumed from an earlier checkpoint)
        replace those and everything after them.
        """
        if not len(steps):
            return
        self._bpe = max(1, int(batches_per_epoch))
        self.batches.add(steps, losses, self._bpe)
        self._dirty.add(self.batch_plot)

    def add_epoch(self, m: dict) -> None:
        """Buffer one epoch's metrics (accuracies as fractions; val_* None without a split).

        An epoch number at or before ones already held (a run resumed from an earlier
        checkpoint) replaces those and the epochs after them.
        """
        epoch = int(m["epoch"])
        self._history = [h for h in self._history if int(h["epoch"]) < epoch]
        self._history.append(dict(m))
        self.epochs.note_epoch(m)  # the metric that picks the best epoch
        self._dirty.update(self._epoch_plots)

    def load_history(self, history: list[dict], batches_per_epoch: int,
                     batches: list[dict] | None = None) -> None:
        """Show an earlier segment of a run (resumed, reopened): its epochs, and ``batches``,
        its coarse batch losses (:func:`~workbench.core.runs.batches.read_batches`); later
        :meth:`add_epoch` calls continue the curves. Call after :meth:`clear_data`."""
        self._history = [dict(m) for m in history]
        for entry in batches or []:
            batches_per_epoch = batches_per_epoch or entry["num_batches"]
            self.batches.add(batch_steps(entry, batches_per_epoch), entry["loss"],
                             batches_per_epoch)
        if batches_per_epoch:
            self._bpe = max(1, int(batches_per_epoch))
        self._dirty.update(self._plots)

    def add_norms(self, step: int, names: list[str], grad_norms: list[float],
                  weight_norms: list[float]) -> None:
        """Buffer one sample of per-layer L2 norms (a layer's gradient norm may be 0 or NaN:
        it is left out of the log-scale drawing). Memory stays bounded on long runs (see
        :class:`~workbench.qt.plots.data.NormHistory`)."""
        if self.norm_history.add(int(step), names, grad_norms, weight_norms):
            self._dirty.add(self.norms_plot)

    def set_best_epoch(self, epoch: int | None, monitor: str | None = None) -> None:
        """Mark ``epoch`` as the best one on the loss and accuracy plots (``None``: none),
        named with ``monitor``, the metric that picked it (when not given: the one the
        run's epochs or :func:`~workbench.qt.plots.earlier.load_run` said, if any)."""
        self.epochs.set_best(epoch, monitor)
        self._dirty.update((self.loss_plot, self.acc_plot))

    def set_overlays(self, runs: list[dict]) -> None:
        """Overlay earlier runs' per-epoch curves, one colour each (:mod:`.overlays`).

        Parameters
        ----------
        runs
            ``{"name": str, "history": [metrics dicts]}`` each, optionally with
            ``"batches_per_epoch"`` (for the steps axis; else the current run's is used).
            ``[]`` removes the overlays.
        """
        self.overlays.set_runs(runs)
        self._dirty.update((self.loss_plot, self.acc_plot))
        self.update_curves()

    # -- settings (set_smoothing, set_log_scale, set_x_axis, set_norms_mode, set_norms_kind:
    # from ControlSetters) ------------------------------------------------------------------
    def point_counts(self) -> dict[str, int]:
        """How many points are held: batches, epochs, norm samples and layers, overlay runs."""
        return {"batches": len(self.batches), "epochs": len(self._history),
                "norm_samples": len(self.norm_history), "overlay_runs": len(self.overlays.runs),
                "norm_layers": len(self.norm_history.names)}

    @Slot(float)
    def _on_smoothing_changed(self, value: float) -> None:
        self._smoothing = value
        self.batches.set_smoothing(value)
        self._dirty.add(self.batch_plot)
        self.update_curves()

    @Slot(bool)
    def _on_log_scale_toggled(self, on: bool) -> None:
        self._log_y = on
        for plot in (self.batch_plot, self.loss_plot):
            plot.setLogMode(x=False, y=on)
        self._ranges[self.batch_plot].reset()
        self._dirty.update((self.batch_plot, self.loss_plot))  # overlays clipped, or not
        self.update_curves()

    @Slot(str)
    def _on_x_axis_changed(self, axis: str) -> None:
        self.x_axis = axis
        self._set_axis_labels()
        for plot in self._plots:  # the old ranges are in the other unit
            if plot in self._ranges:
                self._ranges[plot].reset()
            else:
                plot.enableAutoRange(axis="x")
        self._dirty.update(self._plots)
        self.update_curves()

    @Slot(str)
    def _on_norms_view_changed(self, _value: str) -> None:
        self.norms.set_mode(self.controls.norms_mode())
        self.norms.set_kind(self.controls.norms_kind())
        self.marks.hide(self.norms_plot)
        self._ranges[self.norms_plot].reset()
        self._dirty.add(self.norms_plot)
        self.update_curves()

    def _set_axis_labels(self) -> None:
        for plot in self._plots:
            plot.setLabel("bottom", "epoch" if self.x_axis == "epochs" else "step")

    # -- drawing ---------------------------------------------------------------------------
    def _epoch_scale(self) -> float:
        """x of epoch ``e`` is ``e * scale`` (1 on the epochs axis)."""
        return 1.0 if self.x_axis == "epochs" else float(max(1, self._bpe))

    def _step_scale(self) -> float:
        """x of step ``s`` is ``s / scale``."""
        return float(max(1, self._bpe)) if self.x_axis == "epochs" else 1.0

    def _batch_x(self) -> np.ndarray:
        return self.batches.x(in_steps=self.x_axis == "steps")

    @Slot()
    def update_curves(self) -> None:
        """Push everything buffered into the curves now (cheap when nothing changed)."""
        for plot in [p for p in self._plots if p in self._dirty]:
            self._redraw(plot)

    @Slot()
    def _redraw_next(self) -> None:
        """The timer's redraw: one plot per pass of the event loop.

        Each changed plot costs an update and a repaint; done one at a time, with the event
        loop running in between (input, the run's signals), the GUI never stalls for all of
        them together (at an epoch's end four plots change at once). The norms plot, which
        changes every few batches, is redrawn at most every :data:`NORMS_REDRAW_S`.
        """
        norms_due = time.monotonic() - self._norms_drawn_at >= NORMS_REDRAW_S
        due = [p for p in self._plots if p in self._dirty
               and (p is not self.norms_plot or norms_due)]
        if due:
            self._redraw(due[0])
            if due[0] is self.norms_plot:
                self._norms_drawn_at = time.monotonic()
        if len(due) > 1:
            self._next_timer.start()

    def _redraw(self, plot: pg.PlotItem) -> None:
        self._dirty.discard(plot)
        if plot is self.batch_plot:
            x = self._batch_x()
            self.batch_curve.setData(x, self.batches.losses.data)
            self.batch_smooth_curve.setData(x, self.batches.smoothed.data)
        elif plot is self.lr_plot:
            with_lr = [m for m in self._history if m.get("lr") is not None]
            self.lr.draw(self._epochs_x(with_lr), history_column(with_lr, "lr"))
        elif plot is self.norms_plot:
            self.norms.update(self.norm_history, self._step_scale())
        else:
            self._draw_epoch_plot("loss" if plot is self.loss_plot else "acc")
        if plot is not self.norms_plot:
            self._note(plot)
        if plot is self.batch_plot:
            self._ranges[plot].update(*self.batches.bounds(self.x_axis == "steps", self._log_y))
        if plot in self._ranges:
            self._follow_batches()
        # Fit the range (and the curves' downsampled data) to the new data now: done by
        # the paint itself, it changes what is drawn and the plot is painted a second time.
        plot.vb.prepareForPaint()

    def _follow_batches(self) -> None:
        """Range the norms plot over its samples and the batches so far: the samples are
        taken at batches, and the two plots of batches share their x range while a run
        goes (a sample an epoch left the norms plot's axis far behind the batch plot's)."""
        x, y = self.norms.drawn_bounds
        batches = self.batches.bounds(self.x_axis == "steps", False)[0]
        if x is not None and batches is not None:
            x = (min(x[0], batches[0]), max(x[1], batches[1]))
        self._ranges[self.norms_plot].update(x, y)

    def _note(self, plot: pg.PlotItem) -> None:
        """"No data yet" in an empty ``plot`` (not the norms plot: its view keeps its note)."""
        has = (len(self.batches) > 0 if plot is self.batch_plot else
               any(m.get("lr") is not None for m in self._history) if plot is self.lr_plot
               else bool(self._history or self.overlays.runs))
        self.notes[plot].set(None if has else NO_DATA)

    def _epochs_x(self, history: list[dict]) -> np.ndarray:
        return np.array([m["epoch"] for m in history], dtype=float) * self._epoch_scale()

    def _draw_epoch_plot(self, kind: str) -> None:
        """The loss or accuracy plot: the run's curves, the best epoch, the overlays."""
        self.epochs.draw(kind, self._history, self._epochs_x, self._epoch_scale())
        self.overlays.draw(kind, self.x_axis == "steps", self._bpe, self._history, self._log_y)

    # -- hover -----------------------------------------------------------------------------
    def _on_mouse_moved(self, plot: pg.PlotItem, scene_pos: QPointF) -> None:
        """Show what is nearest the mouse at ``scene_pos`` in ``plot``'s scene."""
        found = None
        if plot.vb.sceneBoundingRect().contains(scene_pos):
            p = plot.vb.mapSceneToView(scene_pos)
            found = self._readout_at(plot, p.x(), p.y())
        self.marks.hide_all_but(plot if found is not None and found[1] is not None else None)
        if found is None:
            return
        text, point = found
        self.readout.setText(text)
        if point is not None:
            self.marks.show(plot, point)

    def _readout_at(self, plot: pg.PlotItem, x: float, y: float) -> Readout:
        if plot is self.norms_plot:
            return self.norms.readout(self.norm_history, x, y)
        if plot is self.batch_plot:
            s = self.batches
            return batch_readout(x, self._batch_x(), s.steps.data, s.losses.data,
                                 s.smoothed.data, self._bpe)
        kind = "lr" if plot is self.lr_plot else "loss" if plot is self.loss_plot else "acc"
        scale = self._epoch_scale()
        found = epoch_readout(x / scale, kind, self._history, self.overlays, scale,
                              balanced=kind == "acc" and self.epochs.shows_balanced)
        return self.lr.on_axis(found) if kind == "lr" else found
