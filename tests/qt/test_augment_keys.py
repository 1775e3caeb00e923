"""Augment tab keys: Delete removes the selected step, Alt+Up/Down move it, Ctrl+Z and
Ctrl+Shift+Z / Ctrl+Y undo and redo every edit of the list; each tab's keys act on that
tab only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.augment.panel import AugmentPanel

WAIT_MS = 20000
CTRL, SHIFT, ALT = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                    Qt.KeyboardModifier.AltModifier)


def _types(panel):
    return [c.type for c in panel.experiment.augment.transforms]


def _shown_panel(qtbot):
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.augment.transforms = [Component("RandomHorizontalFlip"),
                              Component("RandomRotation", {"degrees": 10.0}),
                              Component("ColorJitter")]
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    return panel


def test_delete_move_undo_and_redo_keys(qtbot):
    panel = _shown_panel(qtbot)
    start = _types(panel)
    panel.list.setFocus()
    panel.list.setCurrentRow(0)
    qtbot.keyClick(panel.list, Qt.Key.Key_Down, ALT)
    assert _types(panel) == ["RandomRotation", "RandomHorizontalFlip", "ColorJitter"]
    assert panel.list.currentRow() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Up, ALT)
    assert _types(panel) == start
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert _types(panel) == ["RandomRotation", "ColorJitter"]
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == _types(panel)
    panel.add_transform("GaussianBlur")
    assert "GaussianBlur" in _types(panel)
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL)  # the add
    assert _types(panel) == ["RandomRotation", "ColorJitter"]
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL)  # the delete
    assert _types(panel) == start
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == start
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL | SHIFT)
    assert _types(panel) == ["RandomRotation", "ColorJitter"]
    qtbot.keyClick(panel.list, Qt.Key.Key_Y, CTRL)
    assert "GaussianBlur" in _types(panel)
    # Keys work wherever the focus is on the tab (the tab bar, say): not only in the list.
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Z, CTRL)
    assert _types(panel) == ["RandomRotation", "ColorJitter"]
    panel.shutdown()


def test_parameter_edits_and_drags_undo_as_one_step_each(qtbot):
    panel = _shown_panel(qtbot)
    panel.list.setCurrentRow(1)
    box = panel.form.editors["degrees"]
    for value in (20.0, 30.0, 40.0):  # arrows held down: one undo step
        box.setValue(value)
    assert panel.experiment.augment.transforms[1].params["degrees"] == 40.0
    assert panel.undo_stack.count() == 1
    panel.undo_action.trigger()
    assert panel.experiment.augment.transforms[1].params["degrees"] == 10.0
    assert panel.list.currentRow() == 1 and panel.form.values()["degrees"] == 10.0
    assert any("10 degrees" in panel.train_steps.item(i).text()
               for i in range(panel.train_steps.count()))
    panel.redo_action.trigger()
    assert panel.experiment.augment.transforms[1].params["degrees"] == 40.0
    model = panel.list.model()  # what an internal drag-move does
    from PySide6.QtCore import QModelIndex

    assert model.moveRow(QModelIndex(), 0, QModelIndex(), 3)
    qtbot.waitUntil(lambda: _types(panel)[0] == "RandomRotation", timeout=WAIT_MS)
    panel.undo_action.trigger()
    assert _types(panel) == ["RandomHorizontalFlip", "RandomRotation", "ColorJitter"]
    panel.shutdown()


def test_ctrl_z_in_a_parameters_box_undoes_the_edit(qtbot):
    """A spin box claims Ctrl+Z for its own text, whose history is empty once its value is
    set: with the focus in the box, Ctrl+Z did nothing (as on the Model tab's cards)."""
    panel = _shown_panel(qtbot)
    panel.list.setCurrentRow(1)
    box = panel.form.editors["degrees"]
    box.setFocus()
    box.setValue(25.0)
    assert panel.experiment.augment.transforms[1].params["degrees"] == 25.0
    qtbot.keyClick(box, Qt.Key.Key_Z, CTRL)
    assert panel.experiment.augment.transforms[1].params["degrees"] == 10.0
    box = panel.form.editors["degrees"]  # the form is built again for the restored step
    qtbot.keyClick(box, Qt.Key.Key_Y, CTRL)
    assert panel.experiment.augment.transforms[1].params["degrees"] == 25.0
    panel.shutdown()


def test_a_hints_fix_is_undone_by_ctrl_z_too(qtbot):
    from workbench.core.data.augment.fixes import remove

    panel = _shown_panel(qtbot)
    panel.apply_fix(remove(0, "RandomHorizontalFlip"))
    assert _types(panel) == ["RandomRotation", "ColorJitter"]
    assert panel.hint_view.undo_button.isVisible()
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, CTRL)
    assert _types(panel)[0] == "RandomHorizontalFlip"
    assert not panel.hint_view.undo_button.isVisible()
    panel.shutdown()


def test_each_tabs_undo_keys_undo_that_tabs_edits_only(qtbot):
    from workbench.qt.main_window import MainWindow, _default_experiment
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    w = MainWindow(_default_experiment())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=WAIT_MS)
    augment, model = w.augment_panel, w.model_panel
    exp = w.current.experiment
    w.tabs.setCurrentWidget(model)
    layers = [c.type for c in exp.model.layers]
    model.remove_layer(0)
    model_edited = [c.type for c in exp.model.layers]
    assert model_edited == layers[1:]
    w.tabs.setCurrentWidget(augment)
    transforms = _types(augment)
    augment.add_transform("GaussianBlur")
    augment.list.setFocus()
    qtbot.keyClick(augment.list, Qt.Key.Key_Z, CTRL)  # undoes the Augment tab's add
    assert _types(augment) == transforms
    qtbot.keyClick(augment.list, Qt.Key.Key_Z, CTRL)  # nothing more to undo here
    assert [c.type for c in exp.model.layers] == model_edited
    augment.add_transform("GaussianBlur")
    w.tabs.setCurrentWidget(model)
    model.stack.setFocus()
    qtbot.waitUntil(lambda: model.isVisible() and not augment.isVisible(), timeout=WAIT_MS)
    qtbot.keyClick(QApplication.focusWidget() or model, Qt.Key.Key_Z, CTRL)
    assert [c.type for c in exp.model.layers] == layers  # the Model tab's remove, undone
    assert "GaussianBlur" in _types(augment)  # the Augment tab's add stays
    w.close()
