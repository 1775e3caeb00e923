"""Names for a screen reader: every field is announced by its label ("lr, spin box 0.001"),
not by its value alone ("spin box 0.001", "combo box Adam").

- :func:`name_field`: gives a field the accessible name of the label beside it and makes
  the label its buddy (the "labelled by" relation a reader follows; Qt on Linux announces a
  combo box by its value, and its label only through that relation). Generated forms
  (:class:`~workbench.qt.forms.ParamForm`) and the hand-made rows of the panels use it.
- :func:`spoken_name`: what a reader says a widget is (tests check every Tab stop has one).
"""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (QAbstractItemView, QAbstractSlider, QAbstractSpinBox,
                               QCheckBox, QComboBox, QLabel, QLineEdit, QWidget)

#: The widgets a user types, picks, ticks or moves a value in (each needs a name).
INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractSlider, QAbstractItemView,
          QCheckBox)


def _label_name(label: QLabel) -> str:
    """A label's text as a name: "Dataset" for "&Dataset:"."""
    return label.text().replace("&", "").strip().rstrip(":").strip()


def _inputs(field: QWidget) -> list[QWidget]:
    """``field`` when it is an input, else the inputs inside it in the order they were
    added (not a spin box's or combo box's own line edit)."""
    if isinstance(field, INPUTS):
        return [field]
    return [w for w in field.findChildren(QWidget)
            if isinstance(w, INPUTS) and not _inside_input(w, field)]


def _inside_input(widget: QWidget, field: QWidget) -> bool:
    """Whether ``widget`` is part of another input in ``field`` (a combo box's list)."""
    outer = widget.parentWidget()
    while outer is not None and outer is not field:
        if isinstance(outer, INPUTS):
            return True
        outer = outer.parentWidget()
    return False


def name_field(label: QLabel | None, field: QWidget, name: str | None = None) -> QWidget:
    """Name ``field`` for a screen reader: ``name``, else ``label``'s text without its
    colon; ``label`` (when given) becomes the buddy of the field's first input.

    A field made of several inputs (a row of number boxes, a word chooser and its number,
    an editor and its "auto" box) names each input of it that has no name yet: the number
    boxes of a row "betas 1", "betas 2"; a check box with a text of its own
    "in_channels auto"; any other ``name``. Returns ``field``.
    """
    if name is None:
        name = _label_name(label) if label is not None else ""
    field.setAccessibleName(name)
    inputs = _inputs(field)
    numbers = [w for w in inputs if isinstance(w, QAbstractSpinBox)]
    for w in inputs:
        if w is field or w.accessibleName():
            continue
        if isinstance(w, QCheckBox) and w.text():
            w.setAccessibleName(f"{name} {w.text().replace('&', '')}")
        elif len(numbers) > 1 and w in numbers:
            w.setAccessibleName(f"{name} {numbers.index(w) + 1}")
        else:
            w.setAccessibleName(name)
    if label is not None:
        label.setBuddy(inputs[0] if inputs else field)
    return field


def spoken_name(widget: QWidget) -> str:
    """The name a screen reader says for ``widget``: its accessible name, else what Qt
    makes of it (a button's text, its label's, its group box's title).

    Qt names a combo box by its current value ("Adam"): that is no name, so a combo box
    needs a label (on Linux a reader says "Type: combo box Adam" from the label alone) or
    an accessible name (what readers on Windows and macOS say).
    """
    face = QAccessible.queryAccessibleInterface(widget)
    if widget.accessibleName() or face is None:
        return widget.accessibleName()
    if not isinstance(widget, QComboBox):
        return face.text(QAccessible.Text.Name)
    labels = [other.text(QAccessible.Text.Name)
              for other, _ in face.relations(QAccessible.RelationFlag.Label)]
    return next((text for text in labels if text), "")
