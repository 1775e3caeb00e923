"""The Augment panel's hints and their one-click fixes.

:class:`HintsView` shows the hints of :func:`~workbench.core.data.augment.pipeline_hints.all_hints`
("Hint: RandomRotation rotates up to 180 degrees...") and one button per fix
(:func:`~workbench.core.data.augment.fixes.offered_fixes`: "Remove the flips", "Limit
rotation to 30°", "Set hue to 0", "Remove Normalize"...) below the first hint it answers,
in rows that scroll together (five hints on a 1366x768 laptop at 125%: each button in view
has its hint beside it), and after a fix an Undo button that puts the list back. It only
shows and asks: the panel makes the edits.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget

from workbench.core.data.augment.fixes import FLIPS, Fix, Hint, offered_fixes

from workbench.qt.common import MessageLabel
from workbench.qt.workers import TaskRunner

#: Lines of hints shown before they scroll (four hints at 100% on a 1366x768 laptop), and
#: the fewest kept on a short screen (more where one hint and its button need more).
MAX_LINES, MIN_LINES = 16, 3


class _HintRow(QWidget):
    """One hint's lines, its fix button (if it is the first hint with that fix) below."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = MessageLabel("")
        self.button: QPushButton | None = None
        self._line = QHBoxLayout()
        self._line.setContentsMargins(0, 0, 0, 0)
        self._line.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.label)
        layout.addLayout(self._line)

    def set_button(self, button: QPushButton | None) -> None:
        if button is not self.button:
            if self.button is not None:
                self._line.removeWidget(self.button)
            if button is not None:
                self._line.insertWidget(0, button)  # left, before the stretch
            self.button = button
        if button is not None:
            button.show()


class HintRows(QWidget):
    """The hints, one row each with its fix button, top to bottom; :meth:`text` is their
    lines, each starting "Hint: "."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[_HintRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)

    def text(self) -> str:
        return "\n".join(r.label.text() for r in self.rows if not r.isHidden())

    def show_hints(self, texts: Sequence[str], buttons: Sequence[QPushButton | None]) -> None:
        """Show hint ``texts[i]`` with ``buttons[i]`` below it (None: no button)."""
        while len(self.rows) < len(texts):
            self.rows.append(_HintRow(self))
            self._layout.insertWidget(len(self.rows) - 1, self.rows[-1])
        wanted = [buttons[n] if n < len(texts) else None for n in range(len(self.rows))]
        for row, button in zip(self.rows, wanted):  # out of its old row before the new
            if row.button is not button:
                row.set_button(None)
        for n, (row, button) in enumerate(zip(self.rows, wanted)):
            if n < len(texts):
                row.label.show_message(texts[n], "warning")
                row.set_button(button)
            row.setVisible(n < len(texts))

    def tallest_row(self, width: int) -> int:
        """The height of the tallest hint row with its button, at ``width``."""
        return max((r.heightForWidth(width) for r in self.rows if not r.isHidden()),
                   default=0)


class _HintScroll(QScrollArea):
    """The hint rows, as tall as they need up to :data:`MAX_LINES` lines, then scrolling
    (five hints at once no longer push the buttons off the column or get cut); never
    shorter than the tallest hint with its button: a hint scrolled to is whole, its
    button with it."""

    def __init__(self, rows: HintRows, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(rows)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)  # the panel's own background
        rows.setAutoFillBackground(False)
        # No Tab stop (it was an unnamed one, after the fix buttons): each button's
        # description is its hint (:meth:`HintsView.show_hints`).
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._width = -1

    def _room(self) -> int:
        return max(60, self.width() - self.verticalScrollBar().sizeHint().width())

    def _needed(self, lines: int) -> int:
        needed = self.widget().heightForWidth(self._room())
        if needed < 0:
            needed = self.widget().sizeHint().height()
        return min(needed, self.fontMetrics().lineSpacing() * lines) + 2

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().sizeHint().width(), self._needed(MAX_LINES))

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        tallest = min(self.widget().tallest_row(self._room()),
                      self.fontMetrics().lineSpacing() * MAX_LINES) + 2
        return QSize(0, max(self._needed(MIN_LINES), tallest))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if self.width() != self._width:  # the text wraps anew: so does the height it needs
            self._width = self.width()
            self.updateGeometry()


class HintsView(QWidget):
    """Hint lines, a button per fix and an Undo for the last fix.

    Attributes
    ----------
    rows
        The hints (:class:`HintRows`: ``text()`` is their lines, each starting "Hint: ";
        hidden when there are none), each fix's button below the first hint it answers.
    flip_button
        The button of the fix that removes label-changing flips.
    fix_buttons
        The buttons of the other fixes (a pool: only those with a hint are shown).
    undo_button
        Shown after a fix (below the hints), until the next edit.

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
        self.rows = HintRows()
        self.rows.hide()
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
        self._fix_of: dict[int, Fix] = {}  # id(button) -> its fix
        undo_line = QHBoxLayout()
        undo_line.addWidget(self.undo_button)
        undo_line.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._scroll = _HintScroll(self.rows)
        self._scroll.hide()
        layout.addWidget(self._scroll)
        layout.addLayout(undo_line)

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
        """Show ``hints``, each (merged) fix's button below the first hint it answers."""
        self.fixes = offered_fixes(hints)  # one per key, in order of the key's first hint
        keys = list(dict.fromkeys(h.fix.key or h.fix.label for h in hints if h.fix))
        others = [f for f in self.fixes if f.key != FLIPS]
        while len(self.fix_buttons) < len(others):
            button = QPushButton(self)
            button.clicked.connect(lambda _=False, b=button: self._on_clicked(b))
            self.fix_buttons.append(button)
        self._fix_of.clear()
        button_of: dict[str, QPushButton] = {}  # a fix's key -> its button
        pool = iter(self.fix_buttons)
        for key, fix in zip(keys, self.fixes):
            button = self.flip_button if fix.key == FLIPS else next(pool)
            button.setText(fix.label)
            if button is not self.flip_button:
                button.setToolTip(f"{fix.describe()} Undo puts it back.")
            self._fix_of[id(button)] = fix
            button_of[key] = button
        for button in [self.flip_button, *self.fix_buttons]:
            if id(button) not in self._fix_of:
                button.hide()
        below = [button_of.pop(h.fix.key or h.fix.label, None) if h.fix else None
                 for h in hints]  # each button below the first hint it answers
        texts = [f"Hint: {h.text}" for h in hints]
        for text, button in zip(texts, below):
            if button is not None:  # what a screen reader says of the button: its hint
                button.setAccessibleDescription(text)
        self.rows.show_hints(texts, below)
        self.rows.setVisible(bool(hints))
        self._scroll.setVisible(bool(hints))
        self._scroll.updateGeometry()

    def set_undo(self, label: str | None) -> None:
        """Offer to undo the fix ``label`` (None: nothing to undo)."""
        if label:
            self.undo_button.setText(f"Undo “{label}”")
            self.undo_button.setToolTip("Put the transforms back as they were before the "
                                        "fix.")
        self.undo_button.setVisible(bool(label))

    def _on_clicked(self, button: QPushButton) -> None:
        fix = self._fix_of.get(id(button))
        if fix is not None:
            self.fix_requested.emit(fix)
