"""The layer cards' colours, readable on the palette in use, light or dark, and chosen again
when it changes (:meth:`~.cards.LayerCard.changeEvent`).

A card's badges ("⇄ shares layer 2's weight", "own initialisation", "⇄ weight also used by
layer 4") were dark blue, about 2.1:1 on a dark window (Fusion with a dark ``QPalette``, as
many Linux desktops give; WCAG asks 4.5:1); its red misfit message and a Backbone's red or
brown notes read no better, and a misfit card's light pink background left a dark
palette's light text unreadable. The texts take the app's level colours
(:func:`~workbench.qt.colours.text_look`: "accent" for a badge), measured against what
they are drawn on: the window, or a misfit card's background.

No style sheet: a widget with one no longer follows its window's palette (Qt stops
passing palette changes to it and its children), so a card made on a light palette kept
its black text on a dark one. The card paints its own frame (:func:`frame_pen`).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from workbench.qt.colours import is_dark, level_colour

#: A misfit card's background: (on a light window, on a dark window). Its frame is the
#: "error" colour.
MISFIT_BACKGROUND = ("#ffdddd", "#4a1c1c")


def card_palette(palette: QPalette, misfit: bool) -> QPalette:
    """The palette a card sets on itself, shown on ``palette``: every role inherited, but a
    misfit card's window is its background (its texts are drawn there)."""
    own = QPalette()  # no role set: all inherited
    if misfit:
        own.setColor(QPalette.ColorRole.Window, QColor(MISFIT_BACKGROUND[is_dark(palette)]))
    return own


def frame_pen(key: str, palette: QPalette) -> tuple[QColor, int]:
    """The colour and width of the card's frame: ``key`` "normal", "selected", "misfit" or
    "misfit-selected", on ``palette`` (the one the card is shown on)."""
    if key == "normal":
        return palette.color(QPalette.ColorRole.Mid), 1
    if key == "selected":
        return palette.color(QPalette.ColorRole.Highlight), 2
    return level_colour("error", palette), 3 if key == "misfit-selected" else 2
