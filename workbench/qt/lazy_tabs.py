"""Tabs built when first needed: the main window paints its first frame with only the tab
it shows, and builds the others after it (:func:`~workbench.qt.startup.after_first_paint`),
or as soon as one is opened or asked for.

A page starts as an empty placeholder with the tab's title; :meth:`LazyTabs.page` builds it
(its factory imports the panel's module then), puts it in the placeholder's place, and
emits :attr:`LazyTabs.page_built`, where the window connects it to the rest. ``page`` is how
the window reaches a panel, so code that needs a tab gets it built, whenever that is.

Ctrl+1 to Ctrl+9 show the first nine tabs (named in the tabs' tooltips).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QWidget

from workbench.qt.keyboard import key_text


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

    def _build(self, name: str) -> QWidget:
        page = self._factories[name]()
        self._pages[name] = page
        i = self._names.index(name)
        placeholder, title, current = self.widget(i), self.tabText(i), self.currentIndex()
        tip = self.tabToolTip(i)
        blocked = self.blockSignals(True)  # the same tab stays current: no change to report
        try:
            self.removeTab(i)
            self.insertTab(i, page, title)
            self.setTabToolTip(i, tip)
            self.setCurrentIndex(current)
        finally:
            self.blockSignals(blocked)
        placeholder.deleteLater()
        self.page_built.emit(name, page)
        return page

    def _on_current_changed(self, index: int) -> None:
        if self._active and 0 <= index < len(self._names):
            self.page(self._names[index])


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
