"""The spin boxes of a :class:`~workbench.qt.forms.ParamForm`'s numbers, made from a
registry :class:`~workbench.core.registry.Param`'s bounds.

A plain QSpinBox refuses the key that would take its text past a bound: "200" typed where
the maximum is 64 leaves "20", and "-1" where the minimum is 0 leaves "1", which it then
takes without a word. The int boxes here keep every key of a whole number (as the float
boxes keep "50" past an lr's maximum), so Enter or focus-out finds the number typed out of
range, :mod:`workbench.qt.range_note` says so, and the old value stays.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QSpinBox, QWidget

from workbench.core.registry import Param

from workbench.qt.common import FloatSpinBox, LogSpinBox
from workbench.qt.grid_spin_box import GridSpinBox

INT_LIMIT = 2_000_000_000
FLOAT_LIMIT = 1e9
#: What a greyed "auto" box shows while its value is unknown (after a layer that does not
#: fit).
UNKNOWN_TEXT = "?"


def _keep_whole_number(text: str, pos: int, result: object) -> object:
    """``result`` (the spin box's own ``validate``), or intermediate where it refused a
    whole number past the bounds or a lone "-": the text stays as typed, not taken."""
    state = result[0] if isinstance(result, tuple) else result
    if state == QValidator.State.Invalid and re.fullmatch(r"\s*[+-]?[0-9]*\s*", text):
        return QValidator.State.Intermediate, text, pos
    return result


class IntSpinBox(QSpinBox):
    """A QSpinBox that keeps a whole number typed past its bounds (not taken: said)."""

    def validate(self, text: str, pos: int) -> object:  # noqa: N802  (Qt override)
        return _keep_whole_number(text, pos, super().validate(text, pos))


class IntGridSpinBox(GridSpinBox):
    """A :class:`~workbench.qt.grid_spin_box.GridSpinBox` that keeps a whole number typed
    past its bounds (not taken: said)."""

    def validate(self, text: str, pos: int) -> object:  # noqa: N802  (Qt override)
        return _keep_whole_number(text, pos, super().validate(text, pos))


class LogOrZeroSpinBox(LogSpinBox):
    """A log-stepping spin box that also holds 0 (weight decay, a schedule's floor), which
    a plain :class:`LogSpinBox` would show and read back as its 1e-8 minimum."""

    _SMALLEST = 1e-8  # the rung below which stepping down lands on 0

    def stepBy(self, steps: int) -> None:  # noqa: N802  (Qt override)
        if self.value() <= 0:
            if steps > 0:
                self.setValue(self._SMALLEST)
                super().stepBy(steps - 1)
            return
        super().stepBy(steps)
        if self.value() < self._SMALLEST:
            self.setValue(0.0)


def number_box(kind: type, p: Param, parent: QWidget | None = None) -> QWidget:
    """A spin box for one number of ``p`` (``kind`` is int or float)."""
    if kind is int:
        box: QWidget = IntGridSpinBox(parent) if p.step and p.min is not None else \
            IntSpinBox(parent)
        # A QSpinBox holds a 32-bit int: clamp wider declared bounds (Linear's 2**31).
        lo = max(int(p.min), -INT_LIMIT) if p.min is not None else -INT_LIMIT
        hi = min(int(p.max), INT_LIMIT) if p.max is not None else INT_LIMIT
        box.setRange(lo, hi)
        if p.step:
            box.setSingleStep(int(p.step))
    elif p.log and p.min == 0:
        box = LogOrZeroSpinBox(parent)
        box.setRange(0.0, p.max if p.max is not None else FLOAT_LIMIT)
    elif p.log:
        box = LogSpinBox(parent)
        box.setRange(p.min if p.min is not None and p.min > 0 else 1e-8,
                     p.max if p.max is not None else FLOAT_LIMIT)
    else:
        box = FloatSpinBox(parent)  # shows 1e-06 as that, not as "0.0000"
        lo = p.min if p.min is not None else -FLOAT_LIMIT
        hi = p.max if p.max is not None else FLOAT_LIMIT
        box.setRange(lo, hi)
        span = hi - lo if p.min is not None and p.max is not None else 10.0
        box.setSingleStep(p.step or (0.01 if span <= 1.0 else 0.05 if span <= 5.0 else
                                     0.5 if span <= 100 else 1.0))
    box.setKeyboardTracking(False)
    return box


def set_number(box: QWidget, value: Any) -> None:
    """Show ``value``; remember it exactly so reading back does not round it (4/3)."""
    box.setValue(value)
    box.setProperty("exact", float(value))


def read_number(box: QWidget, kind: type) -> Any:
    """The number ``box`` holds, as ``kind``: exactly the one shown with
    :func:`set_number` while the box still shows it."""
    value = box.value()
    if kind is float and not isinstance(box, LogSpinBox):
        exact = box.property("exact")
        if exact is not None and abs(exact - value) <= 0.5 * 10 ** -box.decimals():
            return float(exact)
    return kind(value)


def show_unknown(box: QAbstractSpinBox, unknown: bool) -> None:
    """Show :data:`UNKNOWN_TEXT` in ``box`` (it then holds its minimum), or (``unknown``
    false) its number again: the one it held before the "?" (the last resolved value), so a
    "?" box whose "auto" is unchecked shows and saves that, not the minimum."""
    was_unknown = box.specialValueText() == UNKNOWN_TEXT
    if unknown and not was_unknown:
        box.setProperty("known", box.value())
    box.setSpecialValueText(UNKNOWN_TEXT if unknown else "")
    if unknown:
        box.setValue(box.minimum())
    elif was_unknown and box.property("known") is not None:
        box.setValue(box.property("known"))
