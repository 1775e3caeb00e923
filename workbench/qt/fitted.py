"""Word-wrapped labels that are never cut or laid over: :class:`FittedLabel` asks for all of
its text's height at its width as its minimum, and :class:`FittedMessageLabel` is a status
line (:class:`~workbench.qt.common.MessageLabel`) that does the same (the Explain dialog's
notes and message line, the Train tab's memory line).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QWidget

from workbench.qt.common import MessageLabel


class FittedLabel(QLabel):
    """A word-wrapped label whose minimum height is all of its text at its width.

    A wrapped QLabel's height for its width is not counted in its window's minimum size
    (nor through a tab widget), so a narrow window laid its lines over the picture above.
    This label asks for its full height as its minimum; the window grows to fit it.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._laid_width = -1

    def hasHeightForWidth(self) -> bool:  # noqa: N802  (Qt override)
        return False  # the minimum below says it; else a window drops its minimum height

    def _needed(self) -> int:
        if not self.text():
            return 0
        laid = self.testAttribute(Qt.WidgetAttribute.WA_Resized) or self.isVisible()
        width = self.width() if laid else QLabel.sizeHint(self).width()
        return QLabel.heightForWidth(self, max(1, width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(QLabel.minimumSizeHint(self).width(), self._needed())

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(QLabel.sizeHint(self).width(), self._needed())

    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if self.width() != self._laid_width:  # the lines the text needs changed
            self._laid_width = self.width()
            self.updateGeometry()

    def fits(self) -> bool:
        """Whether all of the text is inside the label (none cut off)."""
        return not self.text() or QLabel.heightForWidth(self, self.width()) <= self.height()


class FittedMessageLabel(FittedLabel, MessageLabel):
    """A status line (:class:`~workbench.qt.common.MessageLabel` colours), never cut or
    overlapped."""
