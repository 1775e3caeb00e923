"""The Train tab's settings strip shows whole rows: at a laptop's 1366x768 its last row was
cut through the middle. The tab's first share of its height leaves the plots roomy, and
after a run (best epoch, an overlaid run, messages) the tab still fits the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import (QApplication, QCheckBox, QFormLayout, QGroupBox, QSpinBox,
                               QVBoxLayout, QWidget)

from workbench.qt.panels.train.layout import ROOMY_PLOT_HEIGHT, WholeRowsScroll, row_spans


def _settle(qtbot):
    for _ in range(3):  # layouts, then the fits they start
        QApplication.processEvents()
        qtbot.wait(20)


def _cut(scroll) -> list[tuple[int, int]]:
    """The rows of ``scroll``'s page that the top or bottom edge of its view goes through
    (in the view's coordinates)."""
    page, view = scroll.widget(), scroll.viewport()
    shift = page.mapTo(view, QPoint(0, 0)).y()
    rows = [(top + shift, bottom + shift) for top, bottom in row_spans(page)]
    return [(t, b) for t, b in rows if t < 0 < b or t < view.height() < b]


@pytest.fixture
def scroll(qtbot):
    """A page of 14 form rows of two heights (spin boxes, check boxes) in two groups."""
    page = QWidget()
    column = QVBoxLayout(page)
    for group in ("Run", "Early stopping"):
        box = QGroupBox(group)
        form = QFormLayout(box)
        for i in range(7):
            form.addRow(f"{group} {i}", QSpinBox() if i % 3 else QCheckBox())
        column.addWidget(box)
    area = WholeRowsScroll()
    area.setWidget(page)
    qtbot.addWidget(area)
    area.resize(300, 150)
    area.show()
    qtbot.waitExposed(area)
    return area


def test_the_view_ends_at_a_rows_edge_at_any_height(qtbot, scroll):
    line = scroll.fontMetrics().height()
    for height in range(100, 400, 7):
        scroll.resize(300, height)
        _settle(qtbot)
        assert not _cut(scroll), (height, _cut(scroll))
        assert scroll.trimmed <= 2 * line + 8  # at most about a row left blank
    scroll.resize(300, scroll.widget().sizeHint().height() + 20)  # all of it fits
    _settle(qtbot)
    assert scroll.trimmed == 0 and not scroll.verticalScrollBar().isVisible()


def test_scrolling_stops_at_rows_edges_and_reaches_the_end(qtbot, scroll):
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 100
    value = 0
    while value < bar.maximum():  # down a wheel step at a time
        wanted = value + 20
        bar.setValue(wanted)
        _settle(qtbot)
        assert bar.value() >= min(wanted, bar.maximum())
        value = bar.value()
        if value < bar.maximum():
            assert not _cut(scroll), (value, _cut(scroll))
    last = scroll.widget().findChildren(QSpinBox)[-1]
    assert last.visibleRegion().boundingRect().height() == last.height()  # the end shows
    while value > 0:  # and back up
        wanted = value - 20
        bar.setValue(wanted)
        _settle(qtbot)
        assert bar.value() <= max(wanted, 0)
        value = bar.value()
        assert not _cut(scroll), (value, _cut(scroll))


@pytest.fixture
def window(train_window):
    return train_window


@pytest.mark.parametrize("size", [(1366, 768), (1100, 706)])
def test_at_a_laptops_size_no_settings_row_is_cut_and_the_plots_stay_roomy(qtbot, window,
                                                                             size):
    panel = window.train_panel
    # The tallest forms: six parameters each.
    panel.optimizer_editor.combo.setCurrentText("RMSprop")
    panel.schedule_editor.combo.setCurrentText("OneCycleLR")
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    _settle(qtbot)
    assert panel.settings_tabs.widget(0).widget().sizeHint().height() > \
        panel.settings_tabs.widget(0).viewport().height()  # it scrolls: a row is at the edge
    # The first share left each plot its roomy height (the settings scroll instead).
    assert all(v.height() >= ROOMY_PLOT_HEIGHT - 1 for v in panel.plots.views.values())
    for i in range(panel.settings_tabs.count()):
        panel.settings_tabs.setCurrentIndex(i)
        _settle(qtbot)
        scroll = panel.settings_tabs.widget(i)
        assert isinstance(scroll, WholeRowsScroll)
        assert not _cut(scroll), (i, _cut(scroll))


@pytest.mark.parametrize("size", [(1366, 768), (1100, 706)])
def test_after_a_run_with_an_overlay_the_tab_still_fits_the_window(qtbot, window, size):
    """Qt's minimum of the plots wrapped their headers as if at their narrowest: after a
    run (a best epoch, an overlaid run, the saved-model line) the tab outgrew the default
    window, scrolled, and the plots' bottom axis was cut."""
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    panel, plots = window.train_panel, window.train_panel.plots
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_acc": 0.5,
                "val_acc": 0.5, "lr": 0.001} for e in (1, 2, 3)]
    for m in history:
        plots.add_epoch(m)
    plots.set_best_epoch(3)
    plots.set_overlays([{"name": "shapes-seed-cnn-1", "history": history[:2]}])
    panel.status.show_message("Finished 3 epochs. Model kept: epoch 3.", "ok")
    panel.cache_label.setText("Decoded-image cache full: 1,000 images at 32x32.")
    panel.run_label.show_message("Model saved to /tmp/runs/shapes-seed-cnn-2/bundle.pt "
                                 "(try it on the Predict tab).", "ok")
    _settle(qtbot)
    # The plots ask for what they need at their width, no more.
    area = plots.parentWidget()
    assert area.minimumSizeHint().height() <= \
        plots.layout().totalMinimumHeightForWidth(area.width())
    assert not panel.scroll.verticalScrollBar().isVisible()
    assert window.height() == size[1]
    header = plots.headers[plots.loss_plot]
    assert header.heightForWidth(header.width()) <= header.height()  # the legend not cut
    bottom = panel.run_label.mapTo(panel, panel.run_label.rect().bottomLeft()).y()
    assert bottom < panel.height()
