"""Train panel: the loss editor (label smoothing, per-class weights, the LogSoftmax note)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.optim import loss_note
from workbench.qt.panels.train.loss import NO_CLASSES_TEXT, LossEditor, inverse_frequency_weights

CLASSES = ["blue", "green", "red"]


@pytest.fixture
def editor(qtbot, tiny_experiment):
    w = LossEditor(tiny_experiment)
    qtbot.addWidget(w)
    return w


def _weights_shown(editor):
    table = editor.weights_editor.table
    return [table.item(r, 1).data(Qt.ItemDataRole.DisplayRole) for r in range(table.rowCount())]


def test_without_classes_it_asks_for_a_dataset(editor, tiny_experiment):
    w = editor.weights_editor
    assert w.hint.text() == NO_CLASSES_TEXT and not w.hint.isHidden()
    assert not w.use_box.isEnabled() and not w.from_sizes_button.isEnabled()
    assert w.table.isHidden()
    assert tiny_experiment.loss.params.get("class_weights", []) == []


def test_label_smoothing_is_edited_in_the_form(editor, tiny_experiment):
    changed = []
    editor.changed.connect(lambda: changed.append(1))
    tiny_experiment.loss.params["class_weights"] = [1.0, 2.0, 3.0]
    editor.form.editors["label_smoothing"].setValue(0.1)
    assert "class_weights" not in editor.form.editors  # it has its own editor
    assert tiny_experiment.loss.params["label_smoothing"] == pytest.approx(0.1)
    assert tiny_experiment.loss.params["class_weights"] == [1.0, 2.0, 3.0]  # kept
    assert changed == [1]


def test_weights_from_class_sizes_are_inverse_frequency_averaging_one(editor,
                                                                      tiny_experiment):
    editor.set_classes(CLASSES)
    editor.set_class_counts({"blue": 10, "green": 20, "red": 40})
    changed = []
    editor.changed.connect(lambda: changed.append(1))
    editor.weights_editor.from_sizes_button.click()
    weights = tiny_experiment.loss.params["class_weights"]
    # 1/10 : 1/20 : 1/40, scaled to average 1, 3 significant digits
    assert weights == [1.71, 0.857, 0.429]
    assert sum(weights) / 3 == pytest.approx(1.0, abs=2e-3)  # up to the rounding
    assert editor.weights_editor.use_box.isChecked()
    assert _weights_shown(editor) == pytest.approx(weights)
    assert changed == [1]
    assert not editor.error_label.isVisibleTo(editor)
    Experiment.from_json(tiny_experiment.to_json())  # the core accepts what was written


def test_a_class_without_images_gets_weight_zero():
    assert inverse_frequency_weights(["a", "b", "c"], {"a": 5, "b": 15}) == [1.5, 0.5, 0.0]


def test_unchecking_use_weights_empties_the_list(editor, tiny_experiment):
    editor.set_classes(CLASSES)
    box = editor.weights_editor.use_box
    assert not box.isChecked()
    box.setChecked(True)  # on: every class 1, ready to edit
    assert tiny_experiment.loss.params["class_weights"] == [1.0, 1.0, 1.0]
    assert editor.weights_editor.table.isEnabled()
    box.setChecked(False)
    assert tiny_experiment.loss.params["class_weights"] == []
    assert not editor.weights_editor.table.isEnabled()


def test_editing_a_weight_in_the_table_writes_the_list(editor, tiny_experiment):
    editor.set_classes(CLASSES)
    editor.weights_editor.use_box.setChecked(True)
    table = editor.weights_editor.table
    assert [table.item(r, 0).text() for r in range(3)] == CLASSES  # labelled by class
    table.item(2, 1).setData(Qt.ItemDataRole.EditRole, 2.5)
    assert tiny_experiment.loss.params["class_weights"] == [1.0, 1.0, 2.5]


def test_weights_that_do_not_match_the_classes_show_the_core_message(editor,
                                                                     tiny_experiment):
    tiny_experiment.loss.params["class_weights"] = [1.0, 2.0]
    editor.refresh()
    assert not editor.error_label.isVisibleTo(editor)  # no dataset yet: nothing to compare
    editor.set_classes(CLASSES)
    text = editor.error_label.text()
    assert editor.error_label.isVisibleTo(editor)
    assert "loss.params.class_weights" in text and "2 weights" in text and "3 classes" in text
    assert tiny_experiment.loss.params["class_weights"] == [1.0, 2.0]  # kept as it was
    assert _weights_shown(editor) == [1.0, 2.0, "—"]
    editor.weights_editor.table.item(0, 1).setData(Qt.ItemDataRole.EditRole, 0.5)
    assert tiny_experiment.loss.params["class_weights"] == [0.5, 2.0, 1.0]  # one per class
    assert not editor.error_label.isVisibleTo(editor)


def test_weights_set_in_a_file_show_when_the_experiment_is_loaded(editor, tiny_experiment):
    editor.set_classes(CLASSES)
    other = tiny_experiment.copy()
    other.loss = Component("CrossEntropy", {"label_smoothing": 0.05,
                                            "class_weights": [0.5, 1.0, 1.5]})
    before = other.to_dict()
    editor.set_experiment(other)
    assert editor.weights_editor.use_box.isChecked()
    assert _weights_shown(editor) == [0.5, 1.0, 1.5]
    assert editor.form.values()["label_smoothing"] == pytest.approx(0.05)
    assert other.to_dict() == before


def test_log_softmax_note_uses_the_core_text(editor, tiny_experiment):
    assert editor.note_label.isHidden()
    editor.set_log_softmax_output(True)
    assert not editor.note_label.isHidden()
    text = editor.note_label.text()
    assert "LogSoftmax" in text and "NLLLoss" in text
    assert text.lower().startswith(loss_note(tiny_experiment.loss, True)[:40].lower())
    editor.form.editors["label_smoothing"].setValue(0.1)  # CrossEntropy is then kept
    assert editor.note_label.text() != text
    assert "label smoothing" in editor.note_label.text()
    editor.set_log_softmax_output(False)
    assert editor.note_label.isHidden()


def test_typing_a_weight_in_the_cell_editor(qtbot, editor, tiny_experiment):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QDoubleSpinBox

    editor.show()
    qtbot.waitExposed(editor)
    editor.set_classes(CLASSES)
    editor.weights_editor.use_box.setChecked(True)
    table = editor.weights_editor.table
    table.setCurrentCell(1, 1)
    table.editItem(table.item(1, 1))
    box = table.findChild(QDoubleSpinBox)
    assert box is not None and box.maximum() == 1e6  # the loss's declared bound
    box.setValue(3.25)
    QTest.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tiny_experiment.loss.params["class_weights"][1] == 3.25,
                    timeout=2000)
    assert tiny_experiment.loss.params["class_weights"] == [1.0, 3.25, 1.0]
    assert _weights_shown(editor) == [1.0, 3.25, 1.0]
