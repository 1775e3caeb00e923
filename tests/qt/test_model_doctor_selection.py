"""The Model doctor's selection: a finding the user picked stays picked, the automatic one
follows the worst finding, and a new finding worse than the one shown is explained without
a click (a learner added Softmax to the seed-cnn and kept reading the big-Linear tip)."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QPoint, Qt

from workbench.core.experiment import Experiment
from workbench.qt.panels.model.doctor import DoctorList
from workbench.qt.panels.model.panel import ModelPanel

from test_model_doctor_pane import _doctor

WAIT_MS = 30000


def _finding(code, severity, layer, explanation):
    return SimpleNamespace(code=code, severity=severity, layer=layer, fix=None,
                           title=f"layer {layer + 1} ({code})", explanation=explanation)


TIP = _finding("dominant-layer", "info", 7, "A large layer.")
SOFTMAX = _finding("softmax", "warning", 10, "Softmax before the loss.")
DROPOUT = _finding("dropout", "warning", 8, "Too much dropout.")
MISFIT = _finding("does-not-fit", "error", 3, "It does not fit.")


def _click(qtbot, doctor: DoctorList, row: int) -> None:
    rect = doctor.list.visualItemRect(doctor.list.item(row))
    qtbot.mouseClick(doctor.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 4, rect.center().y()))


def test_an_automatic_selection_follows_a_new_worse_finding(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings([TIP])
    assert doctor.selected_finding() is TIP
    doctor.set_findings([TIP, SOFTMAX])  # the learner adds a Softmax: its why shows
    assert doctor.selected_finding() is SOFTMAX
    assert doctor.explanation.text() == SOFTMAX.explanation
    doctor.set_findings([TIP])  # ... and removes it: back to the tip
    assert doctor.selected_finding() is TIP


def test_a_new_finding_of_the_worst_severity_is_explained(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings([DROPOUT, TIP])
    doctor.set_findings([DROPOUT, SOFTMAX, TIP])
    assert doctor.selected_finding() is SOFTMAX
    doctor.set_findings([DROPOUT, SOFTMAX, TIP])  # an edit elsewhere: it stays
    assert doctor.selected_finding() is SOFTMAX


def test_a_finding_the_user_picked_stays_until_a_worse_one_appears(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings([DROPOUT, TIP])
    _click(qtbot, doctor, 1)  # the user reads the tip
    assert doctor.selected_finding() is TIP
    doctor.set_findings([DROPOUT, TIP])  # an edit elsewhere rebuilds the rows
    assert doctor.selected_finding() is TIP
    doctor.set_findings([DROPOUT, TIP, _finding("tip-2", "info", 2, "Another tip.")])
    assert doctor.selected_finding() is TIP  # not worse: the user's pick stays
    doctor.set_findings([DROPOUT, SOFTMAX, TIP])  # worse than the tip, and new
    assert doctor.selected_finding() is SOFTMAX
    assert doctor.explanation.text() == SOFTMAX.explanation


def test_a_pick_made_with_the_keys_stays_and_an_error_overrides_it(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings([SOFTMAX, DROPOUT, TIP])
    doctor.list.setFocus()
    qtbot.keyClick(doctor.list, Qt.Key.Key_Down)
    assert doctor.selected_finding() is DROPOUT
    doctor.set_findings([SOFTMAX, DROPOUT, TIP])
    assert doctor.selected_finding() is DROPOUT
    doctor.set_findings([MISFIT, SOFTMAX, DROPOUT, TIP])
    assert doctor.selected_finding() is MISFIT
    _click(qtbot, doctor, 3)  # the tip; then a new warning, under the error: it shows
    doctor.set_findings([MISFIT, SOFTMAX, DROPOUT, TIP, _finding("relu", "warning", 11, "A.")])
    assert doctor.selected_finding().code == "relu"


def test_the_title_counts_problems_and_tips_apart(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings([TIP])
    assert "no problems found" in doctor.title.text() and "1 tip" in doctor.title.text()
    assert "finding" not in doctor.title.text()
    row = doctor.list.itemWidget(doctor.list.item(0))
    assert any(label.text().startswith("Tip: ") for label in row.findChildren(type(doctor.title)))
    doctor.set_findings([TIP, SOFTMAX, DROPOUT])
    assert "(2 findings, 1 tip)" in doctor.title.text()
    doctor.set_findings([SOFTMAX])
    assert "(1 finding)" in doctor.title.text()


def test_adding_softmax_to_the_seed_cnn_explains_the_softmax(qtbot):
    exp = Experiment()
    exp.data.input_size = [32, 32]
    panel = ModelPanel(exp, num_classes=4)
    qtbot.addWidget(panel)
    panel.resize(1362, 699)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        panel.set_preset("seed-cnn")
    doctor = panel.doctor
    qtbot.waitUntil(lambda: [f.code for f in doctor.findings] == ["dominant-layer"],
                    timeout=WAIT_MS)
    panel.add_layer("Softmax")
    qtbot.waitUntil(lambda: len(doctor.findings) == 2, timeout=WAIT_MS)
    shown = doctor.selected_finding()
    assert shown.severity == "warning" and "Softmax" in shown.title
    assert doctor.explanation.text() == shown.explanation
    assert "(1 finding, 1 tip)" in doctor.title.text()
