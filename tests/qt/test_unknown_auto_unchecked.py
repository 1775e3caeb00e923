"""Unchecking "auto" on a box that says "?" (below a layer that does not fit) saves the
number it last resolved to, not the box's minimum 1: once the misfit above is fixed, the
layer fits again."""

from __future__ import annotations

from test_unknown_auto_values import WAIT_MS, _text

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel


def test_unchecking_auto_on_a_question_mark_keeps_the_last_resolved_number(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 3,
                                             "padding": 1}),
                        Component("Flatten"),
                        Component("Linear", {"in_features": None, "out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    cards = panel.stack.cards
    qtbot.waitUntil(lambda: _text(cards[2], "in_features") == "2048", timeout=WAIT_MS)
    cards[0].form.editors["kernel_size"].setValue(20)  # does not fit a 16x16 image
    qtbot.waitUntil(lambda: _text(cards[2], "in_features") == "?", timeout=WAIT_MS)
    cards[2].form.auto_boxes["in_features"].setChecked(False)
    assert exp.model.layers[2].params["in_features"] == 2048
    assert _text(cards[2], "in_features") == "2048"
    cards[0].form.editors["kernel_size"].setValue(3)  # fits again: so does the Linear
    qtbot.waitUntil(lambda: not cards[0].misfit and cards[2].shape_label.text() != "→ ?",
                    timeout=WAIT_MS)
    assert not cards[2].misfit, cards[2].error_label.text()
    assert exp.model.layers[2].params["in_features"] == 2048
