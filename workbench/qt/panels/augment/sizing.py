"""The Augment tab's left column on a short screen (a 1366x768 laptop at 125%: a 1093x614
window): the parts that ask for exactly the room they need, so the layout gives the
selected transform's whole form and every hint their room before the rest.

:class:`StepList` is the transform list, as tall as its rows (and one row to drop onto),
saying when the user picks a row with the keys (``picked``);
:class:`FormArea` holds the selected transform's parameter form and keeps all of it in view
(a form taller than :data:`FORM_LINES` lines scrolls).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QScrollArea, QSizePolicy, QWidget

#: The transform list's rows: at least; at most kept on a short screen (then it scrolls);
#: at most asked for.
MIN_ROWS, KEPT_ROWS, MAX_ROWS = 2, 5, 8
#: The tallest form kept whole, in lines of text (RandomCrop's five rows take about nine).
FORM_LINES = 16


class StepList(QListWidget):
    """A list as tall as its rows plus one, between :data:`MIN_ROWS` and :data:`MAX_ROWS`
    (not the fixed dozen rows of a list's default size, taken from the parameter form),
    and never shorter than its rows, up to :data:`KEPT_ROWS`.

    Signals
    -------
    picked()
        A key pressed in the list (an arrow, Page Up/Down, a name's first letter) made
        another row current: the user picked it. Not the list's edits (Alt+Up/Down,
        Delete and Ctrl+Z are shortcuts, never key presses here) nor a row set by code.
    """

    picked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        model = self.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.updateGeometry)

    def keyPressEvent(self, event) -> None:  # noqa: N802  (Qt override)
        row = self.currentRow()
        super().keyPressEvent(event)
        if self.currentRow() != row:
            self.picked.emit()

    def _rows_height(self, rows: int) -> int:
        row = max(self.sizeHintForRow(0), self.fontMetrics().height() + 2)
        return row * rows + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        rows = min(max(self.count() + 1, MIN_ROWS), MAX_ROWS)
        return QSize(super().sizeHint().width(), self._rows_height(rows))

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        rows = min(max(self.count(), MIN_ROWS), KEPT_ROWS)
        return QSize(super().minimumSizeHint().width(), self._rows_height(rows))


class FormArea(QScrollArea):
    """A scroll area whose size and minimum are its form's (up to :data:`FORM_LINES` lines
    high, then it scrolls), followed as the form changes."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the form's fields

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802  (Qt override)
        super().setWidget(widget)  # filters the form's events (eventFilter)
        self.updateGeometry()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # a row shown or hidden: the form's height changed
        return super().eventFilter(watched, event)

    def _needed(self) -> QSize:
        form = self.widget()
        frame = 2 * self.frameWidth()
        if form is None:
            return QSize(frame, frame)
        need = form.sizeHint().expandedTo(form.minimumSizeHint())
        height = min(need.height(), self.fontMetrics().lineSpacing() * FORM_LINES)
        width = need.width()
        if height < need.height():  # it scrolls: room for the scroll bar
            width += self.verticalScrollBar().sizeHint().width()
        return QSize(width + frame, height + frame)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return self._needed()

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return self._needed()
