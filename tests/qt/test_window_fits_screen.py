"""The main window on a screen smaller than its tabs' minimum (1920x1080 at 225%: 853x480
logical pixels) fits the screen, its pages scrolling; at 1366x768 nothing changes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QTabWidget

from workbench.qt.main_window import MainWindow
from workbench.qt.session import size_to_screen

SMALL = QRect(0, 0, 853, 480)  # 1920x1080 with QT_SCALE_FACTOR=1.5 and QT_FONT_DPI=144


def _window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    for name in window.tabs.names():
        window.tabs.page(name)  # every page built, as after the first frame
    return window


def _tab_stops(window) -> list:
    """The window's Tab stops shown with it, in focus-chain order."""
    stops, widget = [], window.nextInFocusChain()
    while widget is not window:
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isEnabled() \
                and widget.isVisibleTo(window):
            stops.append(widget)
        widget = widget.nextInFocusChain()
    return stops


def test_a_screen_smaller_than_the_tabs_minimum_scrolls_the_pages(qtbot):
    window = _window(qtbot)
    size_to_screen(window, QRect(0, 0, 1366, 768))
    stops = _tab_stops(window)
    size_to_screen(window, SMALL)
    # The window fits the screen (room left for its title bar), not 962x550 off its edges.
    rect = window.geometry()
    assert SMALL.contains(rect) and rect.height() <= SMALL.height() - 30, rect
    assert window.minimumSizeHint().width() <= rect.width()
    assert window.minimumSizeHint().height() <= rect.height()
    # Every tab is still the page itself to whoever asks the tabs.
    tabs = window.tabs
    assert tabs.currentWidget() is window.data_panel
    assert [tabs.widget(i) for i in range(tabs.count())] == \
        [tabs.built_page(name) for name in tabs.names()]
    # No Tab stop more or less, none a scroll area, in the same order.
    assert _tab_stops(window) == stops
    assert QTabWidget.currentWidget(tabs).focusPolicy() == Qt.FocusPolicy.NoFocus
    tabs.setCurrentWidget(window.predict_panel)
    assert tabs.currentIndex() == tabs.indexOf(window.predict_panel) == 7
    # Shown, the page keeps its minimum and scrolls to every part of it.
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.minimumSize() == window.minimumSizeHint())  # laid out
    assert rect.size() == window.size()  # not grown to the pages' minimum (962x550)
    area, page = QTabWidget.currentWidget(tabs), window.predict_panel
    assert isinstance(area, QScrollArea) and area.widget() is page
    qtbot.waitUntil(lambda: page.width() >= page.minimumSizeHint().width())
    assert page.height() >= page.minimumSizeHint().height()
    assert area.viewport().width() + area.horizontalScrollBar().maximum() >= page.width()
    assert area.viewport().height() + area.verticalScrollBar().maximum() >= page.height()


def test_at_1366x768_the_window_and_its_pages_are_as_before(qtbot):
    window = _window(qtbot)
    size_to_screen(window, SMALL)
    size_to_screen(window, QRect(0, 0, 1366, 768))  # a screen with room: pages whole again
    assert (window.width(), window.height()) == (1100, 706)
    assert not window.tabs.scrolls_pages()
    tabs = window.tabs
    assert [QTabWidget.widget(tabs, i) for i in range(tabs.count())] == \
        [tabs.built_page(name) for name in tabs.names()]  # in no scroll area
    assert window.tabs.currentWidget() is window.data_panel
    assert [name for name in tabs.names() if tabs.built_page(name).isVisibleTo(window)] \
        == ["data"]  # the other tabs' pages not shown over it


def test_a_window_shown_on_a_screen_narrower_than_its_minimum_fits_it(qtbot):
    available = QApplication.primaryScreen().availableGeometry()
    if available.width() >= 1000:
        pytest.skip("the test screen has room for the window's minimum")
    window = MainWindow()  # sized before its pages are built: they make it wider
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.minimumSize() == window.minimumSizeHint())  # laid out
    assert available.contains(window.frameGeometry()), window.frameGeometry()
    assert window.tabs.scrolls_pages()
