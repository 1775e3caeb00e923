"""Model panel editing: drag and drop, reorder, duplicate, delete, undo/redo, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel
from workbench.qt.panels.model.cards import card_mime

from qt_helpers import model_panel


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _panel(qtbot, layers=None, show=False) -> ModelPanel:
    return model_panel(qtbot, layers, (1100, 800) if show else None)


def _types(panel: ModelPanel) -> list[str]:
    return [c.type for c in panel.experiment.model.layers]


def _dicts(panel: ModelPanel) -> list[dict]:
    return [c.to_dict() for c in panel.experiment.model.layers]


def _drag_and_drop(widget, mime, pos: QPoint) -> QDropEvent:
    """Deliver a drag (enter, move) and its drop at ``pos`` of ``widget`` through Qt's event
    dispatch, as a real drag arrives."""
    args = (Qt.DropAction.CopyAction | Qt.DropAction.MoveAction, mime,
            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the stack refused the drag"
    move = QDragMoveEvent(pos, *args)
    QApplication.sendEvent(widget, move)
    assert move.isAccepted()
    drop = QDropEvent(QPointF(pos), *args)
    QApplication.sendEvent(widget, drop)
    return drop


def test_drag_from_the_palette_inserts_at_the_drop_position(qtbot):
    panel = _panel(qtbot, show=True)
    item = panel.layer_palette.item("BatchNorm2d")
    mime = panel.layer_palette.tree.mimeData([item])  # what the palette's own drag carries
    body = panel.stack.body
    # Just above the middle of card 2 (0-based): the new layer lands before it.
    target = panel.stack.card_center(1) + QPoint(0, 1)
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        drop = _drag_and_drop(body, mime, target)
    assert drop.isAccepted()
    assert _types(panel)[:4] == ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d"]
    assert panel.selected_layer() == 2
    assert not body.indicator.isVisible()  # the drop line goes away with the drag
    # Dropped below the last card: appended.
    below = panel.stack.cards[-1].geometry().bottom() + 3
    _drag_and_drop(body, panel.layer_palette.tree.mimeData([panel.layer_palette.item("Dropout")]),
                   QPoint(20, below))
    assert _types(panel)[-1] == "Dropout"


def test_drag_ignores_foreign_data(qtbot):
    from PySide6.QtCore import QMimeData

    panel = _panel(qtbot, show=True)
    mime = QMimeData()
    mime.setText("Conv2d")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel.stack.body, enter)
    assert not enter.isAccepted()


def test_dragging_a_card_reorders(qtbot):
    panel = _panel(qtbot, show=True)
    before = _types(panel)
    body = panel.stack.body
    # The first card dropped below the last one: it becomes the last layer.
    below = panel.stack.cards[-1].geometry().bottom() + 3
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        _drag_and_drop(body, card_mime(0), QPoint(20, below))
    assert _types(panel) == before[1:] + before[:1]
    assert panel.selected_layer() == len(before) - 1
    # The last card dropped just above the middle of card 1: it becomes layer 1 again.
    _drag_and_drop(body, card_mime(len(before) - 1),
                   panel.stack.card_center(0) - QPoint(0, 2))
    assert _types(panel) == before
    # A card dropped onto its own place changes nothing (and adds no undo step).
    count = panel.undo_stack.count()
    _drag_and_drop(body, card_mime(2), panel.stack.card_center(2) - QPoint(0, 2))
    assert _types(panel) == before and panel.undo_stack.count() == count


def test_move_duplicate_and_delete_actions(qtbot):
    panel = _panel(qtbot, [Component("Flatten"), Component("Linear", {"out_features": 32}),
                           Component("ReLU"), Component("Linear", {"out_features": None})])
    panel.select_layer(2)
    panel.up_action.trigger()
    assert _types(panel) == ["Flatten", "ReLU", "Linear", "Linear"]
    assert panel.selected_layer() == 1
    panel.down_action.trigger()
    assert _types(panel) == ["Flatten", "Linear", "ReLU", "Linear"]
    panel.select_layer(1)
    panel.duplicate_action.trigger()
    assert _types(panel) == ["Flatten", "Linear", "Linear", "ReLU", "Linear"]
    assert panel.experiment.model.layers[2].params == panel.experiment.model.layers[1].params
    assert panel.experiment.model.layers[2] is not panel.experiment.model.layers[1]
    assert panel.selected_layer() == 2
    panel.delete_action.trigger()
    assert _types(panel) == ["Flatten", "Linear", "ReLU", "Linear"]
    assert [c.index_label.text() for c in panel.stack.cards] == ["1", "2", "3", "4"]
    panel.select_layer(0)
    assert not panel.up_action.isEnabled() and panel.down_action.isEnabled()


def test_weight_ties_follow_their_layers_when_others_move(qtbot):
    layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
              Component("ReLU"), Component("Linear", {"out_features": 16}),
              Component("ReLU"), Component("Linear", {"out_features": 16}),
              Component("Linear", {"out_features": None})]
    layers[5].share = 3
    panel = _panel(qtbot, layers)
    panel.add_layer("Dropout", 0)
    assert panel.experiment.model.layers[6].share == 4  # still the same Linear
    panel.remove_layer(0)
    assert panel.experiment.model.layers[5].share == 3
    panel.remove_layer(3)  # the tied-to layer itself: the tie goes with it
    assert panel.experiment.model.layers[4].share is None


def test_undo_and_redo_restore_exact_layer_lists(qtbot):
    from workbench.core.model.presets import preset_layers

    layers = preset_layers("mlp")
    layers[0].init = {"weight": {"type": "zeros", "params": {}}}  # kept by every snapshot
    panel = _panel(qtbot, layers)
    history = [_dicts(panel)]
    panel.add_layer("Dropout", 1)
    history.append(_dicts(panel))
    panel.stack.cards[2].form.editors["out_features"].setValue(200)  # Linear 256 -> 200
    history.append(_dicts(panel))
    panel.move_layer(1, 3)
    history.append(_dicts(panel))
    panel.duplicate_layer(0)
    history.append(_dicts(panel))
    panel.remove_layer(4)
    history.append(_dicts(panel))
    panel.set_preset("logistic")  # a preset replaces everything, own inits included
    history.append(_dicts(panel))
    assert len({str(h) for h in history}) == len(history)  # every step changed something
    for state in reversed(history[:-1]):
        panel.undo_action.trigger()
        assert _dicts(panel) == state
        assert _types(panel) == [c.type for c in panel.stack.cards]
    assert not panel.undo_action.isEnabled()
    for state in history[1:]:
        panel.redo_action.trigger()
        assert _dicts(panel) == state
    assert panel.preset_combo.currentText() == "logistic"
    assert panel.experiment.model.layers[0].init is None
    panel.undo_action.trigger()
    assert panel.experiment.model.layers[0].init == \
        {"weight": {"type": "zeros", "params": {}}}  # restored with its layer


def test_undo_shows_the_restored_values_in_the_form(qtbot):
    panel = _panel(qtbot)
    box = panel.stack.cards[0].form.editors["out_channels"]
    box.setValue(48)
    panel.undo_action.trigger()
    assert panel.experiment.model.layers[0].params["out_channels"] == 32
    assert box.value() == 32
    assert panel.row_texts()[0][3] == "(32, 16, 16)"


def test_consecutive_edits_of_one_field_undo_in_one_step(qtbot):
    panel = _panel(qtbot)
    start = _dicts(panel)
    box = panel.stack.cards[0].form.editors["out_channels"]
    for value in (33, 34, 35):  # e.g. three clicks on the spin box's arrow
        box.setValue(value)
    assert panel.undo_stack.count() == 1
    panel.stack.cards[0].form.editors["kernel_size"].setValue(5)  # another field: new step
    assert panel.undo_stack.count() == 2
    box.setValue(36)  # the first field again, after another one: new step too
    assert panel.undo_stack.count() == 3
    panel.undo_stack.undo()
    panel.undo_stack.undo()
    panel.undo_stack.undo()
    assert _dicts(panel) == start


def test_preset_load_is_undoable(qtbot):
    panel = _panel(qtbot)
    start = _dicts(panel)
    panel.preset_combo.setCurrentText("lenet5")
    assert _types(panel)[:2] == ["Conv2d", "Tanh"]
    panel.undo_action.trigger()
    assert _dicts(panel) == start
    assert panel.preset_combo.currentText() == "seed-cnn"


def test_keyboard_shortcuts(qtbot):
    panel = _panel(qtbot, show=True)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    start = _dicts(panel)
    card = panel.stack.cards[1]
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton, pos=QPoint(card.width() // 2, 8))
    assert panel.selected_layer() == 1
    qtbot.keyClick(card, Qt.Key.Key_Delete)
    assert _types(panel)[:2] == ["Conv2d", "MaxPool2d"]
    after_delete = _dicts(panel)
    target = panel.stack.cards[0]
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _dicts(panel) == start
    qtbot.keyClick(target, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _dicts(panel) == after_delete
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(target, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert _dicts(panel) == after_delete
    panel.select_layer(0)
    qtbot.keyClick(panel.stack.cards[0], Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert _types(panel)[:2] == ["Conv2d", "Conv2d"]
    qtbot.keyClick(panel.stack.cards[1], Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert panel.selected_layer() == 0
    # In a number box, Delete edits the number and does not delete the layer.
    n = len(panel.experiment.model.layers)
    box = panel.stack.cards[0].form.editors["out_channels"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    assert len(panel.experiment.model.layers) == n


def test_undo_keys_in_a_cards_number_box_undo_the_panels_edits(qtbot):
    # A spin box claims Ctrl+Z for its own text, which is empty once its value is set:
    # with the focus in the box the keys did nothing.
    panel = _panel(qtbot, show=True)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    box = panel.stack.cards[3].form.editors["out_channels"]  # kept by undo and redo
    box.setFocus()
    qtbot.waitUntil(lambda: box.hasFocus(), timeout=WAIT_MS)
    box.selectAll()
    qtbot.keyClicks(box, "48")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert _out(panel) == 48
    assert panel.undo_stack.undoText() == "Change out_channels of layer 4 (Conv2d)"
    focus = QApplication.focusWidget()
    qtbot.keyClick(focus, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _out(panel) == 64 and box.value() == 64
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _out(panel) == 48 and box.value() == 48
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert _out(panel) == 48 and box.text() == "48"
    # Typing not yet entered is the box's own to undo: the network is left alone.
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "7")
    qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert box.text() == "48" and _out(panel) == 48
    assert panel.undo_stack.undoText() == "Change out_channels of layer 4 (Conv2d)"


def _out(panel: ModelPanel) -> int:
    return panel.experiment.model.layers[3].params["out_channels"]
