"""From a mistake to its explanation: the Evaluate panel's image lists' menu.

The largest-loss rows and the images of a confusion-matrix cell get a context menu,
"Explain…" (the Explain dialog the Predict tab opens, for the evaluated model) and "Copy
path"; a double-click explains.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QWidget

from workbench.qt.keyboard import menu_keys
from workbench.qt.thumbnails import path_at


def image_menu(parent: QWidget, path: str, explain: Callable[[str], None]) -> QMenu:
    """The menu of one image: Explain… and Copy path."""
    menu = QMenu(parent)
    explain_action = QAction("Explain…", menu)
    explain_action.setToolTip("Show which parts of the image the model's decision rests on")
    explain_action.triggered.connect(lambda: explain(path))
    copy = QAction("Copy path", menu)
    copy.triggered.connect(lambda: QApplication.clipboard().setText(path))
    menu.addAction(explain_action)
    menu.addAction(copy)
    return menu


def install(view: QAbstractItemView, path_of: Callable[[QModelIndex], str | None],
            explain: Callable[[str], None]) -> None:
    """Give ``view`` the image menu (right-click) and Explain on double-click;
    ``path_of(index)`` is the image of a row or item (None: not an image)."""

    def show_menu(pos: QPoint) -> None:
        index = view.indexAt(pos)
        path = path_of(index) if index.isValid() else None
        if path:
            view.image_menu = image_menu(view, path, explain)  # kept: tests read it
            view.image_menu.popup(view.viewport().mapToGlobal(pos))

    def double_clicked(index: QModelIndex) -> None:
        path = path_of(index)
        if path:
            explain(path)

    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.customContextMenuRequested.connect(show_menu)
    view.doubleClicked.connect(double_clicked)
    menu_keys(view, double_clicked)  # Shift+F10 its menu, Enter its Explain


def install_on(panel: Any) -> None:
    """The menu on an EvaluatePanel's largest-loss rows and confusion-cell images; each
    asks ``panel.request_explain(path)``."""
    worst = panel.worst

    def worst_path(index: QModelIndex) -> str | None:
        row = index.row()  # the entry's path: an item's (a Qt string) drops a bad byte
        return worst.entries[row]["path"] if 0 <= row < len(worst.entries) else None
    install(worst, worst_path, panel.request_explain)
    install(panel.confusion.cell_images, path_at,
            panel.request_explain)
