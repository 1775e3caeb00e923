"""The Tune tab's parameter importance on a laptop's screen: in the window at 1366x768
(maximised), at its default size there, and at 125% scaling (1093x614 logical pixels and
the default size there), every parameter's name is whole, each bar has a row of text height
and room to be compared with the others, and its value is shown in the plot.

From a UI review: beside the optimisation history the importance plot was about 440 px
wide, its names took all but ~20 px of it, and the bars were slivers."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QStackedWidget

#: Bars need this much width to be compared at a glance (the longest fills it).
MIN_BAR_WIDTH = 150


def _settle(qtbot):
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)


def _bring_into_view(widget):
    """Select every tab (of the window, of the panel) on the way to ``widget``."""
    child = widget
    while child.parentWidget() is not None:
        parent = child.parentWidget()
        if isinstance(parent, QStackedWidget):
            parent.setCurrentWidget(child)
        child = parent


@pytest.mark.parametrize("size", [(1366, 768), (1100, 706), (1093, 614), (1038, 564)])
def test_every_parameter_name_and_bar_is_readable(qtbot, train_window, size):
    window = train_window
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    panel = window.tune_panel
    editor = panel.editor
    paths = list(editor.paths)  # every field of the default network: 10
    assert len(paths) >= 9
    # Importances as Optuna gives them: summing to 1, some tiny.
    weights = [0.4, 0.2, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03, 0.015, 0.005, 0.001][:len(paths)]
    importances = dict(zip(paths, weights))
    plot = panel.importance_plot
    plot.set_importances(importances)
    _bring_into_view(plot)
    _settle(qtbot)
    assert window.height() == size[1]  # not grown off the screen

    # The plot is whole on the screen: nothing covers or cuts it.
    assert plot.isVisible()
    shown = plot.viewport()
    assert shown.visibleRegion().boundingRect() == shown.rect()

    view = plot.plot_item.getViewBox()
    bars = view.sceneBoundingRect()
    axis = plot.plot_item.getAxis("left")
    metrics = QFontMetrics(plot.font())
    names = [editor.label_of(p) for p in paths]
    assert "Layer 8 (Linear) out_features" in names
    # The bars have room to be compared ...
    assert bars.width() >= MIN_BAR_WIDTH, bars.width()
    # ... each a row at least a line of text high (the names never overlap) ...
    assert bars.height() / (len(paths) + 0.2) >= metrics.height(), bars.height()
    # ... every name fits the axis left of them, and the axis is inside the plot ...
    longest = max(metrics.horizontalAdvance(n) for n in names)
    assert axis.sceneBoundingRect().left() >= 0
    assert axis.width() >= longest, (axis.width(), longest)
    ticks = [label for level in axis._tickLevels for _y, label in level]
    assert sorted(ticks) == sorted(names)
    # ... and their values are beside them, inside the plot.
    values = getattr(plot, "values", [])
    assert len(values) == len(paths)
    for text in values:
        assert bars.contains(text.sceneBoundingRect()), text.toPlainText()
    assert sorted(t.toPlainText() for t in values)[-1] == "0.40"
