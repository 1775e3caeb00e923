"""A number typed outside a spin box's range is said, not silently undone.

A Qt spin box given "50" where its maximum is 10 quietly shows its old value again when it
loses focus (or on Enter): the user sees the number they typed vanish with no word why.
:func:`watch_range` catches that moment (before the spin box reverts) and calls back with
a sentence for a person ("lr can be at most 10: 50 was not taken"); the old value stays.
:class:`~workbench.qt.forms.ParamForm` shows it under its editors until the next edit.
"""

from __future__ import annotations

import inspect
import math
import weakref
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QFormLayout, QWidget

_COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def out_of_range(name: str, box: QAbstractSpinBox) -> str:
    """Why the text typed into ``box`` (the editor of ``name``) will not be taken, or "":
    a number beyond its bounds."""
    text = box.lineEdit().text().strip()
    for affix in (box.prefix(), box.suffix()):  # a suffix such as " px"
        text = text.replace(affix, "").strip() if affix.strip() else text
    try:
        value = float(text)
    except ValueError:
        return ""
    if math.isnan(value):
        return ""
    if value > box.maximum():
        return f"{name} can be at most {_number_text(box.maximum())}: {text} was not taken"
    if value < box.minimum():
        return f"{name} must be at least {_number_text(box.minimum())}: {text} was not taken"
    return ""


class _RangeWatcher(QObject):
    def __init__(self, box: QAbstractSpinBox, name: str, say: Callable[[str], None]):
        super().__init__(box)
        self.box, self.name = box, name
        # A form's method is held weakly: a strong one closed a cycle (form, its list
        # editor's boxes, their watchers, the form) that crashed Python's collector.
        self.say = weakref.WeakMethod(say) if inspect.ismethod(say) else lambda: say

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        kind = event.type()
        if kind == QEvent.Type.FocusOut or (kind == QEvent.Type.KeyPress
                                             and event.key() in _COMMIT_KEYS):
            problem = out_of_range(self.name, self.box)
            say = self.say()
            if problem and say is not None:
                say(problem)
        return False  # the spin box goes on as ever (it keeps its old value)


def watch_range(box: QAbstractSpinBox, name: str, say: Callable[[str], None]) -> None:
    """Call ``say(sentence)`` when the number typed into ``box`` is outside its range, at
    the moment the spin box would undo it (focus leaves it, or Enter)."""
    box.installEventFilter(_RangeWatcher(box, name, say))


def note_line(form: QWidget, columns: int = 1):
    """``form``'s line under its editors for what :func:`watch_range` says (a
    :class:`~workbench.qt.common.MessageLabel` kept as ``form._range_note``), added to its
    layout when first asked for: a form that never needs it is laid out as before (a hidden
    row spanning a layer card's columns narrowed its wide fields)."""
    from workbench.qt.common import MessageLabel

    if getattr(form, "_range_note", None) is None:
        note = form._range_note = MessageLabel()
        note.hide()
        layout = form.layout()
        if isinstance(layout, QFormLayout):
            layout.addRow(note)
        else:
            layout.addWidget(note, layout.rowCount(), 0, 1, 2 * columns)
    return form._range_note
