"""Dialogs sized to the screen they open on.

A dialog sized for a large monitor (``resize(900, 640)``) is taller than a 1366x768 laptop at
125% scaling (1093x614 logical pixels, less a taskbar): its buttons end up below the edge of
the screen. :func:`fit_to_screen` gives a dialog the size it asks for, shrunk to its screen as
:func:`initial_geometry` shrinks the first window, but not below its
layout's minimum where that fits, and centres it; where even the minimum does not fit (a large
font, a long path), everything above its buttons scrolls, so the buttons stay reachable.
:func:`grow_to_contents` makes a fitted dialog taller, within the same limits, when what it
shows grows.

The main window's tabs scroll their pages the same way (:func:`fit_pages`) where its screen
has no room for its minimum size (225% on a 1920x1080 laptop: 853x480 logical pixels).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QBoxLayout, QMainWindow, QScrollArea, QStyle, QVBoxLayout, QWidget

from workbench.qt.lazy_tabs import LazyTabs

#: The first window's size where the screen has room for it.
DEFAULT_SIZE = (1100, 780)


def initial_geometry(available: QRect, size: tuple[int, int] = DEFAULT_SIZE) -> QRect:
    """The first window's geometry: ``size``, shrunk to fit ``available`` (a screen's
    available geometry: 95% of its width, 92% of its height, leaving room for the title
    bar), centred in it."""
    width = min(size[0], int(available.width() * 0.95))
    height = min(size[1], int(available.height() * 0.92))
    rect = QRect(0, 0, max(width, 1), max(height, 1))
    rect.moveCenter(available.center())
    return rect


_SCROLL_NAME = "contents_scroll"


def fit_to_screen(dialog: QWidget, width: int, height: int, scroll: bool = True) -> None:
    """Size ``dialog`` (its layout built) to ``width`` x ``height``, at most 95% of the width
    and 92% of the height its parent's screen has available, but not less than its layout's
    minimum where the screen has room for that; centre it on that screen.

    Where the minimum is larger than the screen, now or once content arrives (a model's
    explanation, a long path), everything in the dialog's box layout but its last row (its
    buttons) moves into a scroll area (unless ``scroll`` is False: a panel shown alone), so
    that the buttons stay on the screen.
    """
    screen = _screen(dialog)
    if screen is None:
        dialog.resize(width, height)
        return
    available = screen.availableGeometry()
    frame = _frame_size(dialog)
    room = _room(available, frame)
    least = dialog.minimumSizeHint()
    size = initial_geometry(available, (width, height)).size().expandedTo(least)
    if scroll:
        size += _scroll_if_too_big(dialog, least, room)
        if dialog.findChild(_ScrollWhenTooBig) is None:
            dialog.installEventFilter(_ScrollWhenTooBig(dialog))
    rect = QRect(available.topLeft(), size.boundedTo(room) + frame)
    rect.moveCenter(available.center())
    _place(dialog, rect, frame, available)


def grow_to_contents(dialog: QWidget) -> None:
    """Make a fitted ``dialog`` as tall as its contents now need at its width (a form that
    grew: a longer explanation, more fields), within the limits :func:`fit_to_screen` sets
    (beyond them its contents scroll); its top stays where it is unless the dialog would
    stick out of its screen. It never shrinks: a size the user gave it stays."""
    layout, screen = dialog.layout(), _screen(dialog)
    if layout is None or screen is None:
        return
    # A label's new text reaches the dialog's layout one widget up at a time, through
    # posted layout requests: all of them first, or its old height is measured.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)
    layout.activate()
    width = dialog.width()
    need = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else \
        layout.totalSizeHint().height()
    if need <= dialog.height():
        return
    available, frame = screen.availableGeometry(), _frame_size(dialog)
    size = initial_geometry(available, (width, need)).size().expandedTo(
        dialog.minimumSizeHint()).boundedTo(_room(available, frame))
    _place(dialog, QRect(dialog.pos(), QSize(width, size.height()) + frame), frame,
           available)


class _ScrollWhenTooBig(QObject):
    """Scrolls a fitted dialog's contents once its minimum outgrows its screen (Qt would
    make the window that large, its buttons off the screen)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show) \
                and isinstance(watched, QWidget) and contents_scroll(watched) is None:
            dialog, screen = watched, _screen(watched)
            if screen is not None:
                available, frame = screen.availableGeometry(), _frame_size(dialog)
                room = _room(available, frame)
                extra = _scroll_if_too_big(dialog, dialog.minimumSizeHint(), room)
                if not extra.isNull():
                    size = (dialog.size() + extra).boundedTo(room)
                    _place(dialog, QRect(dialog.pos(), size + frame), frame, available)
        return False


def fit_pages(window: QMainWindow, available: QRect) -> QSize:
    """Scroll the pages of ``window``'s tabs (its central :class:`LazyTabs`) where
    ``available`` (a screen's available geometry) has no room for the window's minimum size
    with its pages whole, and not where it has room; the window's minimum size now.

    From then on, a page built later or a screen that turns out smaller (as the window is
    shown) scrolls the pages too, and the window shrinks to its screen."""
    tabs = window.centralWidget()
    if not isinstance(tabs, LazyTabs):
        return window.minimumSizeHint()
    if window.findChild(_PagesScrollWhenTooBig) is None:
        window.installEventFilter(_PagesScrollWhenTooBig(window))
    tabs.scroll_pages(False)
    least = _window_least(window)
    if not _fits(least, _room(available, _frame_size(window))):
        tabs.scroll_pages(True)
        least = _window_least(window)
    return least


class _PagesScrollWhenTooBig(QObject):
    """Scrolls a main window's pages once its minimum outgrows its screen (a page built
    after the first frame; the first show): Qt would make the window that large, its right
    and bottom off the screen."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # (Only once shown: its layout is then up to date as this hears the event.)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show) \
                and isinstance(watched, QMainWindow) and watched.isVisible():
            window, tabs, screen = watched, watched.centralWidget(), _screen(watched)
            if isinstance(tabs, LazyTabs) and not tabs.scrolls_pages() and screen is not None:
                available, frame = screen.availableGeometry(), _frame_size(window)
                least = window.minimumSizeHint()
                if not _fits(least, _room(available, frame)):
                    tabs.scroll_pages(True)
                    _window_least(window)  # its minimum now: the window may be smaller
                    # Qt grew it to that minimum: back to the screen's size (not a size
                    # given to it, which its pages now fill as before).
                    size, fitted = window.size(), initial_geometry(
                        available, (window.width(), window.height())).size()
                    if size.width() == least.width():
                        size.setWidth(fitted.width())
                    if size.height() == least.height():
                        size.setHeight(fitted.height())
                    if size != window.size():
                        _place(window, QRect(window.pos(), size + frame), frame, available)
        return False


def _window_least(window: QMainWindow) -> QSize:
    """``window``'s minimum size, made its own at once, and up to date also before it is
    first shown (its layout then still has its tabs' size from before their pages were
    built)."""
    window.centralWidget().updateGeometry()
    layout = window.layout()
    if layout is not None:
        layout.invalidate()
        layout.activate()
    return window.minimumSizeHint()


def _fits(size: QSize, room: QSize) -> bool:
    return size.width() <= room.width() and size.height() <= room.height()


def _place(dialog: QWidget, rect: QRect, frame: QSize, available: QRect) -> None:
    """Give ``dialog`` the window ``rect`` (its size and its ``frame``), moved into
    ``available`` where it sticks out."""
    rect.moveRight(min(rect.right(), available.right()))
    rect.moveBottom(min(rect.bottom(), available.bottom()))
    rect.moveLeft(max(rect.left(), available.left()))
    rect.moveTop(max(rect.top(), available.top()))
    dialog.resize(rect.size() - frame)
    dialog.move(rect.topLeft())


def _screen(dialog: QWidget) -> QScreen | None:
    """The screen of ``dialog``'s parent window (its own without one)."""
    owner = dialog.parentWidget()
    return (owner.window() if owner is not None else dialog).screen() \
        or QGuiApplication.primaryScreen()


def _room(available: QRect, frame: QSize) -> QSize:
    """The largest dialog that fits ``available`` with its window ``frame``."""
    return QSize(max(1, available.width() - frame.width()),
                 max(1, available.height() - frame.height()))


def _scroll_if_too_big(dialog: QWidget, least: QSize, room: QSize) -> QSize:
    """Scroll ``dialog``'s contents where its minimum ``least`` does not fit ``room``; the
    size to add for the scroll bar across the way (none where nothing scrolls), so that a
    bar one way needs none the other."""
    taller, wider = least.height() > room.height(), least.width() > room.width()
    if not (taller or wider) or not scroll_contents(dialog):
        return QSize(0, 0)
    bar = dialog.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, dialog)
    return QSize(bar if taller else 0, bar if wider else 0)


def _frame_size(dialog: QWidget) -> QSize:
    """What the window frame adds to ``dialog``'s size: measured once it is shown, else a
    title bar's height."""
    if dialog.isVisible():
        extra = dialog.frameGeometry().size() - dialog.geometry().size()
        if extra.height() > 0:
            return extra
    title = dialog.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight, None, dialog)
    return QSize(8, max(title, 2 * dialog.fontMetrics().height()) + 8)


def scroll_contents(dialog: QWidget) -> bool:
    """Move everything in ``dialog``'s box layout but its last item (the row of buttons)
    into a frameless scroll area; False (and nothing changed) where the layout is not a box
    layout of two items or more, or is already scrolled."""
    layout = dialog.layout()
    if not isinstance(layout, QBoxLayout) or layout.count() < 2 \
            or contents_scroll(dialog) is not None:
        return False
    margins, spacing, focus = layout.contentsMargins(), layout.spacing(), dialog.focusWidget()
    buttons = layout.takeAt(layout.count() - 1)
    buttons_layout, buttons_widget = buttons.layout(), buttons.widget()
    body = QWidget()
    body.setLayout(layout)  # Qt takes the layout, and the widgets in it, off the dialog
    layout.setContentsMargins(0, 0, 0, 0)
    area = QScrollArea()
    area.setObjectName(_SCROLL_NAME)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(body)
    outer = QVBoxLayout(dialog)
    outer.setContentsMargins(margins)
    outer.setSpacing(spacing)
    outer.addWidget(area, 1)
    if buttons_layout is not None:
        outer.addLayout(buttons_layout)
    elif buttons_widget is not None:
        outer.addWidget(buttons_widget)
    else:
        outer.addItem(buttons)
    if focus is not None:
        focus.setFocus()  # moving a widget to another parent takes its focus
    outer.activate()  # the dialog's minimum size is now the new layout's, not the old one's
    return True


def contents_scroll(dialog: QWidget) -> QScrollArea | None:
    """The scroll area :func:`scroll_contents` put ``dialog``'s contents in; None if none."""
    return dialog.findChild(QScrollArea, _SCROLL_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
