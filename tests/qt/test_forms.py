"""ParamForm: editors from declared parameters, bound both ways."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from workbench.core.registry import Entry, Param
from workbench.qt.common import LogSpinBox
from workbench.qt.forms import ParamForm

ENTRY = Entry("Thing", lambda **kw: kw, params=(
    Param("count", int, 3, min=1, max=10, help="How many."),
    Param("rate", float, 0.5, min=0.0, max=1.0, help="A share."),
    Param("lr", float, 1e-3, min=1e-6, max=1.0, log=True, help="Learning rate."),
    Param("flag", bool, False, help="On or off."),
    Param("mode", str, "b", choices=("a", "b", "c"), help="Which one."),
    Param("scale", list, [0.5, 1.0], min=0.0, max=1.0, item_type=float, length=(2,)),
    Param("size", list, None, min=1, max=4096, item_type=int, length=(1, 2),
          auto="input size", help="Size."),
))


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _form(qtbot, values=None):
    form = ParamForm(ENTRY, values or {})
    qtbot.addWidget(form)
    return form


def test_editor_kinds_and_tooltips(qtbot):
    form = _form(qtbot)
    e = form.editors
    assert isinstance(e["count"], QSpinBox) and e["count"].maximum() == 10
    assert isinstance(e["rate"], QDoubleSpinBox)
    assert isinstance(e["lr"], LogSpinBox)
    assert isinstance(e["flag"], QCheckBox)
    assert isinstance(e["mode"], QComboBox) and e["mode"].count() == 3
    assert "How many." in e["count"].toolTip() and "1 to 10" in e["count"].toolTip()
    assert "size" in form.auto_boxes



def test_large_integer_bounds_read_as_numbers_not_floats():
    import dataclasses

    from workbench.core.experiment import TrainingConfig
    from workbench.qt.forms import param_tooltip

    seed = next(f.metadata["param"] for f in dataclasses.fields(TrainingConfig)
                if f.name == "seed")
    assert "Range: 0 to 2^63-1." in param_tooltip(seed)  # was "0 to 9.22337e+18"
    big = Param("n", int, 1, min=1, max=100000)
    assert "Range: 1 to 100,000." in param_tooltip(big)
    assert "Range: 1e-06 to 1." in param_tooltip(ENTRY.params[2])

def test_defaults_shown(qtbot):
    assert _form(qtbot).values() == {"count": 3, "rate": 0.5, "lr": 1e-3, "flag": False,
                                     "mode": "b", "scale": [0.5, 1.0], "size": None}


def test_model_to_view_does_not_emit(qtbot):
    form = _form(qtbot)
    with qtbot.assertNotEmitted(form.changed):
        form.set_values({"count": 7, "flag": True, "mode": "c", "scale": [0.2, 0.9],
                         "size": [32]})
    v = form.values()
    assert (v["count"], v["flag"], v["mode"], v["scale"], v["size"]) == \
        (7, True, "c", [0.2, 0.9], [32])
    assert form.editors["count"].value() == 7
    assert not form.auto_boxes["size"].isChecked()
    assert form.editors["size"].isEnabled()


def test_view_to_model_emits_all_values(qtbot):
    form = _form(qtbot)
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        form.editors["count"].setValue(5)
    assert blocker.args[0]["count"] == 5 and blocker.args[0]["mode"] == "b"
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        form.editors["mode"].setCurrentIndex(0)
    assert blocker.args[0]["mode"] == "a"
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        form.editors["scale"].boxes[0].setValue(0.25)
    assert blocker.args[0]["scale"] == [0.25, 1.0]


def test_auto_checkbox_toggles_none(qtbot):
    form = _form(qtbot, {"size": [64, 48]})
    assert form.values()["size"] == [64, 48]
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        form.auto_boxes["size"].setChecked(True)
    assert blocker.args[0]["size"] is None
    assert not form.editors["size"].isEnabled()
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        form.auto_boxes["size"].setChecked(False)
    assert blocker.args[0]["size"] == [64, 48]


def test_every_transform_form_round_trips_its_defaults(qtbot):
    from workbench.core.data.augment.transforms import TRANSFORMS

    for entry in TRANSFORMS:
        form = ParamForm(entry, entry.defaults())
        qtbot.addWidget(form)
        assert entry.validate(form.values()) == entry.validate(entry.defaults()), entry.name


def test_auto_values_shown_while_auto_and_used_when_unchecked(qtbot):
    form = ParamForm(ENTRY, {}, auto_values={"size": [40, 30]})
    qtbot.addWidget(form)
    assert form.values()["size"] is None
    assert not form.editors["size"].isEnabled()
    assert form.editors["size"].value() == [40, 30]
    form.auto_boxes["size"].setChecked(False)
    assert form.values()["size"] == [40, 30]


def test_choices_show_their_notes_and_keep_their_values(qtbot):
    from workbench.core.model.backbones import BACKBONE

    form = ParamForm(BACKBONE, {"arch": "resnet18"})
    qtbot.addWidget(form)
    combo = form.editors["arch"]
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert "timm/convnext_nano  (15.0M parameters, 224 px)" in texts
    assert "resnet18  (11.2M parameters, 224 px)" in texts
    combo.setCurrentIndex(combo.findData("timm/vit_tiny_patch16_224"))
    assert form.values()["arch"] == "timm/vit_tiny_patch16_224"


def test_small_floats_show_as_entered_and_read_back(qtbot):
    from PySide6.QtCore import Qt

    from workbench.core.data.augment.transforms import TRANSFORMS

    form = ParamForm(TRANSFORMS.get("Normalize"), {"mean": [0.5], "std": [1e-06]})
    qtbot.addWidget(form)
    box = form.editors["std"].boxes[0]
    assert box.text() == "1e-06"  # was "0.0000"
    assert form.values()["std"] == [1e-06]
    assert form.editors["mean"].boxes[0].text() == "0.5"
    # Typed in scientific notation, as the lr field takes it.
    box.lineEdit().selectAll()
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        qtbot.keyClicks(box, "2e-5")
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert blocker.args[0]["std"] == [pytest.approx(2e-05)]
    assert box.text() == "2e-05"
    # Other numbers look as before, without trailing zeros; 4/3 still reads back exactly.
    form = _form(qtbot, {"rate": 0.25, "scale": [4 / 3 / 2, 1.0]})
    assert form.editors["rate"].text() == "0.25"
    assert form.editors["scale"].boxes[0].text() == "0.6667"
    assert form.values()["scale"][0] == 4 / 3 / 2
    # Enter on the shown text, unchanged, keeps the exact value and emits nothing.
    box = form.editors["scale"].boxes[0]
    box.setFocus()
    with qtbot.assertNotEmitted(form.changed):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert form.values()["scale"][0] == 4 / 3 / 2


def test_a_stepped_int_takes_only_values_on_its_grid(qtbot):
    # From a learner's day: a GaussianBlur kernel_size of 4 could be typed and arrowed to,
    # and the pipeline then said "4 is even".
    from PySide6.QtCore import Qt

    entry = Entry("Blur", lambda **kw: kw, params=(
        Param("kernel_size", int, 5, min=1, max=31, step=2, help="Odd size."),))
    form = _form_of(qtbot, entry)
    box = form.editors["kernel_size"]
    assert box.singleStep() == 2
    box.stepBy(1)
    assert form.values()["kernel_size"] == 7
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "10")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert form.values()["kernel_size"] == 11  # raised to the next odd size
    box.stepBy(-1)
    assert box.value() == 9


def test_the_blur_kernel_and_the_rotation_say_what_they_take(qtbot):
    from workbench.core.data.augment.transforms import TRANSFORMS

    blur = _form_of(qtbot, TRANSFORMS.get("GaussianBlur"))
    assert blur.editors["kernel_size"].singleStep() == 2
    rotation = _form_of(qtbot, TRANSFORMS.get("RandomRotation"))
    box = rotation.editors["degrees"]
    assert box.minimum() == 0 and "±degrees" in box.toolTip()


def _form_of(qtbot, entry):
    form = ParamForm(entry, {})
    qtbot.addWidget(form)
    form.show()
    return form
