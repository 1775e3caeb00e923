"""The selected layer card is scrolled into view, also after an edit made new cards (add,
duplicate, Alt+Up/Down) whose places and heights were not known when it was selected."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel

WAIT_MS = 10000


@pytest.fixture
def panel(qtbot):
    """The seed-cnn network (10 layers) in a panel a laptop's height: the cards scroll."""
    exp = Experiment()
    exp.data.input_size = [16, 16]
    p = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(p)
    p.resize(1080, 560)
    p.show()
    qtbot.waitExposed(p)
    p.set_preset("seed-cnn")
    QApplication.processEvents()
    assert p.stack.verticalScrollBar().maximum() > 0
    return p


def _in_view(panel) -> bool:
    """The selected card lies wholly inside the stack's viewport."""
    stack = panel.stack
    card = stack.cards[panel.selected_layer()]
    top = card.mapTo(stack.viewport(), card.rect().topLeft()).y()
    return 0 <= top and top + card.height() <= stack.viewport().height()


def _settle() -> None:
    """Run what an edit left pending: its layouts (the new cards' places, the scroll
    range) and the scrolling after them."""
    for _ in range(10):
        QApplication.processEvents()


def _scroll_to(panel, where: str) -> None:
    bar = panel.stack.verticalScrollBar()
    bar.setValue(bar.maximum() if where == "bottom" else 0)
    QApplication.processEvents()


def test_a_layer_added_at_the_bottom_is_shown_whole(qtbot, panel):
    """Conv2d after the last layer: its card (tall, with its form) was left half below
    the view, scrolled to with the size it had before its form and shapes were shown."""
    panel.select_layer(len(panel.stack.cards) - 2)
    _scroll_to(panel, "top")
    panel.add_layer("Conv2d")
    assert panel.stack.cards[panel.selected_layer()].type == "Conv2d"
    _settle()
    assert _in_view(panel)


@pytest.mark.parametrize("edit", ["duplicate", "add"])
def test_the_selected_card_is_shown_after_an_edit(qtbot, panel, edit):
    panel.select_layer(len(panel.stack.cards) - 1)
    _scroll_to(panel, "top")
    if edit == "duplicate":
        panel.duplicate_action.trigger()
    else:
        panel.add_layer("Conv2d")
    _settle()
    assert _in_view(panel)


@pytest.mark.parametrize("key, start, where", [(Qt.Key.Key_Down, 1, "bottom"),
                                               (Qt.Key.Key_Up, 9, "top")])
def test_alt_up_and_down_keep_the_moved_card_in_view(qtbot, panel, key, start, where):
    panel.select_layer(start)
    card = panel.stack.cards[start]
    card.setFocus()
    _scroll_to(panel, where)
    qtbot.keyClick(QApplication.focusWidget() or card, key, Qt.KeyboardModifier.AltModifier)
    assert panel.selected_layer() == start + (1 if key == Qt.Key.Key_Down else -1)
    _settle()
    assert _in_view(panel)


def test_a_doctors_finding_shows_its_layer_selected_while_the_panel_was_hidden(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1})
              for _ in range(8)]
    exp.model.layers = layers + [Component("Flatten"),
                                 Component("Linear", {"out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.resize(1080, 560)
    panel.doctor.layer_requested.emit(8)  # a finding about a card out of view, clicked
    panel.show()  # ...while another tab was shown (the Train tab's "go to the layer")
    qtbot.waitExposed(panel)
    assert panel.selected_layer() == 8
    qtbot.waitUntil(lambda: _in_view(panel), timeout=WAIT_MS)



