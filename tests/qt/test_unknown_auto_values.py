"""Below a layer that does not fit, a card's greyed "auto" boxes say "?" (their values are
unknown, as the shape says "→ ?"), not the box's minimum 1 or the numbers from before the
misfit; once it fits again they show the resolved numbers."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel

WAIT_MS = 30000


def _text(card, name: str) -> str:
    box = card.form.editors[name]
    return box.lineEdit().text() if hasattr(box, "lineEdit") else \
        ",".join(b.lineEdit().text() for b in box.boxes if b.isVisibleTo(box))


def test_auto_boxes_below_a_misfit_show_a_question_mark(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 3,
                                             "padding": 1}),
                        Component("MaxPool2d", {"kernel_size": 2, "stride": None}),
                        Component("BatchNorm2d", {"num_features": None}),
                        Component("Flatten"),
                        Component("Linear", {"in_features": None, "out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    cards = panel.stack.cards
    qtbot.waitUntil(lambda: _text(cards[4], "in_features") == "512", timeout=WAIT_MS)
    assert _text(cards[2], "num_features") == "8" and _text(cards[4], "out_features") == "3"
    # kernel_size 20 on a 16x16 image does not fit: what comes after is unknown.
    cards[0].form.editors["kernel_size"].setValue(20)
    qtbot.waitUntil(lambda: cards[0].misfit, timeout=WAIT_MS)
    assert cards[2].shape_label.text() == "→ ?"
    assert _text(cards[2], "num_features") == "?"
    assert _text(cards[4], "in_features") == "?"
    assert _text(cards[4], "out_features") == "?"
    assert _text(cards[1], "stride") == "2"  # the same as kernel_size: still known
    assert exp.model.layers[4].params == {"in_features": None, "out_features": None}
    # Unchecking auto on an unknown one shows the number it now holds, the one saved.
    cards[4].form.auto_boxes["in_features"].setChecked(False)
    saved = exp.model.layers[4].params["in_features"]
    assert saved is not None and _text(cards[4], "in_features") == str(saved)
    cards[4].form.auto_boxes["in_features"].setChecked(True)
    cards[0].form.editors["kernel_size"].setValue(3)  # fits again: the numbers are back
    qtbot.waitUntil(lambda: _text(cards[2], "num_features") == "8", timeout=WAIT_MS)
    assert _text(cards[4], "in_features") == "512" and _text(cards[4], "out_features") == "3"


def test_cards_added_below_a_misfit_do_not_show_1(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [Component("Linear", {"in_features": None, "out_features": 8}),
                        Component("Flatten"),
                        Component("LayerNorm", {"normalized_shape": None}),
                        Component("Linear", {"in_features": None, "out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    cards = panel.stack.cards
    qtbot.waitUntil(lambda: cards[0].misfit, timeout=WAIT_MS)
    assert _text(cards[0], "in_features") == "?"  # the misfit's own unresolved auto
    assert _text(cards[3], "in_features") == "?" and _text(cards[3], "out_features") == "?"
    assert "?" in _text(cards[2], "normalized_shape") and \
        "1" not in _text(cards[2], "normalized_shape")
