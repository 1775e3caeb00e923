"""Evaluate tab, an 80x80 confusion matrix zoomed in (a naturalist's 80 classes): choosing a
most-confused pair brings its cell into view, centred, keeping the zoom; a pair whose cell
is already in view leaves the view where it is."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from test_evaluate_confusion import SPECIES, _uneven, _view


def _in_view(heatmap, row: int, col: int) -> bool:
    (x0, x1), (y0, y1) = heatmap.plot.vb.viewRange()
    return x0 <= col and col + 1 <= x1 and y0 <= row and row + 1 <= y1


def _click_pair(view, cell: tuple[int, int]) -> None:
    item = next(view.pairs.item(i) for i in range(view.pairs.count())
                if tuple(view.pairs.item(i).data(Qt.ItemDataRole.UserRole)) == cell)
    view.pairs.setCurrentItem(item)
    view.pairs.itemClicked.emit(item)


@pytest.fixture
def zoomed(qtbot):
    m = _uneven(80)
    m[23, 4] = 8  # the most confused pair, far from where the user zoomed
    m[65, 66] = 6  # one inside the zoomed part
    view = _view(qtbot, m, SPECIES[:80])
    view.heatmap.plot.vb.setRange(QRectF(60, 60, 12, 12), padding=0)  # as the wheel does
    assert view.heatmap.zoomed() and not _in_view(view.heatmap, 23, 4)
    return view


def test_a_pair_out_of_view_is_centred_keeping_the_zoom(zoomed):
    heatmap = zoomed.heatmap
    (x0, x1), (y0, y1) = heatmap.plot.vb.viewRange()
    _click_pair(zoomed, (23, 4))
    assert heatmap.selected == (23, 4) and heatmap.highlight.isVisible()
    assert _in_view(heatmap, 23, 4), heatmap.plot.vb.viewRange()
    (a0, a1), (b0, b1) = heatmap.plot.vb.viewRange()
    assert a1 - a0 == pytest.approx(x1 - x0, rel=1e-3)  # the same zoom
    assert b1 - b0 == pytest.approx(y1 - y0, rel=1e-3)
    assert (b0 + b1) / 2 == pytest.approx(23.5, abs=0.01)  # the row centred
    # The column as near the middle as the matrix's left edge allows: no empty margin.
    assert a0 == pytest.approx(max(0.0, 4.5 - (a1 - a0) / 2), abs=0.01)
    assert zoomed.cell_label.text().startswith("true species_023")


def test_a_pair_in_view_leaves_the_view_alone(zoomed):
    heatmap = zoomed.heatmap
    before = heatmap.plot.vb.viewRange()
    _click_pair(zoomed, (65, 66))
    assert heatmap.selected == (65, 66)
    assert heatmap.plot.vb.viewRange() == before
