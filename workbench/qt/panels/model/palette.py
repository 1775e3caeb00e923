"""The layer palette: every registered layer type, grouped, searchable, draggable.

Generated from ``LAYERS.groups()``: a new registry entry appears here with its help text as
tooltip, with no change to this module. Double-click a layer to add it (after the selected
card), or press Enter on it; Enter in the search box adds the layer it finds (shown
selected: the one named exactly, else the first whose name starts with the text, else the
first listed), and Down or Tab goes to that layer. Drag a layer into the stack to insert it
where it is dropped; the drag carries the layer type under :data:`LAYER_TYPE_MIME`.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QLineEdit, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from workbench.qt.accessible import name_field
from workbench.qt.startup import LOADING_TEXT

#: Mime type of a palette drag: the layer type's name, UTF-8.
LAYER_TYPE_MIME = "application/x-workbench-layer-type"

_NAME = Qt.ItemDataRole.UserRole
_HELP = Qt.ItemDataRole.UserRole + 1


def search_matches(words: list[str], name: str, group: str, help_text: str) -> int:
    """How ``name`` matches a search of lower-case ``words``: 2 when every word is in its
    name or group ("conv", "2d conv", "pool"), 1 when every word starts a word of its help
    text ("swish", "fully connected"), else 0."""
    if all(w in f"{group} {name}".lower() for w in words):
        return 2
    text = help_text.lower()
    return int(all(re.search(r"\b" + re.escape(w), text) for w in words))


def name_rank(text: str, name: str) -> int:
    """How closely ``name`` is the search ``text``: 2 for the name itself ("elu": ELU), 1
    for a name it starts ("el": ELU), else 0 (ReLU holds "elu" but is not it)."""
    text, name = text.strip().lower(), name.lower()
    return 2 if text == name else int(bool(text) and name.startswith(text))


class _SearchBox(QLineEdit):
    """The search line; Down goes to the layers found (a line edit ignores it)."""

    down_pressed = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802  (Qt override)
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class _PaletteTree(QTreeWidget):
    """A tree whose leaf items drag their layer type (and nothing else); Enter adds."""

    return_pressed = Signal(QTreeWidgetItem)

    def keyPressEvent(self, event) -> None:  # noqa: N802  (Qt override)
        # Not itemActivated: where the style activates on a single click, that would add a
        # layer on every click (and at the start of every drag).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem():
            self.return_pressed.emit(self.currentItem())
            return
        super().keyPressEvent(event)

    def mimeTypes(self) -> list[str]:  # noqa: N802  (Qt override)
        return [LAYER_TYPE_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        names = [it.data(0, _NAME) for it in items if it.data(0, _NAME)]
        if names:
            mime.setData(LAYER_TYPE_MIME, names[0].encode("utf-8"))
        return mime


class LayerPalette(QWidget):
    """Searchable list of the layer types, grouped as the registry groups them.

    Signals
    -------
    layer_chosen(str)
        A layer type was double-clicked (or Enter was pressed on it, or in the search box
        while it is the selected one: the layer found).
    """

    layer_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = _SearchBox()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the layers by name, or by words of their description "
                               "when no name matches. Enter adds the layer named, or the "
                               "first found (highlighted); Down goes to the layers.")
        self.search.textChanged.connect(self._on_search)
        self.search.returnPressed.connect(self._add_match)
        self.search.down_pressed.connect(self._go_to_match)
        self.tree = _PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setToolTip("Double-click a layer to add it after the selected one, or drag "
                             "it into the network.")
        self.tree.return_pressed.connect(self._on_activated)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        title = QLabel("<b>Layers</b>")
        name_field(None, self.search, "Search layers")
        name_field(title, self.tree, "Layers")
        self.note = QLabel(LOADING_TEXT)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note)
        self.search.setEnabled(False)

    def set_registry(self, registry: Any) -> None:
        """Fill the tree from ``registry.groups()`` (called once torch is imported)."""
        self.tree.clear()
        for group, entries in registry.groups().items():
            top = QTreeWidgetItem([group.capitalize()])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: not selectable or draggable
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for entry in entries:
                item = QTreeWidgetItem([entry.name])
                item.setData(0, _NAME, entry.name)
                item.setData(0, _HELP, entry.help)
                item.setToolTip(0, f"<b>{entry.name}</b>: {entry.help}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                top.addChild(item)
            self.tree.addTopLevelItem(top)
        self.tree.expandAll()
        self.note.setVisible(False)
        self.search.setEnabled(True)
        self._on_search(self.search.text())

    def items(self) -> list[QTreeWidgetItem]:
        """Every layer item (leaves), in order."""
        out = []
        for g in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(g)
            out.extend(top.child(i) for i in range(top.childCount()))
        return out

    def item(self, name: str) -> QTreeWidgetItem | None:
        for it in self.items():
            if it.data(0, _NAME) == name:
                return it
        return None

    def visible_names(self) -> list[str]:
        """The layer types the search leaves visible."""
        return [it.data(0, _NAME) for it in self.items() if not it.isHidden()]

    @Slot(str)
    def _on_search(self, text: str) -> None:
        """Show the layers whose name (or group) has every word; only when none has, those
        whose description has every word (at the start of a word): "conv" lists Conv2d,
        not ReLU, whose help says where it goes after a convolution."""
        words = text.lower().split()
        tops = [self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount())]
        found = {(g, i): search_matches(words, top.child(i).text(0), top.text(0),
                                        top.child(i).data(0, _HELP) or "")
                 for g, top in enumerate(tops) for i in range(top.childCount())}
        best = max(found.values(), default=0)
        for g, top in enumerate(tops):
            shown = 0
            for i in range(top.childCount()):
                it = top.child(i)
                hide = best == 0 or found[(g, i)] < best
                it.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)
        # Tab, Down or Enter from the search then reach the layer found, not a heading.
        self.tree.setCurrentItem(self._best_match())

    def _best_match(self) -> QTreeWidgetItem | None:
        """The layer found: the one named exactly, else the first whose name starts with
        the search, else the first listed."""
        shown = [it for it in self.items() if not it.isHidden()]
        text = self.search.text()
        return max(shown, key=lambda it: name_rank(text, it.data(0, _NAME)), default=None)

    def _match(self) -> QTreeWidgetItem | None:
        """The layer Enter in the search adds: the one chosen in the tree (with Down, say)
        if the search shows it, else the one found."""
        current = self.tree.currentItem()
        if current is not None and current.data(0, _NAME) and not current.isHidden():
            return current
        return self._best_match()

    @Slot()
    def _add_match(self) -> None:
        item = self._match()
        if item is not None:
            self._on_activated(item)

    @Slot()
    def _go_to_match(self) -> None:
        item = self._match()
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.setFocus(Qt.FocusReason.TabFocusReason)

    @Slot(QTreeWidgetItem, int)
    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        name = item.data(0, _NAME)
        if name:
            self.layer_chosen.emit(name)
