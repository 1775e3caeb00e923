"""Keyboard use: Tab leaves every table (the controls after one were out of reach: Qt's
tables moved Tab from cell to cell and wrapped round), the Model tab's toolbar buttons take
the focus, and the main tabs have Ctrl+1..8."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from helpers import make_photo_folder
from qt_helpers import loaded_data_panel

WAIT_MS = 30000


def shown(qtbot, widget: QWidget, size=(1366, 768)) -> QWidget:
    """``widget`` shown as the active window (focus and shortcuts need one)."""
    widget.resize(*size)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget.window(), timeout=WAIT_MS)
    return widget


def tab_stops(qtbot, start: QWidget, presses: int = 60) -> list[QWidget]:
    """The widgets the focus goes to, pressing Tab ``presses`` times from ``start``."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus, timeout=WAIT_MS)
    stops = []
    for _ in range(presses):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        stops.append(QApplication.focusWidget())
    return stops


def test_tab_goes_from_the_class_table_on_to_the_data_settings(qtbot, image_folder):
    panel = shown(qtbot, loaded_data_panel(qtbot, image_folder))
    settings = panel.settings
    stops = tab_stops(qtbot, panel.class_table)
    assert stops[0] is not panel.class_table
    for widget in (settings.val_fraction, settings.stratified, settings.compute_button,
                   settings.balance_combo):
        assert widget in stops, widget
    back = panel.class_table
    back.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(back, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is not back  # Shift+Tab leaves it too


def test_tab_goes_from_the_runs_table_on_to_every_button(qtbot, workbench_home):
    from test_runs_panel import click_row, listed_panel, make_run
    from workbench.core.io import runs_dir

    make_run(runs_dir(), "a", "alpha", bundle=True)
    panel = shown(qtbot, listed_panel(qtbot))
    click_row(qtbot, panel, 0)
    stops = tab_stops(qtbot, panel.table)
    buttons = [panel.rename_button, panel.notes_button, panel.delete_button,
               panel.export_button, panel.predict_button, panel.evaluate_button,
               panel.continue_button, panel.sharing.report_button,
               panel.sharing.tensorboard_button]
    missed = [b.text() for b in buttons if b.isEnabled() and b not in stops]
    assert not missed
    assert panel.rename_button in stops and panel.delete_button in stops


def test_tab_goes_from_the_tune_space_on_to_continue_study(qtbot, tiny_experiment):
    from workbench.qt.panels.tune.panel import TunePanel
    from workbench.qt.panels.tune.space_editor import COL
    from workbench.qt.workers import task_pool

    panel = TunePanel(tiny_experiment)
    qtbot.addWidget(panel)
    shown(qtbot, panel)
    try:
        assert panel.continue_check in tab_stops(qtbot, panel.editor)
        # The table is still worked by keyboard: arrows to a row, Space ticks it, F2 edits.
        editor, field = panel.editor, COL["Field"]
        editor.setFocus(Qt.FocusReason.TabFocusReason)
        editor.setCurrentCell(0, field)
        QTest.keyClick(editor, Qt.Key.Key_Down)
        assert editor.currentRow() == 1
        was = editor.item(1, field).checkState()
        QTest.keyClick(editor, Qt.Key.Key_Space)
        assert editor.item(1, field).checkState() != was
        editor.setCurrentCell(1, COL["High"])
        QTest.keyClick(editor, Qt.Key.Key_F2)
        assert editor.state() == QAbstractItemView.State.EditingState
    finally:
        panel.shutdown()
        task_pool().waitForDone()


def test_tab_goes_from_the_health_findings_on_to_reveal(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d")
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    panel = shown(qtbot, loaded_data_panel(qtbot, root))
    panel.views.setCurrentWidget(panel.health)
    health = panel.health
    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.check_button.click()
    qtbot.waitUntil(lambda: health.reveal_button.isEnabled(), timeout=WAIT_MS)
    assert health.reveal_button in tab_stops(qtbot, health.table)


def test_tab_leaves_every_table_and_list_of_the_window(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow, TABS

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    shown(qtbot, window)
    for name, *_ in TABS:
        page = window.tabs.page(name)
        window.tabs.setCurrentWidget(page)
        for view in page.findChildren(QAbstractItemView):
            assert not view.tabKeyNavigation(), (name, type(view).__name__)
            if view.isVisible() and view.isEnabled() and \
                    view.focusPolicy() & Qt.FocusPolicy.TabFocus:
                view.setFocus(Qt.FocusReason.TabFocusReason)
                qtbot.waitUntil(view.hasFocus, timeout=WAIT_MS)
                QTest.keyClick(view, Qt.Key.Key_Tab)
                assert QApplication.focusWidget() is not view, (name, type(view).__name__)


def test_the_model_toolbar_buttons_are_reached_with_tab_and_pressed_with_space(qtbot):
    from workbench.core.experiment import Experiment
    from workbench.core.model.presets import preset_layers
    from workbench.qt.panels.model.panel import ModelPanel

    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers, exp.model.preset = preset_layers("mlp"), "mlp"
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    shown(qtbot, panel)
    qtbot.waitUntil(lambda: panel.tools.summary_action.isEnabled(), timeout=WAIT_MS)
    buttons = {a.text(): panel.toolbar.widgetForAction(a) for a in panel.tools.actions}
    stops = tab_stops(qtbot, panel.preset_combo, presses=120)
    missed = [text for text, b in buttons.items() if b not in stops]
    assert not missed
    summary = buttons["Copy summary"]
    summary.setFocus(Qt.FocusReason.TabFocusReason)
    QGuiApplication.clipboard().clear()
    QTest.keyClick(summary, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Linear" in QGuiApplication.clipboard().text(), timeout=WAIT_MS)


def test_ctrl_and_a_number_shows_that_tab(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow, TABS

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    shown(qtbot, window)
    for i in (3, 7, 0):
        QTest.keyClick(window, Qt.Key(Qt.Key.Key_1.value + i), Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == i
        assert window.tabs.tabToolTip(i) == f"{TABS[i][1]} (Ctrl+{i + 1})"


def test_tab_on_the_train_tab_goes_from_each_type_to_its_settings(qtbot, train_window):
    """Each settings form (built once torch has loaded) joined the end of the Tab order:
    Tab went from the optimizer's Type to the schedule's, then through the plots (five
    stops that showed no focus) before reaching lr. Now: Type, its settings, the next
    group; the plots and the scroll areas are no Tab stops."""
    from PySide6.QtWidgets import QAbstractScrollArea, QGraphicsView

    from workbench.qt.keyboard import focus_stops

    window = shown(qtbot, train_window, size=(960, 706))
    panel = window.train_panel
    font = panel.settings_tabs.font()
    font.setPointSizeF(14)  # a large desktop font: the page scrolls sideways
    panel.settings_tabs.setFont(font)
    optimizer, schedule = panel.optimizer_editor, panel.schedule_editor
    optimizer.combo.setCurrentText("SGD")  # forms built anew, as they are after start-up
    schedule.combo.setCurrentText("StepLR")
    qtbot.waitUntil(lambda: schedule.form.isVisible(), timeout=WAIT_MS)
    stops = tab_stops(qtbot, panel.name_edit, presses=30)
    expected = ([optimizer.combo] + focus_stops(optimizer.form)
                + [schedule.combo] + focus_stops(schedule.form))
    assert len(expected) >= 6 and optimizer.form.editors["lr"] in expected
    at = stops.index(optimizer.combo)
    assert stops[at:at + len(expected)] == expected, " ".join(type(w).__name__ for w in stops)
    assert stops[at - 1] is panel.settings_tabs.tabBar()  # after the run controls and tabs
    assert stops.index(panel.start_button) < at
    unmarked = [type(w).__name__ for w in stops if isinstance(w, QGraphicsView) or not
                w.isVisible() or isinstance(w, QAbstractScrollArea) and not isinstance(
                    w, QAbstractItemView)]  # a plot or a scroll area shows no focus
    assert not unmarked
    page = panel.settings_tabs.currentWidget()
    # Leaving the schedule (at the right of the page) scrolls the page back to its left edge.
    qtbot.waitUntil(lambda: page.horizontalScrollBar().maximum() > 0, timeout=WAIT_MS)
    schedule.combo.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: page.horizontalScrollBar().value() > 0, timeout=WAIT_MS)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab,
                   Qt.KeyboardModifier.ShiftModifier)  # back to the optimizer's last row
    qtbot.waitUntil(lambda: page.horizontalScrollBar().value() == 0, timeout=WAIT_MS)
    loss = panel.loss_editor  # the Loss tab: Type, then its settings
    panel.settings_tabs.setCurrentIndex(1)
    expected = [loss.combo] + focus_stops(loss.form)
    assert len(expected) > 1
    assert tab_stops(qtbot, panel.settings_tabs.tabBar(), presses=8)[:len(expected)] == expected
    panel.settings_tabs.setCurrentIndex(2)  # Device & run: the device, then its options
    stops = tab_stops(qtbot, panel.settings_tabs.tabBar(), presses=6)
    assert stops[0] is panel.options_editor.device_combo
    assert all(panel.options_editor.isAncestorOf(w) for w in stops[:6])


def test_no_plot_of_the_window_or_the_lr_finder_is_a_tab_stop(qtbot, tiny_experiment):
    """A plot shows no focus: Tab stopping on one (the Data tab's chart, Evaluate's, Tune's,
    the LR finder's) seemed to go nowhere. A click still gives it the focus."""
    import pyqtgraph as pg

    from workbench.qt.main_window import MainWindow, TABS
    from workbench.qt.panels.train.lr_finder_plot import LRCurvePlot

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    shown(qtbot, window)
    for name, *_ in TABS:
        window.tabs.setCurrentWidget(window.tabs.page(name))
    kinds = {"PlotWidget", "CalibrationPlot", "ConfusionHeatmap", "HistoryPlot",
             "ImportancePlot"}
    plots = lambda: window.findChildren(pg.GraphicsView)  # noqa: E731
    qtbot.waitUntil(lambda: kinds <= {type(p).__name__ for p in plots()}
                    and sum(type(p) is pg.PlotWidget for p in plots()) >= 6,  # Train, Data
                    timeout=WAIT_MS)
    finder = LRCurvePlot()
    qtbot.addWidget(finder)
    for plot in plots() + [finder]:
        assert plot.focusPolicy() == Qt.FocusPolicy.ClickFocus, type(plot).__name__
