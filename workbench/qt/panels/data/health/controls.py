"""The Health view's bars: :class:`CheckBar` (Check, Check labels, Cancel and the
progress of a running check) and :class:`StaleBar` (why the findings shown may be out of
date, with *Check again*) above the findings, and :class:`ActionBar` (the chosen image and
what can be done with it) below them; and the question asked before a file moves."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QElapsedTimer, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QMenu, QMessageBox,
                               QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, stop_busy


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Ask a yes/no question (the Health view's ``confirm``: tests replace it)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class CheckBar(QWidget):
    """The buttons that start and cancel a check, its progress, and the kind filter.

    Signals
    -------
    check_requested(labels)
        Check (``labels`` False) or Check labels (True) was pressed.
    cancel_requested()
    """

    check_requested = Signal(bool)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Find copies, conflicting labels, train/validation "
                                     "leaks and odd images (seconds)")
        self.check_button.clicked.connect(lambda: self.check_requested.emit(False))
        self.labels_button = QPushButton("Check labels")
        self.labels_button.setToolTip(
            "Also find likely mislabelled images: the experiment's network is trained 5 "
            "times (a few epochs each), each time predicting the fifth of the images it did "
            "not see, and confident learning ranks the images whose label it contradicts. "
            "Minutes on a large dataset; runs in the background.")
        self.labels_button.clicked.connect(lambda: self.check_requested.emit(True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.hide()
        self.kind_combo = QComboBox()
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._clock = QElapsedTimer()
        self._fold = (0, 0)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_fold)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.check_button, self.labels_button, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        show = QLabel("Show:")
        name_field(show, self.kind_combo, "Show findings")
        row.addWidget(show)
        row.addWidget(self.kind_combo)

    def start(self, labels: bool) -> None:
        """A check began (``labels``: with the label check, whose time is shown)."""
        self._fold = (0, 0)
        self.check_button.setEnabled(False)
        self.labels_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Reading images… %v / %m")
        self.progress.show()
        self._clock.start()
        if labels:
            self._tick.start()

    def end(self) -> None:
        """The check finished, failed or was cancelled."""
        self._tick.stop()
        stop_busy(self.progress)
        self.progress.hide()
        self.cancel_button.hide()
        self.check_button.setEnabled(True)
        self.labels_button.setEnabled(True)

    def show_progress(self, stage: str, done: int, total: int) -> None:
        """``stage`` "fingerprints" (images read) or "labels" (networks trained)."""
        if stage == "labels":
            self._fold = (done, total)
            self._show_fold()
        elif not self._fold[1]:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    @Slot()
    def _show_fold(self) -> None:
        done, total = self._fold
        if not total:
            return
        secs = self._clock.elapsed() // 1000
        spent = f"{secs // 60}:{secs % 60:02d}"
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(
            f"Checking labels: training network {done + 1} of {total} · {spent}"
            if done < total else f"Ranking the images with confident learning · {spent}")


class StaleBar(QWidget):
    """Why the findings shown may no longer hold (files moved, the split changed, the
    folder changed since a kept check), and *Check again*; hidden when they hold.

    Signals
    -------
    check_requested()
        *Check again* was pressed.
    """

    check_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = MessageLabel("")
        self.button = QPushButton("Check again")
        self.button.setToolTip("Run the fast checks again (seconds); the label check's "
                               "findings are kept for the images still filed as checked")
        self.button.clicked.connect(self.check_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""

    def show_stale(self, text: str, level: str = "warning") -> None:
        """Say ``text`` ("" hides the bar)."""
        self.label.show_message(text, level)
        self.setVisible(bool(text))


class ElidedLabel(QLabel):
    """One line that ends in "…" where it is too long for the room it has (the whole text
    is then its tooltip): a long path never widens the window. :meth:`text` is the whole
    text, :meth:`shown_text` what is drawn. ``mode``: where the "…" goes (a file's path: in
    the middle, keeping where it starts and the file's name). Plain text: a path with a
    tag-like name ("<b>Bold<") is shown as it is."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt's name)
        self._full = str(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def shown_text(self) -> str:
        return QLabel.text(self)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(min(self.fontMetrics().horizontalAdvance(self._full) + 4, 400),
                     super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        least = self.fontMetrics().horizontalAdvance("Chosen: …")
        return QSize(min(least, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, self._mode,
                                              width) if width > 0 else self._full
        self.setToolTip(self._full if shown != self._full else "")
        if shown != QLabel.text(self):
            QLabel.setText(self, shown)


class ActionBar(QWidget):
    """The chosen image, the buttons acting on it, and a line saying how the last action
    went (hidden when there is nothing to say)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.chosen_label = ElidedLabel("")  # a long path ends in "…", never widens
        self.chosen_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.exclude_button = QPushButton("Exclude from training")
        self.exclude_button.setToolTip("Leave the chosen image out of training, validation, "
                                       "evaluation and tuning (the experiment keeps the "
                                       "list; Include again brings it back)")
        self.move_button = QPushButton("Move to suggested class")
        self.move_tip = ("Move the file into the folder of the class the network suggests "
                         "(after asking; Undo move puts it back)")
        self.move_button.setToolTip(self.move_tip)
        self.undo_button = QPushButton("Undo move")
        self.undo_button.setToolTip("Put the last moved file back where it was")
        self.reveal_button = QPushButton("Reveal in file manager")
        self.status = MessageLabel("")
        self.status.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.chosen_label, 1)
        for b in self.buttons():
            row.addWidget(b)
        lay.addLayout(row)
        lay.addWidget(self.status)

    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.exclude_button, self.move_button, self.undo_button, self.reveal_button)

    def say(self, text: str, level: str = "info") -> None:
        self.status.show_message(text, level)
        self.status.setVisible(bool(text))

    def menu(self, parent: QWidget) -> QMenu:
        """The enabled actions on the chosen image, as a context menu."""
        menu = QMenu(parent)
        for button in (self.exclude_button, self.move_button, self.reveal_button):
            if button.isEnabled():
                menu.addAction(button.text(), button.click)
        return menu
