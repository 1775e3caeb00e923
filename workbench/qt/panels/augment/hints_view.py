"""The Augment panel's hints and their one-click fixes.

:class:`HintsView` shows the hints of :func:`~workbench.core.data.augment.pipeline_hints.all_hints`
("Hint: RandomRotation rotates up to 180 degrees...") and one button per fix
(:func:`~workbench.core.data.augment.fixes.offered_fixes`: "Remove the flips", "Limit
rotation to 30°", "Set hue to 0", "Remove Normalize"...), and after a fix an Undo button
that puts the list back. It only shows and asks: the panel makes the edits.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (QGridLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from workbench.core.data.augment.fixes import FLIPS, Fix, Hint, offered_fixes

from workbench.qt.common import MessageLabel
from workbench.qt.workers import TaskRunner

#: Fix buttons per row (the panel's left column is narrow).
COLUMNS = 2
#: Lines of hints shown before they scroll (four hints at 100% on a 1366x768 laptop), and
#: the fewest kept on a short screen.
MAX_LINES, MIN_LINES = 16, 3


class _HintScroll(QScrollArea):
    """The hint lines, as tall as they need up to :data:`MAX_LINES` lines, then scrolling
    (four hints at once no longer push the buttons off the column or get cut)."""

    def __init__(self, label: QLabel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)  # the panel's own background
        label.setAutoFillBackground(False)
        self._width = -1

    def _needed(self, lines: int) -> int:
        width = max(60, self.width() - self.verticalScrollBar().sizeHint().width())
        needed = self.widget().heightForWidth(width)
        if needed < 0:
            needed = self.widget().sizeHint().height()
        return min(needed, self.fontMetrics().lineSpacing() * lines) + 2

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().sizeHint().width(), self._needed(MAX_LINES))

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(0, self._needed(MIN_LINES))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if self.width() != self._width:  # the text wraps anew: so does the height it needs
            self._width = self.width()
            self.updateGeometry()


class HintsView(QWidget):
    """Hint lines, a button per fix and an Undo for the last fix.

    Attributes
    ----------
    label
        The hint lines, each starting "Hint: " (hidden when there are none).
    flip_button
        The button of the fix that removes label-changing flips.
    fix_buttons
        The buttons of the other fixes (a pool: only the first few are shown).
    undo_button
        Shown after a fix, until the next edit.

    class_colours
        Class -> mean colour of a few of its images (:meth:`measure`; empty until known).
    image_size
        The dataset's typical (height, width) (:meth:`measure`; None until known).

    Signals
    -------
    measured()
        :attr:`class_colours` and :attr:`image_size` are known for the dataset last given
        to :meth:`measure`.
    fix_requested(Fix)
        A fix button was clicked.
    undo_requested()
        The Undo button was clicked.
    """

    measured = Signal()
    fix_requested = Signal(object)
    undo_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.class_colours: dict[str, list[float]] = {}
        self.image_size: tuple[int, int] | None = None
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_measured)
        self.label = MessageLabel("")
        self.label.hide()
        # The one-click answer to a flip hint: digits and letters must not be mirrored.
        self.flip_button = QPushButton("Remove the flip", self)
        self.flip_button.setToolTip("Remove the flips the hint above warns about: a "
                                    "mirrored or upside-down image of these classes may "
                                    "show another class, or none.")
        self.flip_button.clicked.connect(lambda: self._on_clicked(self.flip_button))
        self.flip_button.hide()
        self.fix_buttons: list[QPushButton] = []
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.clicked.connect(self.undo_requested)
        self.undo_button.hide()
        self.fixes: list[Fix] = []
        self._undo_label: str | None = None
        self._fix_of: dict[int, Fix] = {}  # id(button) -> its fix
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._scroll = _HintScroll(self.label)
        self._scroll.hide()
        layout.addWidget(self._scroll)
        layout.addLayout(self._grid)

    def measure(self, index: Any) -> None:
        """Measure the dataset ``index`` off the GUI thread: a few images per class tell
        whether the classes differ mainly by colour (then colour jitter or grayscale may
        change the label), a few headers the images' size (for the crop hints)."""
        self.class_colours, self.image_size = {}, None
        if index is None or not getattr(index, "samples", None):
            self._runner.cancel_all()
            return
        from workbench.core.data.augment.hints import class_mean_colours
        from workbench.core.data.augment.pipeline_hints import typical_image_size

        self._runner.submit(lambda state: (
            class_mean_colours(index, is_cancelled=state.is_cancelled),
            typical_image_size(index, is_cancelled=state.is_cancelled)))

    @Slot(int, object)
    def _on_measured(self, _job: int, found: tuple) -> None:
        colours, self.image_size = found
        self.class_colours = dict(colours)
        self.measured.emit()

    def shutdown(self) -> None:
        """Cancel the measuring (the window is closing)."""
        self._runner.cancel_all()

    def show_hints(self, hints: Sequence[Hint]) -> None:
        """Show ``hints`` and a button for each of their (merged) fixes."""
        self.label.show_message("\n".join(f"Hint: {h.text}" for h in hints),
                                "warning" if hints else "info")
        self.label.setVisible(bool(hints))
        self._scroll.setVisible(bool(hints))
        self._scroll.updateGeometry()
        self.fixes = offered_fixes(hints)
        flips = next((f for f in self.fixes if f.key == FLIPS), None)
        others = [f for f in self.fixes if f is not flips]
        while len(self.fix_buttons) < len(others):
            button = QPushButton(self)
            button.clicked.connect(lambda _=False, b=button: self._on_clicked(b))
            self.fix_buttons.append(button)
        self._fix_of.clear()
        shown: list[QPushButton] = []
        if flips is not None:
            self.flip_button.setText(flips.label)
            self._fix_of[id(self.flip_button)] = flips
            shown.append(self.flip_button)
        for button, fix in zip(self.fix_buttons, others):
            button.setText(fix.label)
            button.setToolTip(f"{fix.describe()} Undo puts it back.")
            self._fix_of[id(button)] = fix
            shown.append(button)
        self._lay_out(shown)

    def set_undo(self, label: str | None) -> None:
        """Offer to undo the fix ``label`` (None: nothing to undo)."""
        self._undo_label = label or None
        if label:
            self.undo_button.setText(f"Undo “{label}”")
            self.undo_button.setToolTip("Put the transforms back as they were before the "
                                        "fix.")
        self._lay_out([b for b in [self.flip_button, *self.fix_buttons]
                       if id(b) in self._fix_of])

    def _lay_out(self, shown: list[QPushButton]) -> None:
        for b in [self.flip_button, *self.fix_buttons, self.undo_button]:
            self._grid.removeWidget(b)
            b.setVisible(False)
        for n, b in enumerate(shown):
            self._grid.addWidget(b, n // COLUMNS, n % COLUMNS)
            b.setVisible(True)
        if self._undo_label is not None:
            n = len(shown)
            self._grid.addWidget(self.undo_button, n // COLUMNS, n % COLUMNS)
            self.undo_button.setVisible(True)

    def _on_clicked(self, button: QPushButton) -> None:
        fix = self._fix_of.get(id(button))
        if fix is not None:
            self.fix_requested.emit(fix)
