"""Earlier runs' per-epoch curves drawn over the live ones, for comparison.

Each run gets one colour, on the loss and the accuracy plot. The live run's curves are solid
with a dot at each epoch (train blue, validation orange); an overlaid run's validation curve
is dashed with a ring at each epoch and its training curve dotted without marks, so the two
differ in both line and marks, not only in a dash pattern hard to tell at 1.5 px. The loss
plot's legend names both in one entry a run, "run-3 ┄┄ train ╌●╌ val" (the name once: two
entries repeating it wrapped the header to three lines at the default window width), the
name shortened in the middle (:func:`short_name`, so "…-cnn-12" and "…-cnn-13" still
differ); the headers' tooltips and the hover read-out give the full names.
The accuracy plot's header, a third of the width, has room for one more entry in its two
lines: it names a single run once ("╌●╌ run-3", in the loss plot's styles), and more runs
together, in their colours ("╌●╌╌●╌ 2 overlaid runs": the loss plot names them); past
:data:`LOSS_ENTRIES` runs the loss plot does the same (the tooltips name them all).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

from workbench.qt.plots.header import PlotHeader, sample_html
from workbench.qt.plots.offscale import clip, loss_peak, off_scale, off_scale_line

# Distinct from the live run's blue and orange, and readable on white.
_PALETTE = [(44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194),
            (127, 127, 127), (188, 189, 34), (23, 190, 207), (0, 0, 128), (128, 0, 0)]
#: Longest run name a legend entry shows whole; longer ones lose their middle.
NAME_CHARS = 18
NB_HYPHEN = "\u2011"  # looks like "-"; no line break after it
JOINER = "\u2060"  # the word joiner: invisible, no line break on either side
#: The legend's word for each split (the hover read-out spells "validation" out).
SPLIT_WORDS = {"train": "train", "val": "val"}
#: The most runs whose colours the accuracy plot's one entry for them all shows.
ACC_SAMPLES = 4
#: The most runs the loss plot names one by one; more get one entry ("6 overlaid runs"),
#: as on the accuracy plot: six entries wrapped the header and orphaned their "val".
LOSS_ENTRIES = 3


def overlay_colour(i: int) -> tuple[int, int, int]:
    """The colour of the ``i``-th overlaid run (the palette repeats, darker, past its end)."""
    r, g, b = _PALETTE[i % len(_PALETTE)]
    shade = 0.6 ** (i // len(_PALETTE))
    return int(r * shade), int(g * shade), int(b * shade)


def short_name(name: str, limit: int = NAME_CHARS) -> str:
    """``name`` as a legend shows it: whole when at most ``limit`` characters, else its
    start and end around "…" (run names share prefixes, "shapes-seed-cnn-1" and "-2": the
    end tells them apart), unbreakable: a header wrapping its entries split one as
    "shapes-" / "seed-cnn-1" (Qt breaks a line after a hyphen even inside a
    ``white-space: nowrap`` span, which only keeps its spaces together)."""
    if len(name) > limit:
        tail = (limit - 1) // 2
        name = name[:limit - 1 - tail].rstrip() + "…" + name[-tail:].lstrip()
    # A line may also break after "…" and "/": joined to the next character, they don't.
    return (name.replace("-", NB_HYPHEN).replace("…", "…" + JOINER)
            .replace("/", "/" + JOINER))


def fitted_name(name: str, metrics: QFontMetrics | None = None) -> str:
    """:func:`short_name`, shortened further (in the middle) until it is no wider in
    ``metrics`` than :data:`NAME_CHARS` x's: 18 capitals or wide digits took half as much
    again as 18 lower-case letters, and wrapped a header by a line."""
    limit, short = NAME_CHARS, short_name(name)
    if metrics is not None:
        budget = metrics.horizontalAdvance("x" * NAME_CHARS)
        while limit > 5 and metrics.horizontalAdvance(short) > budget:
            limit -= 1
            short = short_name(name, limit)
    return short


def overlay_pens(colour: tuple[int, int, int]) -> dict[str, dict[str, Any]]:
    """The ``plot()`` keywords of a run's "train" and "val" curves in ``colour``: validation
    dashed with white-filled rings at the epochs, training dotted and unmarked."""
    return {
        "val": {"pen": pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                "symbol": "o", "symbolSize": 7, "symbolBrush": "w",
                "symbolPen": pg.mkPen(colour, width=1.5), "antialias": True},
        "train": {"pen": pg.mkPen(colour, width=2, style=Qt.PenStyle.DotLine),
                  "antialias": True},
    }


class Overlays:
    """The overlaid runs and their curves on ``loss_plot`` and ``acc_plot``; ``header``
    and ``acc_header`` (the plots' headers, optional) get the runs' full names as their
    tooltips."""

    def __init__(self, loss_plot: pg.PlotItem, acc_plot: pg.PlotItem,
                 header: PlotHeader | None = None, acc_header: PlotHeader | None = None):
        self.loss_plot = loss_plot
        self.acc_plot = acc_plot
        self.headers = [h for h in (header, acc_header) if h is not None]
        self._tooltips = [h.toolTip() for h in self.headers]
        self.runs: list[dict[str, Any]] = []
        self.curves: list[dict[str, pg.PlotDataItem]] = []
        self._runs_entries: list[tuple[Any, RunsEntry]] = []  # "2 overlaid runs", legend
        self._run_entries: list[RunEntry] = []  # "run-3 ┄┄ train ╌●╌ val" on loss_plot
        #: The runs clipped at the top of the loss plot (:mod:`.offscale`), by name.
        self.off_scale: list[str] = []

    def set_runs(self, runs: list[dict]) -> None:
        """Replace the overlaid runs (see :meth:`TrainingPlots.set_overlays`)."""
        self._remove_curves()
        self.runs, self.off_scale = [], []
        for i, run in enumerate(runs):
            history = [dict(m) for m in (run.get("history") or [])
                       if isinstance(m, dict) and _is_number(m.get("epoch"))]
            history.sort(key=lambda m: float(m["epoch"]))
            self.runs.append({"name": str(run.get("name") or f"run {i + 1}"),
                              "history": history,
                              "batches_per_epoch": int(run.get("batches_per_epoch") or 0)})
        for i, run in enumerate(self.runs):
            styles = overlay_pens(overlay_colour(i))
            curves = {f"{split}_{kind}": plot.plot(**styles[split])
                      for kind, plot in (("loss", self.loss_plot), ("acc", self.acc_plot))
                      for split in ("train", "val")}
            # Named by hand, once, with its splits in the live run's order (train, then
            # validation); a split the run lacks (no validation set) is left out.
            splits = [(split, curves[f"{split}_loss"]) for split in ("train", "val")
                      if any(m.get(f"{split}_loss") is not None for m in run["history"])]
            if splits and self.loss_plot.legend is not None and len(runs) <= LOSS_ENTRIES:
                entry = RunEntry(self._name(run["name"]), splits)
                self.loss_plot.legend.addItem(entry, entry.text)
                self._run_entries.append(entry)
            self.curves.append(curves)
        self._name_on_acc_plot()
        if len(self.runs) > LOSS_ENTRIES and self.loss_plot.legend is not None:
            self._add_runs_entry(self.loss_plot.legend, "val_loss")
        self._show_tooltip()

    def _name_on_acc_plot(self) -> None:
        """One entry in the accuracy plot's legend: the run (its validation curve's
        sample, or its training curve's without one), or the runs in their colours."""
        legend = self.acc_plot.legend
        if legend is None or not self.runs:
            return
        if len(self.runs) == 1:
            run, curves = self.runs[0], self.curves[0]
            has_val = any(m.get("val_acc") is not None for m in run["history"])
            legend.addItem(curves["val_acc" if has_val else "train_acc"],
                           self._name(run["name"]))
            return
        self._add_runs_entry(legend, "val_acc")

    def _add_runs_entry(self, legend: Any, key: str) -> None:
        """One entry for all the runs: their ``key`` curves' samples, "N overlaid runs"
        (the header's tooltip names them)."""
        samples = [sample_html(curves[key]) for curves in self.curves[:ACC_SAMPLES]]
        more = "…" if len(self.runs) > ACC_SAMPLES else ""
        entry = RunsEntry("".join(samples) + more)
        legend.addItem(entry, f"{len(self.runs)} overlaid runs")
        self._runs_entries.append((legend, entry))

    def _name(self, name: str) -> str:
        """``name`` as the legends show it (:func:`fitted_name` in the headers' font)."""
        return fitted_name(name, self.headers[0].fontMetrics() if self.headers else None)

    def _show_tooltip(self) -> None:
        lines = ["Overlaid runs: validation dashed with rings, train dotted."]
        lines += [f"• {run['name']}" for run in self.runs]
        off = [off_scale_line(name) for name in self.off_scale]
        for i, (header, tooltip) in enumerate(zip(self.headers, self._tooltips)):
            text = "\n".join(lines + (off if i == 0 else [])) if self.runs else tooltip
            if header.toolTip() != text:
                header.setToolTip(text)

    def _remove_curves(self) -> None:
        for legend, runs_entry in self._runs_entries:
            legend.removeItem(runs_entry)
        self._runs_entries = []
        for entry in self._run_entries:
            if self.loss_plot.legend is not None:
                self.loss_plot.legend.removeItem(entry)
        self._run_entries = []
        for curves in self.curves:
            for key, curve in curves.items():
                plot = self.loss_plot if key.endswith("loss") else self.acc_plot
                if plot.legend is not None:
                    plot.legend.removeItem(curve)
                plot.removeItem(curve)
        self.curves = []

    def draw(self, kind: str, steps_axis: bool, current_bpe: int,
             live: list[dict] | None = None, log_y: bool = False) -> None:
        """Set the data of the ``kind`` ("loss" or "acc") curves; on the steps axis,
        x = epoch x batches per epoch. On a linear loss axis, runs far above the others
        and the ``live`` run's epochs are clipped at its top (:mod:`.offscale`)."""
        off, ceiling = set(), float("inf")
        if kind == "loss":
            if not log_y:
                off, ceiling = off_scale([loss_peak(r["history"]) for r in self.runs],
                                         [loss_peak(live or [])])
            self.off_scale = [self.runs[i]["name"] for i in sorted(off)]
            self._show_tooltip()
        for i, (run, curves) in enumerate(zip(self.runs, self.curves)):
            scale = float(run["batches_per_epoch"] or current_bpe or 1) if steps_axis else 1.0
            for key in (f"train_{kind}", f"val_{kind}"):
                rows = [m for m in run["history"] if m.get(key) is not None]
                x = np.array([float(m["epoch"]) for m in rows]) * scale
                y = np.array([_float(m[key]) for m in rows])
                if i in off:
                    y = clip(y, ceiling)
                curves[key].setData(x, 100 * y if kind == "acc" else y)

    def readout(self, epoch: int, kind: str) -> str:
        """Each run's ``kind`` ("loss" or "acc") values at ``epoch``, as text."""
        parts = []
        for run in self.runs:
            m = next((m for m in run["history"] if float(m["epoch"]) == epoch), None)
            if m is None:
                continue
            values = []
            for split, word in (("train", "train"), ("val", "validation")):
                v = m.get(f"{split}_{kind}")
                if v is not None:
                    values.append(f"{word} {'loss' if kind == 'loss' else 'accuracy'} "
                                  f"{_fmt(v, kind)}")
            if values:
                parts.append(f"{run['name']}: {', '.join(values)}")
        return " · ".join(parts)


class RunEntry:
    """A run's one entry in the loss plot's legend: "name ┄┄ train ╌●╌ val", the
    samples drawn like its ``splits`` ((split, curve) pairs); ``text`` says the same in
    words, "name: train, val". A narrow header may break it before its validation part,
    nowhere else."""

    def __init__(self, name: str, splits: list[tuple[str, Any]]):
        words = [SPLIT_WORDS[split] for split, _ in splits]
        self.text = f"{name}: {', '.join(words)}"
        parts = [f"{sample_html(curve)}&nbsp;{SPLIT_WORDS[split]}" for split, curve in splits]
        parts[0] = f"{html.escape(name)}&nbsp;{parts[0]}"
        self.legend_html = " ".join(f"<span style='white-space:nowrap'>{p}</span>"
                                          for p in parts)


class RunsEntry:
    """A legend entry of its own drawing (``legend_sample``, rich text), for several runs."""

    def __init__(self, legend_sample: str):
        self.legend_sample = legend_sample


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _fmt(value: Any, kind: str) -> str:
    v = _float(value)
    if not math.isfinite(v):
        return "n/a"
    return f"{100 * v:.1f}%" if kind == "acc" else f"{v:.4g}"
