"""Tabs built when first needed: the main window paints its first frame with only the tab
it shows, and builds the others after it (:func:`~workbench.qt.startup.after_first_paint`),
or as soon as one is opened or asked for.

A page starts as an empty placeholder with the tab's title; :meth:`LazyTabs.page` builds it
(its factory imports the panel's module then), puts it in the placeholder's place, and
emits :attr:`LazyTabs.page_built`, where the window connects it to the rest. ``page`` is how
the window reaches a panel, so code that needs a tab gets it built, whenever that is.

Ctrl+1 to Ctrl+9 show the first nine tabs (named in the tabs' tooltips).

On a screen too small for the window's minimum size, :meth:`LazyTabs.scroll_pages` puts
each page in a scroll area (:func:`workbench.qt.screen_fit.fit_pages` decides); the tabs'
callers still see the pages themselves.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget

from workbench.qt.keyboard import key_text

_SCROLL_NAME = "page_scroll"


class LazyTabs(QTabWidget):
    """A :class:`QTabWidget` of named pages, each made by its factory when first needed.

    Signals
    -------
    page_built(name, page)
        ``page`` was just built and is in its tab.
    """

    page_built = Signal(str, object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._names: list[str] = []
        self._factories: dict[str, Callable[[], QWidget]] = {}
        self._pages: dict[str, QWidget] = {}
        self._active = False
        self._scroll = False
        self.currentChanged.connect(self._on_current_changed)

    def add_page(self, name: str, title: str, factory: Callable[[], QWidget]) -> None:
        """A tab called ``title``, built by ``factory()`` when first needed."""
        self._names.append(name)
        self._factories[name] = factory
        i = self.addTab(QWidget(), title)
        if i < 9:  # Ctrl+1 shows the first tab, Ctrl+2 the second...
            key = QKeySequence(f"Ctrl+{i + 1}")
            shortcut = QShortcut(key, self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda i=i: self.setCurrentIndex(i))
            self.setTabToolTip(i, f"{title.replace('&', '')} ({key_text(key)})")

    def activate(self) -> None:
        """Build the tab shown now; from here on, a tab is built when it is opened."""
        self._active = True
        self._on_current_changed(self.currentIndex())

    def page(self, name: str) -> QWidget:
        """The page ``name``, built now if it was not yet."""
        page = self._pages.get(name)
        return page if page is not None else self._build(name)

    def names(self) -> list[str]:
        """The pages' names, in tab order."""
        return list(self._names)

    def built_page(self, name: str) -> QWidget | None:
        """The page ``name`` if it has been built, else None (nothing is built)."""
        return self._pages.get(name)

    def scroll_pages(self, scroll: bool = True) -> None:
        """Put every page, and each one built from now on, in a scroll area that scrolls it
        where its tab is smaller than it (``scroll``), or take them out of it again.
        :meth:`widget`, :meth:`currentWidget`, :meth:`indexOf` and :meth:`setCurrentWidget`
        still give and take the pages themselves."""
        if scroll == self._scroll:
            return
        self._scroll = scroll
        focus = self.window().focusWidget()
        for i, name in enumerate(self._names):
            if name in self._pages:
                self._put(i, self._pages[name])
        if focus is not None and focus.isVisible():
            focus.setFocus()  # moving a widget to another parent takes its focus

    def scrolls_pages(self) -> bool:
        """Whether the pages are in scroll areas (:meth:`scroll_pages`)."""
        return self._scroll

    def widget(self, index: int) -> QWidget | None:
        """The page of tab ``index`` (not the scroll area it may be in)."""
        return _page_in(super().widget(index))

    def currentWidget(self) -> QWidget | None:  # noqa: N802  (Qt's name)
        """The page shown (not the scroll area it may be in)."""
        return _page_in(super().currentWidget())

    def indexOf(self, page: QWidget) -> int:  # noqa: N802
        """The tab of ``page`` (in a scroll area or not); -1 if none."""
        return super().indexOf(_holder_of(page))

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        """Show the tab of ``page`` (in a scroll area or not)."""
        super().setCurrentWidget(_holder_of(page))

    def _build(self, name: str) -> QWidget:
        page = self._factories[name]()
        self._pages[name] = page
        self._put(self._names.index(name), page)
        self.page_built.emit(name, page)
        return page

    def _put(self, i: int, page: QWidget) -> None:
        """Make ``page`` tab ``i``'s, in a scroll area while the pages scroll; its title,
        tooltip and the current tab kept. What it held goes (a placeholder, a scroll area
        ``page`` is taken out of)."""
        held, title, current = super().widget(i), self.tabText(i), self.currentIndex()
        tip = self.tabToolTip(i)
        blocked = self.blockSignals(True)  # the same tab stays current: no change to report
        try:
            self.removeTab(i)
            if held is not page and _page_in(held) is page:
                held.takeWidget()
            self.insertTab(i, _scrolled(page) if self._scroll else page, title)
            self.setTabToolTip(i, tip)
            self.setCurrentIndex(current)
        finally:
            self.blockSignals(blocked)
        if held is not page:
            held.deleteLater()

    def _on_current_changed(self, index: int) -> None:
        if self._active and 0 <= index < len(self._names):
            self.page(self._names[index])


def _scrolled(page: QWidget) -> QScrollArea:
    """A frameless scroll area holding ``page``; never a Tab stop of its own."""
    area = QScrollArea()
    area.setObjectName(_SCROLL_NAME)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    area.setWidget(page)
    page.setVisible(True)  # shown with the area (the tabs hid it if it was not current)
    return area


def _page_in(widget: QWidget | None) -> QWidget | None:
    """The page in ``widget`` where it is a page's scroll area, else ``widget``."""
    if isinstance(widget, QScrollArea) and widget.objectName() == _SCROLL_NAME:
        return widget.widget()
    return widget


def _holder_of(page: QWidget) -> QWidget:
    """The scroll area ``page`` is in, if any, else ``page``."""
    viewport = page.parentWidget() if page is not None else None
    area = viewport.parentWidget() if viewport is not None else None
    return area if isinstance(area, QScrollArea) and area.widget() is page else page


def page_factory(module: str, cls: str, **kwargs: Any) -> Callable[[], QWidget]:
    """A factory for :meth:`LazyTabs.add_page`: ``module.cls(**kwargs)``, the module being
    imported only when the page is built."""
    def make() -> QWidget:
        return getattr(importlib.import_module(module), cls)(**kwargs)
    return make


class Page:
    """A page as an attribute of the widget holding the tabs as ``self.tabs``: the
    attribute ``train_panel`` is the page named ``train``, built when first read
    (:meth:`LazyTabs.page`)."""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = attribute.removesuffix("_panel")

    def __get__(self, holder: Any, owner: type | None = None) -> Any:
        return self if holder is None else holder.tabs.page(self.name)
