"""Forms built from a registry entry's declared parameters (generic: transforms, layers,
optimizers...).

:class:`ParamForm` shows one editor per :class:`~workbench.core.registry.Param`:

======================  =====================================================
declared type           editor
======================  =====================================================
``int``                 an IntSpinBox (bounds from ``min``/``max``; a number
                        typed past them is kept, said, and not taken)
``float``               a FloatSpinBox (small values shown as entered:
                        1e-06, not 0.0000), or a log-stepping spin box for ``log``
``bool``                QCheckBox
``str`` with choices    QComboBox
``str``                 QLineEdit
``list``                a row of spin boxes (and a count chooser when several
                        lengths are allowed)
number with ``words``   a chooser of the words ("same", "valid"...) or "number",
                        and a spin box for the number
======================  =====================================================

A parameter declared ``auto`` gets an "auto" check box beside its editor: checked means
``None`` (filled in automatically) and disables the editor, which shows what "auto" resolves
to, or "?" while that is unknown (:meth:`ParamForm.show_unknown_autos`). Tooltips come
from the help text and the bounds. Binding is two-way: :meth:`ParamForm.set_values` shows
values without emitting, user edits emit :attr:`ParamForm.changed` with every value.

A form is one column of "label: editor" rows, or ``columns`` side by side (compact cards).
Screen readers announce each editor by its label (:func:`~workbench.qt.accessible.name_field`).
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QFormLayout,
                               QGridLayout, QHBoxLayout, QLabel, QLineEdit, QWidget)

from workbench.core.registry import Entry, Param

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel
from workbench.qt.number_boxes import number_box, read_number, set_number, show_unknown
from workbench.qt.range_note import note_line, watch_range


def _bound(value: float) -> str:
    """A bound as a person reads it: integers exactly (``2^63-1`` for a seed's maximum, not
    ``9.22337e+18``), other numbers in short form."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{value:g}"
    if value >= 2**20 and (value + 1) & value == 0:  # 2^k - 1
        return f"2^{(value + 1).bit_length() - 1}-1"
    return f"{value:,}"


def param_tooltip(p: Param) -> str:
    """The help text of ``p`` with its bounds, choices and auto meaning."""
    parts = [p.help] if p.help else []
    if p.min is not None and p.max is not None:
        parts.append(f"Range: {_bound(p.min)} to {_bound(p.max)}.")
    elif p.min is not None:
        parts.append(f"At least {_bound(p.min)}.")
    elif p.max is not None:
        parts.append(f"At most {_bound(p.max)}.")
    if p.choices:
        parts.append("One of: " + ", ".join(map(str, p.choices)) + ".")
    words = getattr(p, "words", None)
    if words:
        parts.append("Or one of the words: " + ", ".join(map(str, words)) + ".")
    if p.auto:
        parts.append(f"Auto: from the {p.auto}.")
    return " ".join(parts)


class _ListEditor(QWidget):
    """A row of spin boxes for a list parameter; a count chooser when lengths vary."""

    edited = Signal()

    def __init__(self, p: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = p
        self.kind = p.item_type or float
        self.lengths = tuple(p.length) if p.length else (1, 2, 3)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.count = QComboBox()
        for n in self.lengths:
            self.count.addItem(f"{n} value{'s' if n > 1 else ''}", n)
        self.count.setVisible(len(self.lengths) > 1)
        self.count.setToolTip("How many values: see the parameter's help.")
        self.boxes = []
        for _ in range(max(self.lengths)):
            box = number_box(self.kind, p)
            box.valueChanged.connect(self.edited)
            row.addWidget(box)
            self.boxes.append(box)
        row.addWidget(self.count)
        self.count.currentIndexChanged.connect(self._on_count)

    def _on_count(self) -> None:
        self._show(self.count.currentData())
        self.edited.emit()

    def _show(self, n: int) -> None:
        for i, box in enumerate(self.boxes):
            box.setVisible(i < n)

    def value(self) -> list:
        n = self.count.currentData()
        return [read_number(b, self.kind) for b in self.boxes[:n]]

    def set_value(self, value: Any) -> None:
        values = list(value) if isinstance(value, (list, tuple)) else []
        n = len(values) if len(values) in self.lengths else max(self.lengths)
        self.count.setCurrentIndex(self.lengths.index(n))
        self._show(n)
        for i, box in enumerate(self.boxes[:n]):
            if values:
                set_number(box, values[min(i, len(values) - 1)])

    def setToolTip(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setToolTip(text)
        for box in self.boxes:
            box.setToolTip(text)


#: The chooser item of a :class:`_WordsEditor` that means "the number in the spin box".
NUMBER_CHOICE = "number"


class _WordsEditor(QWidget):
    """A number that may also be one of a few words (``padding``: 1, or "same"/"valid").

    A chooser lists the words and "number"; the spin box beside it is enabled only for
    "number", so the two can never disagree.
    """

    edited = Signal()

    def __init__(self, p: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = p
        self.words = tuple(str(w) for w in getattr(p, "words", ()) or ())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.choice = QComboBox()
        for w in self.words:
            self.choice.addItem(w, w)
        self.choice.addItem(NUMBER_CHOICE, None)
        self.box = number_box(p.type, p)
        row.addWidget(self.choice)
        row.addWidget(self.box, 1)
        self.choice.currentIndexChanged.connect(self._on_choice)
        self.box.valueChanged.connect(self.edited)

    def _on_choice(self) -> None:
        self.box.setEnabled(self.choice.currentData() is None)
        self.edited.emit()

    def value(self) -> Any:
        word = self.choice.currentData()
        return word if word is not None else read_number(self.box, self.param.type)

    def set_value(self, value: Any) -> None:
        if isinstance(value, str) and value in self.words:
            self.choice.setCurrentIndex(self.words.index(value))
            default = self.param.default
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                set_number(self.box, default)  # where "number" starts when chosen
        else:
            self.choice.setCurrentIndex(len(self.words))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                set_number(self.box, value)
        self.box.setEnabled(self.choice.currentData() is None)

    def setToolTip(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setToolTip(text)
        self.choice.setToolTip(text)
        self.box.setToolTip(text)


class ParamForm(QWidget):
    """Editors for the declared parameters of one registry entry.

    Parameters
    ----------
    entry
        The registry entry; one row per ``entry.params``.
    values
        The current values (missing ones take the declared defaults).
    auto_values
        For ``auto`` parameters: the value shown (greyed) while "auto" is checked, and the
        starting value when the user unchecks it (e.g. the experiment's input size).
    columns
        How many "label: editor" pairs per row; 1 (the default) is a plain form.
    empty_text
        What the form says when the entry has no parameters; by default "ReLU has no
        parameters." ("Nothing to set." for an entry named "none").

    Signals
    -------
    changed(dict)
        After a user edit: every parameter's value (``None`` for "auto").
    """

    changed = Signal(dict)

    def __init__(self, entry: Entry, values: dict | None = None,
                 auto_values: dict | None = None, parent: QWidget | None = None,
                 columns: int = 1, empty_text: str | None = None):
        super().__init__(parent)
        self.entry = entry
        self.auto_values = dict(auto_values or {})
        self.editors: dict[str, QWidget] = {}
        self.auto_boxes: dict[str, QCheckBox] = {}
        self._updating = False
        columns = max(1, int(columns))
        grid: QGridLayout | None = None
        if columns == 1:
            layout = QFormLayout(self)
            layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        else:
            grid = QGridLayout(self)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setHorizontalSpacing(6)
            for c in range(columns):
                grid.setColumnStretch(2 * c + 1, 1)
        if not entry.params:
            note = QLabel(empty_text or ("Nothing to set." if entry.name == "none" else
                                         f"{entry.name} has no parameters."))
            if grid is None:
                layout.addRow(note)
            else:
                grid.addWidget(note, 0, 0, 1, 2 * columns)
        for i, p in enumerate(entry.params):
            editor = self._make_editor(p)
            tip = param_tooltip(p)
            editor.setToolTip(tip)
            self.editors[p.name] = editor
            field: QWidget = editor
            if p.auto is not None:
                field = QWidget()
                row = QHBoxLayout(field)
                row.setContentsMargins(0, 0, 0, 0)
                auto = QCheckBox("auto")
                auto.setToolTip(f"Filled in automatically from the {p.auto}.")
                auto.toggled.connect(self._on_auto)
                self.auto_boxes[p.name] = auto
                row.addWidget(editor, 1)
                row.addWidget(auto)
            label = QLabel(p.name)
            label.setToolTip(tip)
            name_field(label, field, p.name)  # a reader says "lr", and "lr auto" for its box
            if grid is None:
                layout.addRow(label, field)
            else:
                r, c = divmod(i, columns)
                grid.addWidget(label, r, 2 * c, Qt.AlignmentFlag.AlignRight)
                grid.addWidget(field, r, 2 * c + 1)
        self._range_note: MessageLabel | None = None  # made when first needed: range_note
        self._columns = columns
        self.set_values(values or {})

    # -- editors ---------------------------------------------------------------------------
    def _make_editor(self, p: Param) -> QWidget:
        if getattr(p, "words", None) and p.type in (int, float):
            w: QWidget = _WordsEditor(p)
            w.edited.connect(self._on_edit)
            watch_range(w.box, p.name, self._say_out_of_range)
        elif p.type is bool:
            w = QCheckBox()
            w.toggled.connect(self._on_edit)
        elif p.type is list:
            w = _ListEditor(p)
            w.edited.connect(self._on_edit)
            for box in w.boxes:
                watch_range(box, p.name, self._say_out_of_range)
        elif p.type is str and p.choices:
            w = QComboBox()
            notes = p.choice_notes or {}
            for c in p.choices:  # the value is the item's data; a note only shows
                w.addItem(f"{c}  ({notes[c]})" if c in notes else str(c), c)
            w.currentIndexChanged.connect(self._on_edit)
        elif p.type is str:
            w = QLineEdit()
            w.editingFinished.connect(self._on_edit)
        elif p.type in (int, float):
            w = number_box(p.type, p)
            w.valueChanged.connect(self._on_edit)
            watch_range(w, p.name, self._say_out_of_range)
        else:  # pragma: no cover  (Param.validate knows no other types)
            raise TypeError(f"no editor for parameter {p.name!r} of type {p.type!r}")
        return w

    def _editor_value(self, p: Param) -> Any:
        w = self.editors[p.name]
        if isinstance(w, (_ListEditor, _WordsEditor)):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QLineEdit):
            return w.text()
        return read_number(w, p.type)

    def _set_editor(self, p: Param, value: Any) -> None:
        w = self.editors[p.name]
        if value is None:
            value = p.default if p.default is not None else self.auto_values.get(p.name)
        if value is None:
            return
        if isinstance(w, (_ListEditor, _WordsEditor)):
            w.set_value(value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            i = w.findData(value)
            w.setCurrentIndex(i if i >= 0 else 0)
        elif isinstance(w, QLineEdit):
            w.setText(str(value))
        else:
            set_number(w, value)

    # -- binding ---------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Every parameter's current value (``None`` where "auto" is checked)."""
        out = {}
        for p in self.entry.params:
            auto = self.auto_boxes.get(p.name)
            out[p.name] = None if auto is not None and auto.isChecked() else \
                self._editor_value(p)
        return out

    def set_values(self, values: dict) -> None:
        """Show ``values`` (defaults for missing names) without emitting :attr:`changed`."""
        self._updating = True
        try:
            for p in self.entry.params:
                value = values.get(p.name, p.default)
                auto = self.auto_boxes.get(p.name)
                if auto is not None:
                    auto.setChecked(value is None)
                    self.editors[p.name].setEnabled(value is not None)
                    if value is not None:
                        self._mark_unknown(p.name, False)
                self._set_editor(p, value)
        finally:
            self._updating = False

    def show_auto_values(self, auto_values: dict) -> None:
        """Show what "auto" resolves to (e.g. the incoming channels) where it is checked.

        Does not emit :attr:`changed`; the values stay ``None``.
        """
        self.auto_values.update(auto_values)
        self._updating = True
        try:
            for p in self.entry.params:
                auto = self.auto_boxes.get(p.name)
                value = auto_values.get(p.name)
                if auto is not None and auto.isChecked() and value is not None:
                    self._mark_unknown(p.name, False)
                    self._set_editor(p, value)
        finally:
            self._updating = False

    def show_unknown_autos(self, names: Iterable[str]) -> None:
        """Show "?" in the editors of ``names`` where "auto" is checked: what they resolve
        to is not known (at or below a layer that does not fit). Does not emit
        :attr:`changed`; unchecking "auto" shows the number the editor holds."""
        self._updating = True
        try:
            for name in names:
                auto = self.auto_boxes.get(name)
                if auto is not None and auto.isChecked():
                    self._mark_unknown(name, True)
        finally:
            self._updating = False

    def _mark_unknown(self, name: str, unknown: bool) -> None:
        w = self.editors[name]
        boxes = w.boxes if isinstance(w, _ListEditor) else [w.box] if \
            isinstance(w, _WordsEditor) else [w] if isinstance(w, QAbstractSpinBox) else []
        for box in boxes:
            show_unknown(box, unknown)

    @Slot()
    def _on_auto(self) -> None:
        updating, self._updating = self._updating, True  # a "?" box's number: one change
        try:
            for name, auto in self.auto_boxes.items():
                self.editors[name].setEnabled(not auto.isChecked())
                if not auto.isChecked():
                    self._mark_unknown(name, False)
        finally:
            self._updating = updating
        self._on_edit()

    @property
    def range_note(self) -> MessageLabel:
        """The line saying a number typed out of range was not taken (made when first
        needed: :func:`workbench.qt.range_note.note_line`)."""
        return note_line(self, self._columns)

    def _say_out_of_range(self, text: str) -> None:
        self.range_note.show_message(text, "warning")
        self.range_note.show()

    @Slot()
    def _on_edit(self, *_: Any) -> None:
        if self._range_note is not None:
            self._range_note.hide()
        if not self._updating:
            self.changed.emit(self.values())
