"""The optimizer's warning (lr 10 for Adam, with its "Use lr 0.001" button) is seen as it
appears: it sits under the Type row, above the parameters, in the visible part of the
settings page; under the form it was below that part at 1366x768 and at the default
1100x706, and a learner never saw it (UI review)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication


@pytest.fixture
def window(train_window):
    return train_window


def _settle(qtbot):
    for _ in range(3):  # layouts, the splitter's first share, the page's fitting
        QApplication.processEvents()
        qtbot.wait(20)


def in_view(widget, scroll) -> bool:
    """Whether ``widget`` shows whole in the visible part of the scroll area's page."""
    top = widget.mapTo(scroll.viewport(), QPoint(0, 0)).y()
    return widget.isVisible() and top >= 0 and \
        top + widget.height() <= scroll.viewport().height()


@pytest.mark.parametrize("size", [(1366, 768), (1100, 706)])
def test_the_lr_warning_and_its_button_show_without_scrolling(qtbot, window, size):
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    _settle(qtbot)
    panel = window.train_panel
    editor = panel.optimizer_editor
    scroll = panel.settings_tabs.currentWidget()
    panel.optimizer_combo.setCurrentText("Adam")
    _settle(qtbot)
    panel.lr_spin.setValue(10.0)
    _settle(qtbot)
    assert editor.advice_label.text().startswith("lr 10 is very high for Adam")
    assert scroll.verticalScrollBar().value() == 0
    assert in_view(editor.advice_row, scroll)
    assert in_view(editor.fix_button, scroll)
    assert in_view(panel.lr_spin, scroll)  # the field edited stays in view below it
    # Under the Type row, above the parameters.
    y = (lambda w: w.mapTo(editor, QPoint(0, 0)).y())
    assert y(editor.combo) < y(editor.advice_row) < y(panel.lr_spin)
    editor.fix_button.click()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.001)


def test_a_warning_appearing_while_the_page_is_scrolled_down_is_scrolled_into_view(qtbot):
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.qt.panels.train.layout import WholeRowsScroll
    from workbench.qt.panels.train.settings import (ComponentEditor, optimizer_problem,
                                                    optimizers)

    exp = Experiment()
    exp.optimizer = Component("SGD", optimizers().get("SGD").defaults())
    editor = ComponentEditor("Optimizer", "optimizer", optimizer_problem)
    editor.set_registry(optimizers())
    editor.set_experiment(exp)
    scroll = WholeRowsScroll()
    scroll.setWidget(editor)
    qtbot.addWidget(scroll)
    scroll.resize(420, 110)  # a few rows show: the page scrolls
    scroll.show()
    qtbot.waitExposed(scroll)
    _settle(qtbot)
    bar = scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # down to weight_decay, the last row
    _settle(qtbot)
    assert not in_view(editor.combo, scroll)
    editor.form.editors["weight_decay"].setValue(0.5)
    qtbot.waitUntil(lambda: in_view(editor.advice_row, scroll), timeout=5000)
    assert editor.fix_button.text() == "Use weight_decay 0.0005"
    assert in_view(editor.fix_button, scroll)
    editor.fix_button.click()
    assert not editor.advice_row.isVisible() and exp.optimizer.params["weight_decay"] == \
        pytest.approx(5e-4)


def test_the_loss_page_keeps_its_class_weights_under_its_form(qtbot, window):
    loss = window.train_panel.loss_editor
    order = [loss._layout.itemAt(i).widget() for i in range(loss._layout.count())]
    assert order.index(loss.error_label) < order.index(loss.form) \
        < order.index(loss.weights_editor) < order.index(loss.note_label)
