"""The Data panel's settings column (:class:`SettingsColumn`)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QScrollArea, QWidget


class SettingsColumn(QScrollArea):
    """The settings column: never narrower than its form and the scroll bar beside it, so
    no control is cut at its right edge (at a 12 pt font or 125% scaling the arrows of the
    spin boxes and "Compute from training split" were, out of reach); where even that does
    not fit, it scrolls sideways."""

    def __init__(self, page: QWidget):
        super().__init__()
        self.setWidget(page)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        page.installEventFilter(self)  # its form's width changes: so does the column's

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        width = (self.widget().minimumSizeHint().width() + 2 * self.frameWidth()
                 + self.verticalScrollBar().sizeHint().width())
        return QSize(width, super().minimumSizeHint().height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)
