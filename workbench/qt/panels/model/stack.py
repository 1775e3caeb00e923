"""The network stack: the layer cards top to bottom, reordered by drag and drop.

:class:`LayerStack` holds one :class:`~.cards.LayerCard` per layer in a scroll area
and accepts two drags: a layer type from the palette
(:data:`~.palette.LAYER_TYPE_MIME`: insert it there) and a card's own grip
(:data:`~.cards.LAYER_INDEX_MIME`: move it there). The stack only reports what was
asked for (:attr:`LayerStack.drop_requested`); the panel makes the edit, so a drop and a
menu action take the same, undoable, path.

The stack itself is no Tab stop (a scroll area draws no focus): its cards' "⋯" buttons and
fields are, in reading order where the stack stands (before the model doctor), also
after the cards are made again; the keyboard selects a card by its focus (:mod:`.card_keys`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError

from workbench.qt.keyboard import chain_after, focus_stops
from workbench.qt.panels.model.card_keys import CardKeys
from workbench.qt.panels.model.cards import LAYER_INDEX_MIME, LayerCard, card_signature
from workbench.qt.panels.model.in_view import KeepInView
from workbench.qt.panels.model.palette import LAYER_TYPE_MIME


@lru_cache(maxsize=32)
def _preprocessing(arch: str) -> tuple | None:
    """``(input_size, mean, std)`` "Use this backbone's preprocessing" sets for ``arch``."""
    from workbench.core.model.backbone_weights import backbone_preprocessing

    try:
        pre = backbone_preprocessing(arch)
    except Exception:  # noqa: BLE001  (an unknown arch, no timm: the button says why)
        return None
    return (tuple(int(v) for v in pre["input_size"]),
            tuple(round(float(v), 6) for v in pre["mean"]),
            tuple(round(float(v), 6) for v in pre["std"]))


def preprocessing_in_use(arch: str, data: Any) -> bool:
    """Whether ``data`` (an experiment's data section) already has the input size, mean and
    std of ``arch``'s pretrained weights."""
    pre = _preprocessing(arch)
    return pre is not None and pre == (tuple(int(v) for v in data.input_size),
                                       tuple(round(float(v), 6) for v in data.mean),
                                       tuple(round(float(v), 6) for v in data.std))


class _StackBody(QWidget):
    """The widget inside the scroll area: lays the cards out and receives the drops."""

    def __init__(self, stack: "LayerStack"):
        super().__init__()
        self._stack = stack
        self.setAcceptDrops(True)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(4, 4, 4, 4)
        self.column.setSpacing(6)
        self.column.addStretch(1)
        # Where a drop would land: a line drawn over the layout, not in it.
        self.indicator = QFrame(self)
        self.indicator.setFrameShape(QFrame.Shape.HLine)
        self.indicator.setStyleSheet("background: palette(highlight); border: none;")
        self.indicator.hide()

    def dragEnterEvent(self, event) -> None:  # noqa: N802  (Qt override)
        if self._stack.parse_mime(event.mimeData()) is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self._show_indicator(event.position().toPoint().y())

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self.indicator.hide()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.indicator.hide()
        parsed = self._stack.parse_mime(event.mimeData())
        if parsed is None:
            event.ignore()
            return
        row = self._stack.drop_row(event.position().toPoint().y())
        event.acceptProposedAction()
        self._stack.drop_requested.emit(parsed[0], parsed[1], row)

    def _show_indicator(self, y: int) -> None:
        row = self._stack.drop_row(y)
        cards = self._stack.cards
        if not cards:
            top = 4
        elif row < len(cards):
            top = cards[row].geometry().top() - 4
        else:
            top = cards[-1].geometry().bottom() + 2
        self.indicator.setGeometry(4, max(0, top), self.width() - 8, 3)
        self.indicator.raise_()
        self.indicator.show()


class LayerStack(QScrollArea):
    """The cards, top (input) to bottom (output), in a scroll area that accepts drops.

    Signals
    -------
    params_edited(int, dict), card_clicked(int), menu_requested(int, QPoint),
    preprocessing_requested(int)
        Forwarded from the cards (see :class:`~.cards.LayerCard`).
    drop_requested(str, object, int)
        ``("type", name, row)``: insert a new layer of type ``name`` at ``row``;
        ``("index", i, row)``: move layer ``i`` to just before the card now at ``row``
        (``row`` counts the cards before the move; ``len(cards)`` means the end).
    """

    drop_requested = Signal(str, object, int)
    params_edited = Signal(int, dict)
    card_clicked = Signal(int)
    menu_requested = Signal(int, QPoint)
    preprocessing_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the cards
        self.body = _StackBody(self)
        self.setWidget(self.body)
        self.cards: list[LayerCard] = []
        self.selected = -1  # the card shown selected (select)
        self.keys = CardKeys(self)
        self.empty_label = QLabel("The network has no layers: choose a preset, or double-click "
                                  "or drag layers from the list on the left.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.column.insertWidget(0, self.empty_label)
        self.in_view = KeepInView(self)

    def show_layers(self, layers: list, registry: Any, note: str) -> None:
        """New cards for ``layers``; without a ``registry`` (torch not yet imported), cards
        without forms, showing ``note``."""
        cards = []
        for i, comp in enumerate(layers):
            entry, why = None, note
            if registry is not None:
                try:
                    entry = registry.get(comp.type, f"model.layers[{i}].type")
                except WorkbenchError as e:
                    why = f"{e}: delete this layer or fix the experiment file."
            card = LayerCard(i, comp, entry, why)
            card.params_edited.connect(self.params_edited)
            card.clicked.connect(self.card_clicked)
            card.menu_requested.connect(self.menu_requested)
            card.preprocessing_requested.connect(self.preprocessing_requested)
            cards.append(card)
        self.set_cards(cards)

    def update_values(self, layers: list, registry: Any) -> bool:
        """Show new parameter values in the cards, in place (the focus stays in the edited
        box); False, changing nothing, when the cards no longer match the layers."""
        if len(self.cards) != len(layers):
            return False
        for card, comp in zip(self.cards, layers):
            entry = registry.get(comp.type) if registry is not None and \
                comp.type in registry else None
            if card.signature != card_signature(comp, entry):
                return False
        for card, comp in zip(self.cards, layers):
            card.set_values(comp.params)
        return True

    def set_cards(self, cards: list[LayerCard]) -> None:
        """Replace every card (the old ones are deleted)."""
        old, self.cards = self.cards, list(cards)  # the focus leaving the old: not a choice
        for card in old:
            self.body.column.removeWidget(card)
            card.hide()
            card.deleteLater()
        for i, card in enumerate(self.cards):
            self.body.column.insertWidget(i, card)
            card.show()  # now, not on the next event loop pass: drop_row needs its place
            self.keys.watch(card)
        self.empty_label.setVisible(not self.cards)
        # Made after the window, the cards' stops joined the end of its Tab order (one walk
        # of the window's focus chain: the old cards are still in the body until deleted).
        stops = focus_stops(self.body)
        chain_after(self, [s for card in self.cards for s in stops if card.isAncestorOf(s)])

    def card_focused(self, card: LayerCard) -> None:
        """The focus came into ``card``: select it (a card selected already: show it)."""
        if card.index != self.selected:
            card.clicked.emit(card.index)
        else:
            self.in_view.request(card)

    def focus_card(self, index: int,
                   reason: Qt.FocusReason = Qt.FocusReason.OtherFocusReason) -> bool:
        """Put the focus on card ``index``'s "⋯" button (which selects it); False, leaving
        the focus alone, when there is no such card."""
        if not 0 <= index < len(self.cards):
            return False
        self.cards[index].more_button.setFocus(reason)
        return True

    def drop_row(self, y: int) -> int:
        """The insertion row for a drop at height ``y`` of the body: before the first card
        whose middle is below ``y``."""
        self.body.column.activate()  # cards added since the last layout pass get places
        for i, card in enumerate(self.cards):
            if y < card.geometry().center().y():
                return i
        return len(self.cards)

    def card_center(self, index: int) -> QPoint:
        """Centre of card ``index`` in body coordinates (for tests and drop positions)."""
        self.body.column.activate()
        return self.cards[index].geometry().center()

    @staticmethod
    def parse_mime(mime: QMimeData) -> tuple[str, Any] | None:
        """``("type", name)`` or ``("index", i)`` for our drags; ``None`` for anything else."""
        if mime.hasFormat(LAYER_TYPE_MIME):
            name = bytes(mime.data(LAYER_TYPE_MIME)).decode("utf-8", "replace").strip()
            return ("type", name) if name else None
        if mime.hasFormat(LAYER_INDEX_MIME):
            text = bytes(mime.data(LAYER_INDEX_MIME)).decode("ascii", "replace").strip()
            return ("index", int(text)) if text.isdigit() else None
        return None

    def show_summary(self, summary: Any, notes: list[str], experiment: Any = None) -> None:
        """Each card's shapes and counts (``summary``: a NetworkSummary), who uses its
        weights, the Backbone ``notes`` naming its layer, and (given ``experiment``)
        whether a Backbone's preprocessing is the data settings' already."""
        users: dict[int, list[int]] = {}
        for info in summary.layers:
            if getattr(info, "shared_with", None) is not None:
                users.setdefault(info.shared_with, []).append(info.index)
        for i, card in enumerate(self.cards):
            card.show_info(summary.layers[i] if i < len(summary.layers) else None)
            card.set_shared_by(users.get(i, []))
            # The core's notes name their layer: "layer 3 (Backbone resnet18): ..."
            card.set_notes([n for n in notes if n.startswith(f"layer {i + 1} (")])
            layers = experiment.model.layers if experiment is not None else []
            if card.preprocessing_button is not None and i < len(layers):
                arch = str((layers[i].params or {}).get("arch", "resnet18"))
                card.set_preprocessing_in_use(arch, preprocessing_in_use(arch,
                                                                         experiment.data))

    @Slot(int)
    def select(self, index: int) -> None:
        """Highlight card ``index`` (-1: none) and scroll it into view once the cards are
        laid out (:mod:`.in_view`)."""
        self.selected = index
        for i, card in enumerate(self.cards):
            card.set_selected(i == index)
        self.in_view.request(self.cards[index] if 0 <= index < len(self.cards) else None)
