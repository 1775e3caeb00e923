"""The Model tab's doctor pane: a finding's explanation is read without hovering, and the
pane has room for it at a laptop's size without squeezing the layer cards."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.model.doctor import MIN_EXPLANATION_LINES, DoctorList
from workbench.qt.panels.model.panel import ModelPanel

WAIT_MS = 30000


def _finding(code, severity, layer, title, explanation, fix=None):
    return SimpleNamespace(code=code, severity=severity, layer=layer, title=title,
                           explanation=explanation, fix=fix)


FINDINGS = [
    _finding("b", "info", 5, "layer 6 (Linear) is large", "Large layers overfit."),
    _finding("a", "warning", 4, "layer 5 (Dropout) drops 90% of its inputs",
             "Only 10% get through: training is slow and noisy.",
             SimpleNamespace(label="Set p of layer 5 (Dropout) to 0.5")),
    _finding("c", "warning", 8, "layer 9 (Softmax) before CrossEntropyLoss",
             "CrossEntropyLoss expects raw scores. " * 12),
]


def _doctor(qtbot) -> DoctorList:
    doctor = DoctorList()
    qtbot.addWidget(doctor)
    doctor.resize(900, 300)
    doctor.show()
    qtbot.waitExposed(doctor)
    return doctor


def test_the_worst_findings_explanation_shows_without_a_click(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    assert [f.code for f in doctor.findings] == ["a", "c", "b"]  # warnings first
    assert doctor.list.currentRow() == 0
    assert doctor.explanation_area.isVisibleTo(doctor)
    assert doctor.explanation.text() == FINDINGS[1].explanation
    assert doctor.explanation.wordWrap()


def test_selecting_a_finding_shows_its_explanation_and_its_layer(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    rect = doctor.list.visualItemRect(doctor.list.item(2))
    with qtbot.waitSignal(doctor.layer_requested) as blocker:
        qtbot.mouseClick(doctor.list.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(rect.left() + 4, rect.center().y()))  # its icon
    assert blocker.args == [5]
    assert doctor.explanation.text() == "Large layers overfit."
    doctor.list.setFocus()
    qtbot.keyClick(doctor.list, Qt.Key.Key_Up)  # the keyboard reaches them too
    assert doctor.selected_finding().code == "c"
    assert doctor.explanation.text() == FINDINGS[2].explanation


def test_the_selection_survives_a_refresh_and_falls_back_to_the_worst(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    doctor.list.setCurrentRow(2)
    doctor.set_findings([_finding(f.code, f.severity, f.layer, f.title, f.explanation, f.fix)
                         for f in FINDINGS])  # an edit elsewhere: the same findings, anew
    assert doctor.selected_finding().code == "b"
    assert doctor.explanation.text() == "Large layers overfit."
    doctor.set_findings([FINDINGS[0], FINDINGS[2]])  # ... b is still there
    assert doctor.selected_finding().code == "b"
    doctor.set_findings([FINDINGS[1], FINDINGS[2]])  # b was fixed: the worst one is shown
    assert doctor.selected_finding().code == "a"
    assert doctor.explanation.text() == FINDINGS[1].explanation


def test_no_findings_no_explanation(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    doctor.set_findings([])
    assert not doctor.explanation_area.isVisibleTo(doctor) and doctor.explanation.text() == ""
    assert doctor.note.text() == "No problems found."
    doctor.set_findings(list(FINDINGS))
    doctor.show_note("The model doctor is not available in this version.")
    assert not doctor.explanation_area.isVisibleTo(doctor)


def test_a_long_explanation_scrolls_instead_of_growing_the_pane(qtbot):
    doctor = _doctor(qtbot)
    doctor.set_findings(list(FINDINGS))
    before = doctor.minimumSizeHint().height()
    doctor.list.setCurrentRow(1)  # the long one
    QApplication.processEvents()
    assert doctor.explanation.text() == FINDINGS[2].explanation
    assert doctor.minimumSizeHint().height() == before


# The Model tab's size in the window at 1366x768 and at the default 1100x780.
@pytest.mark.parametrize("size", [(1362, 699), (1096, 711)])
def test_the_pane_has_room_at_a_laptops_size_and_the_cards_keep_theirs(qtbot, size):
    exp = Experiment()
    exp.data.input_size = [32, 32]
    exp.model.layers = [Component(t, p) for t, p in [
        ("Conv2d", {"out_channels": 16}), ("ReLU", {}), ("MaxPool2d", {}), ("Flatten", {}),
        ("Dropout", {"p": 0.9}), ("Linear", {"out_features": 64}), ("ReLU", {}),
        ("Linear", {}), ("Softmax", {})]]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    doctor = panel.doctor
    qtbot.waitUntil(lambda: len(doctor.findings) == 3, timeout=WAIT_MS)
    QApplication.processEvents()
    viewport = doctor.list.viewport().rect()
    for row in range(3):  # every finding's row in full, none behind a scrollbar
        assert viewport.contains(doctor.list.visualItemRect(doctor.list.item(row))), row
    assert doctor.findings[0].code == "dropout-too-high"
    assert doctor.explanation.text() == doctor.findings[0].explanation
    lines = doctor.fontMetrics().lineSpacing()
    assert doctor.explanation_area.height() >= MIN_EXPLANATION_LINES * lines
    assert doctor.explanation_area.verticalScrollBar().maximum() == 0  # read in full
    # The cards keep most of the column: a few of them, with their settings, still show.
    assert panel.stack.viewport().height() >= 300
    assert panel.stack.viewport().height() >= doctor.height()
