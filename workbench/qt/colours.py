"""The colours that say how something went (ok, warning, error), readable on the palette in
use: a light one or a dark one (Fusion with a dark ``QPalette``, as many Linux desktops give).

Dark green, brown and red on a dark grey window read at about 2.2:1; WCAG asks 4.5:1 for
text. :func:`level_colour` takes the lighter shade on a dark window and, should the window
still be too close to it (a mid-grey theme), mixes it towards the palette's own text colour
until it reads at :data:`MIN_CONTRAST`.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

#: Text against its background, at least (WCAG 2 level AA for normal text).
MIN_CONTRAST = 4.5
#: Each level's colour on a light window and on a dark one.
LEVEL_COLOURS = {
    "ok": ("#1b7a2f", "#81c784"),
    "warning": ("#a05a00", "#ffb74d"),
    "error": ("#c62828", "#ff8a80"),
}


def luminance(colour: QColor) -> float:
    """``colour``'s relative luminance (WCAG 2), 0 for black to 1 for white."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    """The contrast ratio of two colours (WCAG 2): 1 for the same, 21 for black on white."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def level_colour(level: str, palette: QPalette) -> QColor | None:
    """The colour of a ``level`` ("ok", "warning", "error") text on ``palette``'s window,
    readable there; None for a level shown in the plain text colour ("info")."""
    shades = LEVEL_COLOURS.get(level)
    return readable_colour(*shades, palette) if shades is not None else None


def readable_colour(light: str, dark: str, palette: QPalette) -> QColor:
    """``light`` on ``palette``'s window where that is light, else ``dark``, mixed towards
    the palette's text colour where it still reads below :data:`MIN_CONTRAST` there."""
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    base = QColor(dark if window.lightness() < 128 else light)
    colour = base
    for step in range(1, 11):  # towards the text colour, which the palette made readable
        if contrast(colour, window) >= MIN_CONTRAST:
            break
        share = step / 10
        colour = QColor.fromRgbF(*(b * (1 - share) + t * share for b, t in (
            (base.redF(), text.redF()), (base.greenF(), text.greenF()),
            (base.blueF(), text.blueF()))))
    return colour


def text_look(widget: QWidget, level: str) -> tuple[QPalette, QFont]:
    """The palette and font to give ``widget`` for a text at ``level``: every role
    inherited but the text colour, :func:`level_colour` on the palette ``widget`` inherits
    (a style sheet would stop it inheriting: a dark window's palette never reached it); the
    inherited font, bold for an error."""
    parent = widget.parentWidget()
    inherited = parent.palette() if parent is not None else QApplication.palette(widget)
    palette, font = QPalette(), QFont()  # no role, no attribute set: all inherited
    colour = level_colour(level, inherited)
    if colour is not None:
        palette.setColor(QPalette.ColorRole.WindowText, colour)
    if level == "error":
        font.setBold(True)
    return palette, font


def level_style(level: str, palette: QPalette) -> str:
    """A style sheet giving a text at ``level`` its colour on ``palette`` (an error in bold);
    "" for a plain one ("info"). A widget with a style sheet no longer inherits its
    palette: pass the one of the window it is shown in (:func:`text_look` inherits)."""
    colour = level_colour(level, palette)
    if colour is None:
        return ""
    return f"color: {colour.name()};" + (" font-weight: bold;" if level == "error" else "")
