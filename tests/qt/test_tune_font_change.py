"""An application font change while the Tune tab is open (a desktop's text size changed
with the window open): Qt asks each widget's ``metric()`` again, and the history plot
once kept its metric's name in an attribute of that name ("'str' object is not
callable")."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget


def test_the_app_font_changes_with_the_tune_tab_open(qtbot, qapp, tune_panel):
    panel = tune_panel
    panel.resize(1200, 700)
    panel.show()
    qtbot.waitExposed(panel)
    plot = panel.history_plot
    # Qt's metric() must be the method: the font change below calls it from C++ (a str in
    # its place raised there, and crashed the offscreen platform).
    assert callable(plot.metric)
    font = qapp.font()
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.5)
    try:
        qapp.setFont(bigger)
        qtbot.waitUntil(lambda: plot.font().pointSizeF() == bigger.pointSizeF())
        plot.grab()  # painted at the new size
    finally:
        qapp.setFont(font)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        gc.collect()
    assert plot.metric_name == "val_acc"  # the name read from the plot, not metric()
    assert plot.metric(QWidget.PaintDeviceMetric.PdmDpiY) > 0
