"""Overlaid runs on the Train tab's plots: train and validation drawn apart, named apart in
the legend, and names that a wrapping header never breaks in the middle."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument, QTextOption
from PySide6.QtWidgets import QApplication

from workbench.qt.plots.overlays import JOINER, NAME_CHARS, NB_HYPHEN, short_name

LONG = "2026-12-06 resnet18-pretrained-augmented-lr0.01-run-13"


def _epoch(e: int, val: bool = True) -> dict:
    return {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 100,
            "val_loss": 1.2 / e if val else None, "val_acc": 0.4 + e / 100 if val else None}


def _plain(text: str) -> str:
    return text.replace(NB_HYPHEN, "-").replace(JOINER, "")


def test_an_overlays_train_and_validation_curves_differ_in_line_and_marks(plots):
    """Both were dashed in one colour (1.5 px dashes and dots looked alike): now the
    validation curve is dashed with a ring at each epoch, the train curve dotted and bare,
    and the live run keeps its solid lines."""
    plots.set_overlays([{"name": "run-3", "history": [_epoch(e) for e in (1, 2, 3)]}])
    curves = plots.overlays.curves[0]
    for kind in ("loss", "acc"):
        train, val = curves[f"train_{kind}"], curves[f"val_{kind}"]
        assert val.opts["pen"].style() == Qt.PenStyle.DashLine
        assert train.opts["pen"].style() == Qt.PenStyle.DotLine
        assert val.opts["symbol"] == "o" and train.opts["symbol"] is None
        assert val.opts["pen"].color() == train.opts["pen"].color()  # one colour a run
        assert val.opts["pen"].widthF() >= 2 and train.opts["pen"].widthF() >= 2
    for live in (plots.train_loss_curve, plots.val_loss_curve):
        assert live.opts["pen"].style() == Qt.PenStyle.SolidLine
    assert curves["val_loss"].opts["pen"].color() != plots.val_loss_curve.opts["pen"].color()


def test_the_legend_names_each_overlays_train_and_validation_curve(plots):
    plots.set_overlays([{"name": "run-3", "history": [_epoch(e) for e in (1, 2)]},
                        {"name": "run-4", "history": [_epoch(1, val=False)]}])
    legend = plots.loss_plot.legend
    # One entry a run, naming it once: "run-3 ┄┄ train ╌●╌ val"; run-4 has no val.
    assert [_plain(t) for t in legend.shown_texts()] == [
        "train", "validation", "run-3: train, val", "run-4: train"]
    header = plots.headers[plots.loss_plot].text()
    assert "┄┄" in header and "╌●╌" in header  # the samples: dotted, dashed with a mark
    a = plots.overlays.curves[0]
    for curve in (a["train_loss"], a["val_loss"]):  # in the run's colour
        assert curve.opts["pen"].color().name() in header
    # The accuracy plot (a third of the width) has one entry for them, in their colours.
    acc_legend = plots.acc_plot.legend
    assert acc_legend.shown_texts() == ["train", "validation", "2 overlaid runs"]
    acc_header = plots.headers[plots.acc_plot]
    for curves in plots.overlays.curves:
        assert curves["val_acc"].opts["pen"].color().name() in acc_header.text()
    assert "run-4" in acc_header.toolTip()

    plots.set_overlays([])
    assert legend.shown_texts() == ["train", "validation"]
    assert acc_legend.shown_texts() == ["train", "validation"]
    assert acc_header.toolTip() == ""


@pytest.mark.parametrize("val", [True, False])
def test_the_accuracy_plot_names_a_single_overlaid_run(plots, val):
    """Only the loss plot named an overlaid run: its accuracy curves were anonymous."""
    plots.set_overlays([{"name": "run-3", "history": [_epoch(e, val) for e in (1, 2)]}])
    acc_legend = plots.acc_plot.legend
    assert [_plain(t) for t in acc_legend.shown_texts()] == ["train", "validation", "run-3"]
    curves = plots.overlays.curves[0]
    assert acc_legend.entry(curves["val_acc" if val else "train_acc"]) is not None
    header = plots.headers[plots.acc_plot].text()
    assert ("╌●╌" if val else "┄┄") in header  # its validation (or train) curve's sample


@pytest.mark.parametrize("runs", [1, 2, 5])
def test_the_accuracy_header_keeps_to_two_lines_with_overlays(plots, runs):
    """At the default window size (1100x706) the plots are 1078 px wide: the accuracy
    plot's header is a third of it, less its padding."""
    plots.set_overlays([{"name": f"{LONG}-{i}", "history": [_epoch(e) for e in (1, 2)]}
                        for i in range(runs)])
    plots.set_best_epoch(10)
    plots.update_curves()
    header = plots.headers[plots.acc_plot]
    assert len(_lines(header.text(), header.font(), 1078 // 3 - 4)) <= 2


def test_long_run_names_lose_their_middle_and_keep_their_end():
    assert short_name("run-3") == f"run{NB_HYPHEN}3"
    short = _plain(short_name(LONG))
    assert len(short) == NAME_CHARS and "…" in short
    assert short.startswith("2026-12-") and short.endswith("lr0.01-run-13"[-8:])
    # Names that differ only at the end stay apart.
    assert short_name(LONG[:-1] + "4") != short_name(LONG)
    assert "-" not in short_name(LONG)  # only non-breaking hyphens


def test_the_header_tooltip_and_the_hover_give_the_full_names(plots):
    plots.set_overlays([{"name": LONG, "history": [_epoch(e) for e in (1, 2)]}])
    header = plots.headers[plots.loss_plot]
    assert LONG not in _plain(header.text())  # shortened in the legend...
    assert LONG in header.toolTip()  # ...whole in its tooltip
    assert "dashed" in header.toolTip() and "dotted" in header.toolTip()
    plots.update_curves()
    assert f"{LONG}: train loss" in plots.overlays.readout(1, "loss")
    plots.set_overlays([])
    assert header.toolTip() == ""


def _lines(html: str, font, width: int) -> list[str]:
    """The lines a word-wrapped label ``width`` px wide shows ``html`` in."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)  # as a QLabel with word wrap
    doc.setDefaultTextOption(option)
    doc.setHtml(html)
    doc.setTextWidth(width)
    doc.size()  # lays the text out
    lines, block = [], doc.begin()
    while block.isValid():
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            lines.append(block.text()[line.textStart():line.textStart() + line.textLength()])
        block = block.next()
    return lines


@pytest.mark.parametrize("name", ["shapes-seed-cnn-1", LONG, "my run 2", "cnn/aug-on"])
def test_a_wrapping_header_never_breaks_an_overlay_entry(plots, name):
    """The header wraps whole parts of an entry: "shapes-" / "seed-cnn-1 val" was split at
    a hyphen (Qt breaks after one even inside white-space: nowrap). A narrow header may
    break a run's entry before its validation part, nowhere else."""
    plots.set_overlays([{"name": name, "history": [_epoch(e) for e in (1, 2)]}])
    header = plots.headers[plots.loss_plot]
    [entry] = [t for t in header.legend.shown_texts() if t.endswith(": train, val")]
    parts = [entry.split(": ")[0] + " ┄┄ train", "╌●╌ val"]
    for width in range(150, 460, 10):
        lines = [line.replace("\xa0", " ") for line in _lines(header.text(), header.font(),
                                                               width)]
        for part in parts:
            assert any(part in line for line in lines), (width, part, lines)


@pytest.mark.parametrize("name", ["shapes-seed-cnn-12", LONG, "WWWWWWWWWWWWWWWWWW"])
@pytest.mark.parametrize("best", [7, 100])
def test_the_loss_header_keeps_to_two_lines_with_one_overlaid_run(plots, name, best):
    """At the default window size (1100x706) the loss plot's header wrapped to three lines
    with one overlaid run ("run train" and "run val" each named it), taking the plot's
    height; it names the run once and keeps to two lines."""
    plots.resize(1078, 560)  # the plots' width in the window at 1100x706
    plots.add_epoch(_epoch(1))
    plots.set_overlays([{"name": name, "history": [_epoch(e) for e in (1, 2)]}])
    plots.set_best_epoch(best)
    plots.update_curves()
    header = plots.headers[plots.loss_plot]
    QApplication.processEvents()
    assert f"best: epoch {best}" in header.legend.shown_texts()
    assert len(_lines(header.text(), header.font(), header.contentsRect().width())) <= 2
    line = header.fontMetrics().lineSpacing()
    assert header.height() < 3 * line  # as laid out: two lines, not three
    assert name in header.toolTip()  # the full name, however the legend shortens it
