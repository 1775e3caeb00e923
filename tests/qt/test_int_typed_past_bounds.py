"""A whole number typed past a layer setting's bounds is said and not taken: the box keeps
every key typed ("200", "-1"), so the form can say "kernel_size can be at most 64", instead
of the spin box dropping the key that went over and saving 20."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.core.experiment import Experiment
from workbench.core.registry import Component, Entry, Param
from workbench.qt.forms import ParamForm
from workbench.qt.panels.model.panel import ModelPanel

from test_forms_range_note import type_into


def _conv_panel(qtbot) -> ModelPanel:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 3,
                                             "padding": 2}), Component("Flatten"),
                        Component("Linear", {"out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.stack.cards and panel.stack.cards[0].form is not None,
                    timeout=30000)
    return panel


def test_kernel_size_200_on_a_conv2d_card_is_said_and_not_saved_as_20(qtbot):
    panel = _conv_panel(qtbot)
    card = panel.stack.cards[0]
    params = panel.experiment.model.layers[0].params
    old = params["kernel_size"]
    box = card.form.editors["kernel_size"]
    type_into(qtbot, box, "200", Qt.Key.Key_Return)
    assert box.lineEdit().text() == str(old)
    assert panel.experiment.model.layers[0].params["kernel_size"] == old  # not 20
    assert card.form.range_note.isVisible()
    assert card.form.range_note.text() == "kernel_size can be at most 64: 200 was not taken"
    type_into(qtbot, card.form.editors["out_channels"], "5000")  # Tab: focus leaves
    assert panel.experiment.model.layers[0].params["out_channels"] == 8  # not 500
    assert card.form.range_note.text() == \
        "out_channels can be at most 4096: 5000 was not taken"


def test_a_minus_sign_in_padding_is_said_and_not_saved_as_its_digits(qtbot):
    panel = _conv_panel(qtbot)
    card = panel.stack.cards[0]
    old = panel.experiment.model.layers[0].params["padding"]
    box = card.form.editors["padding"].box  # beside the "same"/"valid" chooser
    type_into(qtbot, box, "-1", Qt.Key.Key_Return)
    assert old == 2 and panel.experiment.model.layers[0].params["padding"] == 2  # not 1
    assert card.form.range_note.text() == "padding must be at least 0: -1 was not taken"
    type_into(qtbot, box, "0", Qt.Key.Key_Return)  # a number it takes clears the note
    assert panel.experiment.model.layers[0].params["padding"] == 0
    assert not card.form.range_note.isVisible()


STEPPED = Entry("Blur", lambda **kw: kw, params=(
    Param("kernel_size", int, 5, min=1, max=31, step=2, help="Odd sizes only."),
    Param("sizes", list, [3, 3], item_type=int, length=(2,), min=1, max=9, help="Two."),
))


def test_stepped_and_list_boxes_say_a_number_past_their_bounds(qtbot):
    form = ParamForm(STEPPED, {})
    qtbot.addWidget(form)
    form.show()
    heard = []
    form.changed.connect(heard.append)
    type_into(qtbot, form.editors["kernel_size"], "99", Qt.Key.Key_Return)
    assert form.range_note.text() == "kernel_size can be at most 31: 99 was not taken"
    type_into(qtbot, form.editors["sizes"].boxes[1], "12")
    assert form.range_note.text() == "sizes can be at most 9: 12 was not taken"
    assert form.values() == {"kernel_size": 5, "sizes": [3, 3]} and heard == []
    type_into(qtbot, form.editors["kernel_size"], "7", Qt.Key.Key_Return)  # still taken
    assert form.values()["kernel_size"] == 7 and not form.range_note.isVisible()
