"""Small pieces shared by the panels: message lines, message boxes, file URLs, launching."""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QEvent, QRect, QSize, QTimer, Qt, QUrl
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QTextLayout, QTextOption, QValidator
from PySide6.QtGui import Qt as GuiQt  # carries Qt::mightBeRichText
from PySide6.QtWidgets import (QApplication, QDoubleSpinBox, QLabel, QMessageBox, QProgressBar,
                               QSizePolicy, QStatusBar, QWidget)

from workbench.qt.colours import text_look


class ElidedStatusBar(QStatusBar):
    """A status bar whose message ends in "…" where it is too long for the bar (QStatusBar
    cuts it mid-word), elided anew when the bar is resized; the whole message is the
    tooltip and what :meth:`currentMessage` returns."""

    _full, _until = "", None

    def showMessage(self, message: str, timeout: int = 0) -> None:  # noqa: N802
        self._full = str(message)
        self._until = time.monotonic() + timeout / 1000 if timeout else None
        self._show()

    def currentMessage(self) -> str:  # noqa: N802
        return self._full if super().currentMessage() else ""

    def resizeEvent(self, event: object) -> None:  # noqa: N802
        super().resizeEvent(event)
        if super().currentMessage():
            self._show()

    def _show(self) -> None:
        left = 0 if self._until is None else max(1, int((self._until - time.monotonic()) * 1000))
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                              max(40, self.width() - 30))
        self.setToolTip(self._full if shown != self._full else "")
        super().showMessage(shown, left)


class MessageLabel(QLabel):
    """A word-wrapped status line whose colour says how it went (info/ok/warning/error),
    readable on the window's palette, light or dark (:func:`~workbench.qt.colours.
    level_colour`), and chosen again when the palette changes. Plain text: a class or
    folder named like a tag ("<i>one<") is shown as it is, not read as HTML."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.level = "info"
        self._look = ("", "info")  # the colour and level shown
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def show_message(self, text: str, level: str = "info") -> None:
        self.level = level
        self._colour()
        self.setText(text)

    def _colour(self) -> None:
        palette, font = text_look(self, self.level)
        look = (palette.color(QPalette.ColorRole.WindowText).name(), self.level)
        if look != self._look:  # its own palette change comes back here
            self._look = look
            self.setPalette(palette)
            self.setFont(font)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ParentChange):
            self._colour()


class BoundedMessageLabel(MessageLabel):
    """A message line that asks for at most ``max_lines`` lines and insists on one.

    A word-wrapped QLabel's height for its width is a minimum its layout must keep, so a
    long message (a training error with its advice, a few notes) made the window taller
    than the screen. This label's size hint is the lines its text needs, up to
    ``max_lines``, and its minimum is one line (none while empty): the layout shows as
    much as it has room for. A text cut short ends in "…" and the whole of it is the
    tooltip; Select all and Copy (the context menu) still take the whole text.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, max_lines: int = 3):
        self.max_lines = max(1, max_lines)
        self._tooltip = ""  # the caller's own tooltip, shown while the text fits
        self._shown_width = -1
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    # -- size --------------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:  # noqa: N802  (Qt override)
        return False  # else a layout keeps the height of every wrapped line as a minimum

    def _wrap_width(self) -> int:
        """The width the text wraps at: the label's own once laid out."""
        if self.testAttribute(Qt.WidgetAttribute.WA_Resized) or self.isVisible():
            return max(1, self.width())
        return max(1, super().sizeHint().width())

    def _line_height(self) -> int:
        return self.fontMetrics().lineSpacing()

    def _height(self, lines: int) -> int:
        if not self.text():
            return 0
        margins = self.contentsMargins()
        extra = margins.top() + margins.bottom() + 2 * self.margin()
        full = QLabel.heightForWidth(self, self._wrap_width())
        return min(full, lines * self._line_height() + extra)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().sizeHint().width(), self._height(self.max_lines))

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().minimumSizeHint().width(), self._height(1))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if self.width() != self._shown_width:  # the lines the text needs changed
            self._shown_width = self.width()
            self.updateGeometry()
        self._update_tooltip()

    # -- text and tooltip --------------------------------------------------------------
    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        self._update_tooltip()

    def setToolTip(self, text: str) -> None:  # noqa: N802  (Qt override)
        self._tooltip = text
        self._update_tooltip()

    def is_cut(self) -> bool:
        """Whether the text needs more lines than the label shows."""
        if not self.text() or self.width() <= 1:
            return False
        return QLabel.heightForWidth(self, self.width()) > self.height()

    def _update_tooltip(self) -> None:
        QLabel.setToolTip(self, self.text() if self.is_cut() else self._tooltip)

    def _rich(self) -> bool:
        fmt = self.textFormat()
        return fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText
                                                 and GuiQt.mightBeRichText(self.text()))

    def visible_lines(self) -> list[str]:
        """The lines painted: as many as fit, the last elided with "…" when cut."""
        rect = self.contentsRect().adjusted(self.margin(), self.margin(), -self.margin(),
                                            -self.margin())
        metrics = QFontMetrics(self.font())
        room = max(1, rect.height() // max(1, metrics.lineSpacing()))
        text = self.text()
        # A line separator breaks a QTextLayout line as "\n" breaks a label's.
        layout = QTextLayout(text.replace("\n", "\u2028"), self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        spans: list[tuple[int, int]] = []
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(rect.width())
            spans.append((line.textStart(), line.textLength()))
        layout.endLayout()
        lines = [text[a:a + n].rstrip("\n") for a, n in spans[:room]]
        if len(spans) > room and lines:
            rest = " ".join(text[spans[room - 1][0]:].split())
            lines[-1] = metrics.elidedText(rest + " …", Qt.TextElideMode.ElideRight,
                                           rect.width())
        return lines

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        if not self.is_cut() or self._rich():
            super().paintEvent(event)
            return
        rect = self.contentsRect().adjusted(self.margin(), self.margin(), -self.margin(),
                                            -self.margin())
        metrics = QFontMetrics(self.font())
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(self.foregroundRole()))
        top = rect.top()
        for line in self.visible_lines():
            painter.drawText(QRect(rect.left(), top, rect.width(), metrics.height()),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             line)
            top += metrics.lineSpacing()
        painter.end()


def show_error(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """Show an error without blocking: the event loop (and any worker) keeps running."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                      parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def stop_busy(bar: QProgressBar) -> None:
    """End a progress bar's "busy" animation (range 0..0) before the window goes away: a
    style animation still running at exit makes Qt warn about a malformed program."""
    if bar.maximum() == 0:
        bar.setRange(0, 1)
        bar.setValue(0)


def local_paths(urls: Iterable[QUrl]) -> list[str]:
    """The local file paths among dropped URLs (remote URLs are ignored)."""
    return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile()]


class UrlDropTarget:
    """Mixin for a QWidget that accepts dropped local files or folders.

    The widget defines ``handle_drop(urls) -> bool`` (True when it used the drop); the
    three Qt drag-and-drop overrides are shared here. List it before the Qt base class.
    """

    def dragEnterEvent(self, event) -> None:  # noqa: N802  (Qt override)
        if event.mimeData().hasUrls() and local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        if self.handle_drop(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()


def image_files(paths: Iterable[str]) -> list[str]:
    """Expand folders into their image files (sorted, recursive); keep files as given.

    Files are kept whatever their extension, so a wrong file dropped by mistake is reported
    in its row instead of silently ignored.
    """
    from workbench.core.data.images import images_in_folder

    out: list[str] = []
    for p in paths:
        out.extend(images_in_folder(p) if os.path.isdir(p) else [p])
    return out


def image_file_filter() -> str:
    """The file dialogs' filter for opening images: every type a dataset scan picks up
    (:data:`~workbench.core.data.images.ACCEPTED_EXTENSIONS`), and HEIC, HEIF and AVIF
    photos this Pillow cannot read, so that their message says what to do; then all files."""
    from workbench.core.data.images import ACCEPTED_EXTENSIONS, PHOTO_FORMATS

    pattern = " ".join(f"*{e}" for e in dict.fromkeys((*ACCEPTED_EXTENSIONS, *PHOTO_FORMATS)))
    return f"Images ({pattern});;All files (*)"


def short_path(path: str, root: str | None = None) -> str:
    """``path`` relative to ``root`` when inside it, else the path itself."""
    if root:
        try:
            return str(Path(path).relative_to(root))
        except ValueError:
            pass
    return path


def quit_on_sigint(app: QApplication) -> QTimer:
    """Let Ctrl+C in the terminal, and SIGTERM (a desktop session logging out, ``kill``,
    systemd), close the windows as the user would: a training run stops after its batch and
    keeps its finished epochs, and the session is saved.

    Python runs signal handlers only when it gets control back, which a pure Qt event loop
    never gives it; a do-nothing timer does, four times a second.
    """
    def close_all(*_: object) -> None:
        from workbench.qt.closing import QUIT_WITHOUT_ASKING

        app.setProperty(QUIT_WITHOUT_ASKING, True)  # a signal is not answered (qt.closing)
        app.closeAllWindows()
        app.quit()

    signal.signal(signal.SIGINT, close_all)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, close_all)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def run_standalone(make_widget: Callable[[], QWidget], title: str) -> int:
    """Show one panel in its own window (``python -m workbench.qt.panels.<name>``)."""
    app = QApplication.instance() or QApplication(sys.argv)
    from workbench.qt.screen_fit import fit_to_screen
    from workbench.qt.workers import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()  # Qt objects must die on the GUI thread
    widget = make_widget()
    widget.setWindowTitle(f"Workbench: {title}")
    fit_to_screen(widget, 1000, 700, scroll=False)
    widget.show()
    quit_on_sigint(app)
    rc = app.exec()
    shutdown = getattr(widget, "shutdown", None)
    if shutdown is not None:
        shutdown()
    from workbench.qt.workers import await_workers

    await_workers()
    dispose(widget)
    return rc


def dispose(widget: QWidget) -> None:
    """Delete a top-level widget now, while the QApplication still exists.

    Left to Python's exit-time clean-up, a focused line edit can outlive the application's
    input context, and Qt then warns that the program is malformed.
    """
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


class LogSpinBox(QDoubleSpinBox):
    """A spin box for values spanning orders of magnitude (learning rates).

    Shows ``1e-03``-style text and steps along 1, 2, 5, 10, 20, 50...
    """

    _LADDER = (1.0, 2.0, 5.0)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(1e-8, 10.0)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802  (Qt override)
        return f"{value:.3g}"

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        # Qt sizes a spin box from the texts of its bounds ("1e-08", "1e+06"), narrower
        # than values such as "0.0005" that it shows: leave room for the longest one.
        hint = super().sizeHint()
        text = self.fontMetrics().horizontalAdvance("0.000555") + 8
        return QSize(max(hint.width(), text + hint.height() + 8), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.sizeHint()

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:  # noqa: D401
        return validate_number(self, text, pos)

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = max(self.value(), self.minimum())
        exp = math.floor(math.log10(value))
        mant = value / 10 ** exp
        # Position on the ladder (rounding towards the nearest rung first).
        rung = min(range(len(self._LADDER)), key=lambda i: abs(self._LADDER[i] - mant))
        pos = exp * len(self._LADDER) + rung + steps
        e, r = divmod(pos, len(self._LADDER))
        self.setValue(float(f"{self._LADDER[r] * 10 ** e:.3g}"))


def validate_number(box: QDoubleSpinBox, text: str, pos: int) -> tuple:
    """A spin box's ``validate`` for numbers typed freely ("1e-6"): acceptable within its
    bounds, intermediate while it may still become a number or is out of bounds."""
    try:
        value = float(text)
    except ValueError:
        ok = text == "" or all(c in "0123456789.eE+-" for c in text)
        return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
    ok = box.minimum() <= value <= box.maximum()
    return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


def float_text(value: float) -> str:
    """A number as a person writes it: ``"0.5"``, ``"180"``, ``"1.3333"``, ``"0.001234"``,
    ``"1e-06"``: up to 4 decimals from 1 up, 4 significant digits below 1, never a
    fixed-decimals ``"0.0000"`` for a small value that is not 0."""
    value = float(value)
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


class FloatSpinBox(QDoubleSpinBox):
    """A spin box for plain numbers (no log steps) that shows small values as entered.

    A QDoubleSpinBox rounds what it shows and holds to its decimals: with 4, a std of
    1e-06 shows as "0.0000" (and reads back as 0). This one keeps 12 decimals and shows
    :func:`float_text` ("0.5", "1e-06"); typing "1e-6" is accepted.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802  (Qt override)
        return float_text(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802  (Qt override)
        if text == self.textFromValue(self.value()):
            return self.value()  # Enter on the shown "1.3333" keeps 4/3
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:  # noqa: D401  (Qt override)
        return validate_number(self, text, pos)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        # Qt sizes a spin box from the texts of its bounds ("0" and "1" for a share), too
        # narrow for the values between ("0.1235"): leave room for those.
        hint = super().sizeHint()
        text = self.fontMetrics().horizontalAdvance("-0.00000") + 8
        return QSize(max(hint.width(), text + hint.height() + 8), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return self.sizeHint()
