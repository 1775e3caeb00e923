"""The layer cards' colours, readable on the palette in use, light or dark.

A card's badges ("⇄ shares layer 2's weight", "own initialisation", "⇄ weight also used by
layer 4") were dark blue, about 2.1:1 on a dark window (Fusion with a dark ``QPalette``, as
many Linux desktops give; WCAG asks 4.5:1); its red misfit message and a Backbone's red or
brown notes read no better, and a misfit card's light pink background left a dark
palette's light text unreadable. Each colour has a shade for a light window and a lighter
one for a dark window (the red and the brown those of the app's message line), chosen by
the window's lightness.
"""

from __future__ import annotations

from PySide6.QtGui import QPalette

#: (on a light window, on a dark window)
COLOURS = {
    "badge": ("#1565c0", "#90caf9"),
    "error": ("#b71c1c", "#ff8a80"),
    "warning": ("#a05a00", "#ffb74d"),
    "misfit": ("#c62828", "#ff8a80"),  # the frame of a layer that does not fit
    "misfit-background": ("#ffdddd", "#4a1c1c"),
}


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette``'s window is dark (its text light)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def card_colour(name: str, palette: QPalette) -> str:
    """The colour ``name`` (a key of :data:`COLOURS`) for ``palette``'s window."""
    return COLOURS[name][is_dark(palette)]


def text_style(name: str, palette: QPalette, bold: bool = False) -> str:
    """The style sheet of a card's text in colour ``name`` ("" for none: the plain text)."""
    if name not in COLOURS:
        return ""
    return f"color: {card_colour(name, palette)};" + (" font-weight: bold;" if bold else "")


def frame_style(key: str, palette: QPalette) -> str:
    """The card frame's style sheet: ``key`` "normal", "selected", "misfit" or
    "misfit-selected"."""
    if key == "normal":
        return "QFrame#layerCard { border: 1px solid palette(mid); border-radius: 5px; }"
    if key == "selected":
        return "QFrame#layerCard { border: 2px solid palette(highlight); border-radius: 5px; }"
    width = 3 if key == "misfit-selected" else 2
    return (f"QFrame#layerCard {{ border: {width}px solid {card_colour('misfit', palette)}; "
            f"border-radius: 5px; background: {card_colour('misfit-background', palette)}; }}")
