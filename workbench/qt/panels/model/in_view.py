"""Scroll the selected layer card into view once the cards have their places.

Selecting a card scrolled to it at once, with the geometry the cards had then: after an
edit (add, duplicate, move with Alt+Up/Down) the cards are new and not yet laid out, and
their shapes and counts, filled in just after, change their heights; a new card at the
bottom was left half below the view. :class:`KeepInView` scrolls after the edit is done,
when pending layouts have run; a card selected while the tab is hidden (from the model
doctor, say) is scrolled to when the tab is shown. A card taller than the view keeps its
field with the focus in sight (Shift+Tab into its last field).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

#: Pixels kept between a card shown and the edge of the view.
MARGIN = 10


class KeepInView(QObject):
    """Scrolls ``area`` to show the widget last passed to :meth:`request`, after the
    current event (an edit and the refresh that follows it) and its pending layouts."""

    def __init__(self, area: QScrollArea):
        super().__init__(area)
        self.area = area
        self._target: QWidget | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._scroll)
        area.installEventFilter(self)

    def request(self, widget: QWidget | None) -> None:
        """Show ``widget`` (a child of the area's widget) soon; ``None``: nothing to show."""
        self._target = widget
        if widget is not None:
            self._timer.start()

    def _scroll(self) -> None:
        widget = self._target
        if widget is None or not shiboken6.isValid(widget):
            self._target = None
            return
        if not self.area.isVisible():
            return  # when it is shown (eventFilter)
        # The cards' new places and heights, and the scroll bars' new range.
        for _ in range(2):
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.area.ensureWidgetVisible(widget, MARGIN, MARGIN)
        focus = QApplication.focusWidget()  # a card taller than the view: its field in use
        if focus is not None and widget.isAncestorOf(focus):
            self.area.ensureWidgetVisible(focus, MARGIN, MARGIN)
        self._target = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.area and event.type() == QEvent.Type.Show \
                and self._target is not None:
            self._timer.start()
        return False
