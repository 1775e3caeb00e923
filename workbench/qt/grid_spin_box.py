"""A spin box for int parameters declared with a ``step`` (a registry Param): the
form's arrows step by it, and only values on its grid are taken."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox


class GridSpinBox(QSpinBox):
    """An int spin box that takes only ``minimum + k * singleStep`` (odd kernel sizes): a
    value typed between two is raised to the next one."""

    def validate(self, text: str, pos: int) -> object:  # noqa: N802  (Qt override)
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, tuple) else result
        if state == QValidator.State.Acceptable and self._off(self.valueFromText(text)):
            return QValidator.State.Intermediate, text, pos
        return result

    def fixup(self, text: str) -> str:  # noqa: N802  (Qt override)
        try:
            value = int(text.strip())
        except ValueError:
            return text
        off = self._off(value)
        if off:
            value += self.singleStep() - off
            if value > self.maximum():
                value -= self.singleStep()
        return str(value)

    def _off(self, value: int) -> int:
        return (value - self.minimum()) % max(1, self.singleStep())
