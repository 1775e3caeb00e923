"""The Model tab's default split at a laptop's 125% (the tab about 1030x480): the model
doctor took ~40% of the column (room for three rows under one finding, mostly an empty
list) and the layer stack showed two cards. The doctor is now as tall as its rows and its
explanation, the layer cards get the rest, and a user's own sizes stay."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QSplitter

from qt_helpers import drag_splitter_handle
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel

WAIT_MS = 30000


@pytest.fixture
def panel(qtbot):
    exp = Experiment()
    exp.data.input_size = [32, 32]
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.resize(1030, 480)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: len(panel.doctor.findings) == 1, timeout=WAIT_MS)  # a big Linear
    _settle(qtbot)
    return panel


def _settle(qtbot):
    for _ in range(4):
        QApplication.processEvents()
        qtbot.wait(20)


def _split(panel) -> QSplitter:
    return panel.findChild(QSplitter, "model.network_doctor")


def _rows_height(doctor) -> int:
    rows = doctor.list
    return sum(rows.visualItemRect(rows.item(i)).height() for i in range(rows.count()))


def test_the_layer_cards_get_most_of_the_column_and_the_doctor_its_rows(qtbot, panel):
    doctor, stack = panel.doctor, panel.stack
    column = _split(panel).height()
    # The doctor's list is as tall as its one row: no empty box under it.
    assert doctor.list.height() <= _rows_height(doctor) + 2 * doctor.list.frameWidth() + 2
    assert doctor.explanation_area.verticalScrollBar().maximum() == 0  # read in full
    assert stack.viewport().height() >= column / 2
    assert stack.viewport().height() >= 1.5 * doctor.height()


def test_the_doctor_follows_its_findings_until_the_user_sizes_it(qtbot, panel):
    doctor, split = panel.doctor, _split(panel)
    before = doctor.height()
    panel.add_layer("Softmax")  # a second finding: Softmax before the loss
    qtbot.waitUntil(lambda: len(doctor.findings) == 2, timeout=WAIT_MS)
    _settle(qtbot)
    viewport = doctor.list.viewport().rect()
    for row in range(2):  # both rows whole
        assert viewport.contains(doctor.list.visualItemRect(doctor.list.item(row))), row
    assert doctor.height() > before
    panel.undo_action.trigger()  # fixed: the doctor gives the height back to the cards
    qtbot.waitUntil(lambda: len(doctor.findings) == 1, timeout=WAIT_MS)
    _settle(qtbot)
    assert doctor.height() == before
    # Dragging the handle makes the sizes the user's: they stay as findings come and go.
    drag_splitter_handle(qtbot, split, -60)
    _settle(qtbot)
    dragged = split.sizes()
    assert dragged[1] > before + 30
    panel.add_layer("Softmax")
    qtbot.waitUntil(lambda: len(doctor.findings) == 2, timeout=WAIT_MS)
    _settle(qtbot)
    assert split.sizes() == dragged


def test_a_saved_split_is_kept(qtbot):
    exp = Experiment()
    exp.model.layers = [Component("Flatten"), Component("Linear")]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    split = _split(panel)
    split.setSizes([100, 300])
    state = split.saveState()
    panel2 = ModelPanel(exp.copy(), num_classes=3)
    qtbot.addWidget(panel2)
    assert _split(panel2).restoreState(state)  # as the session does when the tab is built
    panel2.resize(1030, 480)
    panel2.show()
    qtbot.waitExposed(panel2)
    _settle(qtbot)
    sizes = _split(panel2).sizes()
    assert sizes[1] > sizes[0]  # the doctor keeps the larger share it was given
