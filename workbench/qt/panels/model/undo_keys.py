"""Ctrl+Z and Ctrl+Y in a card's number or text box undo and redo the panel's edits.

A spin box or line edit claims the Undo and Redo keys for its own text (in its
``ShortcutOverride``), so with the focus in a card's box the panel's "Undo" shortcut never
fired, and the box's own history is empty once its value is set (after Enter, an undo or a
redo): Ctrl+Z did nothing at all. :class:`EditorUndoKeys` watches the editors of every card
the :class:`~.stack.LayerStack` shows and hands those keys to the panel's Undo and Redo
actions, except while the box has typing of its own to undo (or redo): then the box keeps
them, as any text box does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget

#: Keys that redo besides the platform's Redo (the panel's Redo action takes both).
REDO_KEYS = (QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y"))


def undo_direction(event: QKeyEvent) -> str | None:
    """``"undo"``, ``"redo"`` or ``None`` for a key event."""
    if event.matches(QKeySequence.StandardKey.Undo):
        return "undo"
    if event.matches(QKeySequence.StandardKey.Redo):
        return "redo"
    pressed = QKeySequence(event.keyCombination())
    return "redo" if any(pressed.matches(k) == QKeySequence.SequenceMatch.ExactMatch
                         for k in REDO_KEYS) else None


def own_history(widget: QWidget, direction: str) -> bool:
    """Whether ``widget`` (a spin box or line edit) has typing of its own to undo/redo."""
    edit = widget.lineEdit() if isinstance(widget, QAbstractSpinBox) else widget
    if not isinstance(edit, QLineEdit) or edit.isReadOnly():
        return False
    return edit.isUndoAvailable() if direction == "undo" else edit.isRedoAvailable()


class EditorUndoKeys(QObject):
    """Hands Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y in the cards' editors to ``undo`` / ``redo``.

    Parameters
    ----------
    stack
        The :class:`~.stack.LayerStack`: each card put in it has its editors watched. A
        widget with no cards to follow (the Augment tab's form area) calls :meth:`watch`
        itself for each form it shows.
    undo, redo
        The panel's actions (triggering a disabled one does nothing).
    """

    def __init__(self, stack: QWidget, undo: QAction, redo: QAction):
        super().__init__(stack)
        self._actions = {"undo": undo, "redo": redo}
        # The cards are put in the scroll area's widget: new ones are watched as they come.
        self._body = stack.widget() if hasattr(stack, "widget") else None
        if self._body is not None:
            self._body.installEventFilter(self)

    def watch(self, root: QWidget) -> None:
        """Watch every number and text box under ``root``."""
        for box in root.findChildren(QAbstractSpinBox) + root.findChildren(QLineEdit):
            if isinstance(box.parent(), QAbstractSpinBox):
                continue  # a spin box's own line edit: the spin box has the focus
            box.removeEventFilter(self)  # once only
            box.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        kind = event.type()
        if self._body is not None and obj is self._body:
            if kind == QEvent.Type.ChildAdded and isinstance(event.child(), QWidget):
                self.watch(event.child())  # a new card, its form built already
            return False
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        direction = undo_direction(event)
        if direction is None or own_history(obj, direction):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # the key press comes here, not to another shortcut
            return True
        self._actions[direction].trigger()
        return True
