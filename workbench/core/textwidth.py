"""Text columns that line up in a terminal whatever the class names' script.

``str.ljust`` and ``f"{name:20s}"`` pad by characters, but a terminal gives a CJK character
or an emoji two columns and a combining accent none, so a table of such names goes out of
line. :func:`display_width` counts columns as terminals do (Unicode's East Asian Width: wide
and fullwidth characters, emoji among them, take 2; combining marks, zero-width joiners and
variation selectors take 0; everything else 1), and :func:`pad` pads to a width in columns.
The standard library's ``unicodedata`` is enough: no terminal-width package is needed.
"""

from __future__ import annotations

import unicodedata

_ZERO_WIDTH_CATEGORIES = ("Mn", "Me", "Cf", "Cc")  # combining marks, format, controls


def char_width(c: str) -> int:
    """Terminal columns of the one character ``c``: 0, 1 or 2."""
    if unicodedata.category(c) in _ZERO_WIDTH_CATEGORIES:
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: ``display_width("日本語") == 6``,
    ``display_width("🐦 bird") == 7``, ``display_width("cafe\\u0301") == 4``."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def pad(text: str, width: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``width`` columns: ``"<"`` on the right (left-aligned,
    as ``f"{text:{width}s}"``), ``">"`` on the left (right-aligned). Longer text is
    returned whole."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if align == ">" else text + fill


def column_width(texts, minimum: int = 0) -> int:
    """The widest of ``texts`` in columns (at least ``minimum``)."""
    return max([minimum, *(display_width(str(t)) for t in texts)])


__all__ = ["char_width", "column_width", "display_width", "pad"]
