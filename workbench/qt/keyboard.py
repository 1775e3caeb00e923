"""Keyboard reach: every control can be got to with Tab, and the main actions have keys.

- :func:`tab_leaves`: Tab moves the focus out of a table, not from cell to cell. Qt's
  tables take Tab for themselves (``tabKeyNavigation``) and wrap round from the last cell
  to the first, so the focus never left them: the buttons and fields after a table (the
  Data tab's settings, the Runs tab's Rename… Delete…, Tune's "Continue study") could not
  be reached by keyboard. Every table of the app is made with it.
- :func:`focusable_tool_buttons`: a toolbar's buttons take Tab focus (QToolBar makes them
  ``NoFocus``, so a button without a shortcut was out of the keyboard's reach).
- :func:`shortcut_tip`: a tooltip that names its shortcut, as the Model tab's do.
- :func:`chain_after`: widgets made after their window (a finding's fix button, a table's
  combo boxes, a form built later) take their turn in the Tab order where they are shown,
  not at its end; :func:`focus_stops` lists a form's stops for it.
- :func:`menu_keys`: Shift+F10 opens a list's or table's own context menu at its current
  row, as the Menu key does (a laptop has none, and Qt makes Shift+F10 a menu on Windows
  only: Explain…, Copy path, Show in Runs were out of a keyboard's reach), and Enter may do
  what a double-click does.
- :func:`tab_as_drawn`: Tab meets a dialog's buttons in the order they are drawn (a button
  added to a QDialogButtonBox came after Cancel, though drawn before it).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QDialogButtonBox, QToolBar, QToolButton,
                               QWidget)

View = TypeVar("View", bound=QAbstractItemView)


def tab_leaves(view: View) -> View:
    """``view``, with Tab and Shift+Tab moving the focus to the next and previous control
    instead of the next cell. The arrow keys still move from cell to cell; F2, Enter or
    typing still edit an editable cell, and while a cell is edited Tab still goes on to the
    next one (the editor asks for it)."""
    view.setTabKeyNavigation(False)
    return view


def focusable_tool_buttons(toolbar: QToolBar) -> None:
    """Let Tab reach the buttons of ``toolbar``'s actions (call it once they are added);
    Space presses the one with the focus."""
    for action in toolbar.actions():
        button = toolbar.widgetForAction(action)
        if isinstance(button, QToolButton):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)


def key_text(key: QKeySequence | str) -> str:
    """``key`` as the platform writes it ("Ctrl+Return"; "⌘↩" on macOS)."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def shortcut_tip(tip: str, key: QKeySequence | str) -> str:
    """``tip`` followed by its shortcut in brackets: "Stop after the current batch (Ctrl+.)".
    A tip that ends in a full stop keeps it after the brackets."""
    tip = tip.rstrip()
    stop = tip.endswith(".")
    return f"{tip.rstrip('.')} ({key_text(key)}){'.' if stop else ''}"


def _tab_stop(widget: QWidget) -> bool:
    return bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus)


def chain_after(anchor: QWidget, widgets: Iterable[QWidget]) -> None:
    """Put ``widgets`` in the Tab order right after ``anchor``, one after the other.

    A widget made once its window's focus chain was built (a finding's fix button, a
    table's cell combo box) joins the end of that chain: Tab reached it only after the rest
    of the window (the plots, the other pane). An ``anchor`` that takes no Tab focus (a
    scroll area, a page) stands for the last Tab stop before it: the widgets then come
    first in it. Widgets that take no Tab focus are left where they are.
    """
    chain = [w for w in widgets if _tab_stop(w)]
    first = anchor
    while not _tab_stop(first) or first in chain or \
            (first is not anchor and anchor.isAncestorOf(first)):
        first = first.previousInFocusChain()
        if first is anchor or first is None:  # round the whole chain: no stop before it
            first = chain.pop(0) if chain else anchor
            break
    for before, widget in zip([first, *chain], chain):
        QWidget.setTabOrder(before, widget)


def focus_stops(widget: QWidget) -> list[QWidget]:
    """The controls Tab stops at inside ``widget``, in their Tab order (a spin box, not its
    line edit)."""
    stops: list[QWidget] = []
    child = widget.nextInFocusChain()
    while child is not widget:  # the window's whole chain, round to ``widget``
        outer = child.parentWidget() if widget.isAncestorOf(child) else None
        while outer not in (widget, None) and not _tab_stop(outer):
            outer = outer.parentWidget()
        if outer is widget and _tab_stop(child):
            stops.append(child)
        child = child.nextInFocusChain()
    return stops


def is_menu_key(event: Any) -> bool:
    """Whether the key ``event`` is the Menu key or Shift+F10."""
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return (event.key() == Qt.Key.Key_Menu and mods == Qt.KeyboardModifier.NoModifier) or \
        (event.key() == Qt.Key.Key_F10 and mods == Qt.KeyboardModifier.ShiftModifier)


class _MenuKeys(QObject):
    """Shift+F10 (and Enter, given ``enter``) on a view: see :func:`menu_keys`."""

    def __init__(self, view: QAbstractItemView, enter: Callable[[QModelIndex], Any] | None):
        super().__init__(view)
        self._enter = enter
        view.installEventFilter(self)

    def eventFilter(self, view: Any, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        if event.type() != QEvent.Type.KeyPress:
            return False
        index = view.currentIndex()
        plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier == \
            Qt.KeyboardModifier.NoModifier
        if event.key() == Qt.Key.Key_F10 and is_menu_key(event):  # Qt opens the Menu key's
            if index.isValid():
                view.scrollTo(index)
                view.customContextMenuRequested.emit(view.visualRect(index).center())
            return True
        if self._enter is not None and plain and index.isValid() and \
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._enter(index)
            return True
        return False


def menu_keys(view: View, enter: Callable[[QModelIndex], Any] | None = None) -> View:
    """``view`` (with a custom context menu), Shift+F10 asking for that menu at its current
    row (``customContextMenuRequested`` at the row's centre, in the viewport); with
    ``enter``, Enter and Return call ``enter(current index)``, as a double-click does
    (``activated`` would also come with every double-click: the action twice)."""
    _MenuKeys(view, enter)
    return view


def tab_as_drawn(buttons: QDialogButtonBox) -> None:
    """Tab goes through ``buttons`` in the order the platform draws them, left to right
    (call it once they are all added and the box is in its window: Qt leaves a lone box's
    two buttons in their order)."""
    layout = buttons.layout()
    drawn = [layout.itemAt(i).widget() for i in range(layout.count())]
    drawn = [w for w in drawn if w is not None]
    for before, widget in zip(drawn, drawn[1:]):
        QWidget.setTabOrder(before, widget)
