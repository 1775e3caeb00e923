"""The layer cards by keyboard: the selection follows the focus.

A keyboard user could not select a layer: a card took the focus by a click only, so
Delete, Ctrl+D, Alt+Up/Down and the toolbar's Move up, Move down, Duplicate and Delete
stayed greyed, and a card's "⋯" menu (Share weights with…, Initialisation…) was a link for
the mouse. :class:`CardKeys` watches every widget of the cards a
:class:`~.stack.LayerStack` shows:

- the focus coming into a card (Tab into a field, or to its "⋯" button, which every card
  has, a ReLU's its only stop) selects that card;
- Up and Down on a card's "⋯" button (or on a card clicked outside its fields) go to the
  "⋯" button of the card above or below, selecting it; in a field they are the field's;
- the Menu key and Shift+F10, anywhere in a card, open its menu, as do Space and Enter
  on its "⋯" button.

With the card selected, Ctrl+D in its number box duplicates the layer: the panel's
Duplicate was greyed, so the box took the key (X11's Delete: it erased the box's text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QWidget

from workbench.qt.keyboard import is_menu_key
from workbench.qt.panels.model.cards import LayerCard

if TYPE_CHECKING:
    from workbench.qt.panels.model.stack import LayerStack

_NONE = Qt.KeyboardModifier.NoModifier
_KEYPAD = Qt.KeyboardModifier.KeypadModifier


class CardKeys(QObject):
    """The keyboard handling of ``stack``'s cards (see the module's notes)."""

    def __init__(self, stack: "LayerStack"):
        super().__init__(stack)
        self.stack = stack

    def watch(self, card: LayerCard) -> None:
        """Handle the keys and focus of ``card`` and every widget in it."""
        for widget in (card, *card.findChildren(QWidget)):
            widget.installEventFilter(self)

    def _card(self, obj: QObject) -> LayerCard | None:
        """The card shown now that ``obj`` is (in); None for one being replaced."""
        while obj is not None and not isinstance(obj, LayerCard):
            obj = obj.parent()
        return obj if obj in self.stack.cards else None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        kind = event.type()
        if kind not in (QEvent.Type.FocusIn, QEvent.Type.KeyPress, QEvent.Type.ContextMenu):
            return False
        card = self._card(obj)
        if card is None:
            return False
        if kind == QEvent.Type.FocusIn:
            self.stack.card_focused(card)
            return False
        if kind == QEvent.Type.ContextMenu:  # the Menu key, where the system makes one
            if event.reason() != QContextMenuEvent.Reason.Keyboard:
                return False
            self._open_menu(card, obj)
            return True
        # On the card itself, not a key a field let go of (a text box's Up) on its way up.
        key = event.key()
        on_card = obj is card.more_button or (obj is card and card.hasFocus())
        if is_menu_key(event) or (obj is card.more_button and
                                  key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self._open_menu(card, obj)
            return True
        if on_card and key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and \
                event.modifiers() & ~_KEYPAD == _NONE:
            self.stack.focus_card(card.index + (1 if key == Qt.Key.Key_Down else -1),
                                  Qt.FocusReason.ShortcutFocusReason)
            return True  # at the first or last card: the focus stays
        return False

    @staticmethod
    def _open_menu(card: LayerCard, widget: QWidget) -> None:
        card.menu_requested.emit(card.index, widget.mapToGlobal(QPoint(0, widget.height())))
