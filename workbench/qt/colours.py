"""The colours that say how something went (ok, warning, error), readable on the palette in
use: a light one or a dark one (Fusion with a dark ``QPalette``, as many Linux desktops give).

Dark green, brown and red on a dark grey window read at about 2.2:1; WCAG asks 4.5:1 for
text. :func:`level_colour` takes the lighter shade on a dark window and, should the window
still be too close to it (a mid-grey theme), mixes it towards the palette's own text colour
until it reads at :data:`MIN_CONTRAST`. :func:`muted_colour` is a hint's quieter grey, as
readable; :func:`follow_palette` keeps a label in either, and :class:`LevelTextBrowser` a
report's ``<span class="error">``, chosen again when the palette changes (a fixed colour
stayed as it was: #555 on a dark grey window).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTextBrowser, QWidget

#: Text against its background, at least (WCAG 2 level AA for normal text).
MIN_CONTRAST = 4.5
#: Each level's colour on a light window and on a dark one.
LEVEL_COLOURS = {
    "ok": ("#1b7a2f", "#81c784"),
    "warning": ("#a05a00", "#ffb74d"),
    "error": ("#c62828", "#ff8a80"),
    "accent": ("#1565c0", "#90caf9"),  # of note, neither good nor bad: a badge, a running run
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


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette``'s window is dark (its text light)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def rows_palette(palette: QPalette) -> QPalette:
    """``palette`` with its rows' background and text (a list's, a table's, a text box's)
    as the window's: the colours the functions here read."""
    rows = QPalette(palette)
    rows.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.Base))
    rows.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.Text))
    return rows


def inherited_palette(widget: QWidget) -> QPalette:
    """The palette ``widget`` is shown on: its parent's, or the application's for a window
    (not its own, which a style sheet or a text colour set on it changed)."""
    parent = widget.parentWidget()
    return parent.palette() if parent is not None else QApplication.palette(widget)


def level_colour(level: str, palette: QPalette) -> QColor | None:
    """The colour of a ``level`` ("ok", "warning", "error", "accent"; "muted": a hint) text
    on ``palette``'s window, readable there; None for the plain text colour ("info")."""
    if level == "muted":
        return muted_colour(palette)
    shades = LEVEL_COLOURS.get(level)
    return readable_colour(*shades, palette) if shades is not None else None


def readable_colour(light: str, dark: str, palette: QPalette) -> QColor:
    """``light`` on ``palette``'s window where that is light, else ``dark``, mixed towards
    the palette's text colour where it still reads below :data:`MIN_CONTRAST` there."""
    return _readable(QColor(dark if is_dark(palette) else light), palette)


def muted_colour(palette: QPalette) -> QColor:
    """A hint's colour on ``palette``'s window: its text colour a third of the way to the
    window's, mixed back where that reads below :data:`MIN_CONTRAST` (a mid-grey window)."""
    return _readable(_mixed(palette.color(QPalette.ColorRole.WindowText),
                            palette.color(QPalette.ColorRole.Window), 0.35), palette)


def muted_rows_brush(widget: QWidget) -> QBrush:
    """The :func:`muted_colour` of ``widget``'s rows (a list's, a table's, a combo box's
    items): for an entry that counts for nothing (a class folder left out, a model of
    other classes), readable there (a fixed #888888 read at about 3.5:1 on white)."""
    return QBrush(muted_colour(rows_palette(widget.palette())))


def _mixed(a: QColor, b: QColor, share: float) -> QColor:
    return QColor.fromRgbF(*(x * (1 - share) + y * share for x, y in (
        (a.redF(), b.redF()), (a.greenF(), b.greenF()), (a.blueF(), b.blueF()))))


def _readable(base: QColor, palette: QPalette) -> QColor:
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    colour = base
    for step in range(1, 11):  # towards the text colour, which the palette made readable
        if contrast(colour, window) >= MIN_CONTRAST:
            break
        colour = _mixed(base, text, step / 10)
    return colour


def text_look(widget: QWidget, level: str) -> tuple[QPalette, QFont]:
    """The palette and font to give ``widget`` for a text at ``level``: every role
    inherited but the text colour, :func:`level_colour` on the palette ``widget`` inherits
    (a style sheet would stop it inheriting: a dark window's palette never reached it); the
    inherited font, bold for an error."""
    palette, font = QPalette(), QFont()  # no role, no attribute set: all inherited
    colour = level_colour(level, inherited_palette(widget))
    if colour is not None:
        palette.setColor(QPalette.ColorRole.WindowText, colour)
    if level == "error":
        font.setBold(True)
    return palette, font


class _Look(QObject):
    """Keeps its widget's text at a level's look (:func:`text_look`) as palettes change."""

    def __init__(self, widget: QWidget, level: str):
        super().__init__(widget)
        self.level, self._shown = level, ""
        widget.installEventFilter(self)
        self.apply()

    def apply(self) -> None:
        widget = self.parent()
        palette, font = text_look(widget, self.level)
        shown = palette.color(QPalette.ColorRole.WindowText).name()
        if shown != self._shown:  # the widget's own palette change comes back here
            self._shown = shown
            widget.setPalette(palette)
            widget.setFont(font)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ParentChange):
            self.apply()
        return False


def follow_palette(widget: QWidget, level: str = "muted") -> None:
    """Show ``widget``'s text (a QLabel's) at ``level`` (a quiet hint by default) on the
    palette it inherits, light or dark, chosen again whenever that palette changes."""
    _Look(widget, level)


def level_style_sheet(palette: QPalette) -> str:
    """A rich text's style sheet (a QTextDocument's default one) giving each level's class
    (``<span class="error">``) its colour on ``palette``'s rows (a text box's)."""
    rows = rows_palette(palette)
    return " ".join(f".{level} {{ color: {level_colour(level, rows).name()}; }}"
                    for level in (*LEVEL_COLOURS, "muted"))


class LevelTextBrowser(QTextBrowser):
    """A box of rich text whose ``class="ok"`` ("warning", "error", "accent", "muted")
    parts take the levels' colours on its palette (:func:`level_style_sheet`), again when
    the palette changes."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._html = ""

    def show_html(self, text: str) -> None:
        """Show ``text`` (HTML; "" to clear) in the colours of the palette in use."""
        self._html = text
        self.document().setDefaultStyleSheet(level_style_sheet(self.palette()))
        self.setHtml(text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._html:
            self.show_html(self._html)
