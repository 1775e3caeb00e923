"""The confusion matrix as a figure that stays readable with many classes.

:func:`shades` is the colour rule the app's heatmap and the figures share: each row's
share of its true class (row-normalised), or the counts, on a log scale when they are so
uneven that a cell of one image would be almost white on a linear one (a class of 300
images beside classes of 3). :func:`confusion_svg` draws the whole matrix as SVG: every
class named on both axes (and numbered, from :data:`NUMBER_FROM` classes), the names cut
only where they must be and then listed in full in a key, cells large enough to read and
click (:func:`cell_size`: the figure grows with the classes rather than its cells
shrinking), a count in each cell while it fits, and a tooltip on every non-empty cell
(``"true X → predicted Y: n (p%)"``). The HTML report embeds it as it is; the app's
"Save PNG…" renders it to an image for many classes.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

import numpy as np

from workbench.core.evaluate.labels import elide, estimate_width, shared_starts

#: Counts whose largest is at least this many times the smallest non-zero one are coloured
#: on a log scale (on a linear one the smallest would be a tint of 10% or less).
LOG_SPREAD = 10
#: On the log scale one image gets this shade (a clear light blue), the largest count 1.
LOG_FLOOR = 0.3
#: From this many classes the figure numbers them on both axes ("12: name").
NUMBER_FROM = 26
#: Longest label drawn beside the matrix, in pixels; longer names are cut and keyed.
NAME_MAX_PX = 220
FONT_PX = 11
#: The colour of a full cell (share 1); empty cells are white.
FULL = (31, 119, 180)


def shades(confusion: Any, normalized: bool) -> tuple[np.ndarray, bool]:
    """``(fractions in [0, 1] to colour each cell by, whether the scale is logarithmic)``.

    ``normalized``: each cell's share of its row (true class). Otherwise the counts over
    the largest, on a log scale when the largest is at least :data:`LOG_SPREAD` times the
    smallest non-zero count (``n`` from 1 to the largest spans :data:`LOG_FLOOR` to 1 by
    ``log n``; empty cells stay white), so that every non-empty cell stays visible;
    linear when the counts are even enough for a linear scale to show them all.
    """
    m = np.asarray(confusion, dtype=np.float64)
    if normalized:
        rows = m.sum(axis=1, keepdims=True)
        return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0), False
    top = float(m.max()) if m.size else 0.0
    if top <= 0:
        return np.zeros_like(m), False
    if top >= LOG_SPREAD * float(m[m > 0].min()):
        logs = np.log(np.maximum(m, 1.0)) / np.log(top)
        return np.where(m > 0, LOG_FLOOR + (1 - LOG_FLOOR) * logs, 0.0), True
    return m / top, False


def cell_size(k: int) -> int:
    """Side of a cell, in pixels: 40 for a few classes, never under 14 (room for a label
    line beside it), so the figure grows with the classes."""
    return int(max(14, min(40, 600 // max(1, k))))


def cell_tip(classes: Sequence[str], confusion: np.ndarray, row: int, col: int) -> str:
    """``"true X → predicted Y: n (p%)"`` where p is the share of the true class's images."""
    n = int(confusion[row, col])
    support = int(confusion[row].sum())
    share = f" ({n / support:.1%})" if support else ""
    return f"true {classes[row]} → predicted {classes[col]}: {n}{share}"


def _colour(f: float, full: Sequence[int]) -> str:
    return "#%02x%02x%02x" % tuple(int(round(255 - f * (255 - c))) for c in full)


def _labels(names: list[str], width: Any) -> list[str]:
    """The axis label of each class: its name cut to fit :data:`NAME_MAX_PX` (see
    :mod:`.labels`), numbered ("12: name") from :data:`NUMBER_FROM` classes, and a cut
    one numbered in any case (the key under the matrix lists it in full under its number)."""
    shared = shared_starts(names)
    numbered = len(names) >= NUMBER_FROM
    out = []
    for i, (name, start) in enumerate(zip(names, shared)):
        if not numbered and width(name) <= NAME_MAX_PX:
            out.append(name)
            continue
        prefix = f"{i}: "
        out.append(prefix + elide(name, start, NAME_MAX_PX - width(prefix), width))
    return out


def confusion_svg(confusion: Any, classes: Sequence[str], normalized: bool = True,
                  shares: bool = False, font_px: int = FONT_PX,
                  full: Sequence[int] = FULL) -> str:
    """The matrix as a standalone SVG document (see the module docstring): rows are the
    true class (names on the left), columns the predicted class (names written upwards
    above them); ``normalized`` as in :func:`shades`. The cells that have room show their
    count, or with ``shares`` their share of the row ("33%"); ``full``: the RGB colour of
    a full cell."""
    m = np.asarray(confusion, dtype=np.int64)
    k = len(m)
    names = [str(c) for c in classes[:k]]
    fractions, _log = shades(m, normalized)
    cell = cell_size(k)

    def width(text: str) -> float:
        return estimate_width(text, font_px)

    labels = _labels(names, width)
    cut = [(i, n) for i, (n, t) in enumerate(zip(names, labels))
           if t not in (n, f"{i}: {n}")]
    label_px = int(max((width(t) for t in labels), default=0)) + 8
    line = font_px + 5
    x0 = y0 = 8 + line + label_px  # the axis title, then the names
    grid = k * cell
    key_w = int(max((width(f"{i}: {n}") for i, n in cut), default=0)) + 16
    total_w = max(x0 + grid + 8, key_w)
    total_h = y0 + grid + 8 + ((line * (len(cut) + 1) + 8) if cut else 0)
    out = [f'<svg width="{total_w}" height="{total_h}" '
           f'viewBox="0 0 {total_w} {total_h}" role="img" aria-label="confusion matrix: '
           f'rows are the true class, columns the predicted class" '
           f'font-family="sans-serif" font-size="{font_px}">',
           f'<rect width="{total_w}" height="{total_h}" fill="white"/>']
    rows = m.sum(axis=1)

    def text_of(r: int, c: int) -> str:
        return (f"{m[r, c] / rows[r]:.0%}" if rows[r] else "0%") if shares else str(m[r, c])

    widest = width("100%") if shares else width(str(int(m.max()) if m.size else 0))
    numbers = cell >= 16 and widest <= cell - 4
    # Cells: the non-empty ones (the rest stays white unless it shows a number), the grid.
    for (r, c), v in np.ndenumerate(m):
        if not v and not numbers:
            continue
        x, y = x0 + c * cell, y0 + r * cell
        f = float(fractions[r, c])
        out.append(f'<g><title>{escape(cell_tip(names, m, r, c))}</title>'
                   f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" '
                   f'fill="{_colour(f, full)}"/>')
        if numbers:
            out.append(f'<text x="{x + cell / 2:g}" y="{y + cell / 2:g}" '
                       f'text-anchor="middle" dominant-baseline="central" '
                       f'fill="{"white" if f > 0.5 else "#222"}">{text_of(r, c)}</text>')
        out.append("</g>")
    lines = "".join(f"M{x0},{y0 + i * cell}h{grid}M{x0 + i * cell},{y0}v{grid}"
                    for i in range(k + 1))
    out.append(f'<path d="{lines}" stroke="#dcdcdc" stroke-width="1" fill="none"/>')
    for i, text in enumerate(labels):
        middle = i * cell + cell / 2
        full = escape(names[i])
        out.append(f'<g><title>{full}</title><text x="{x0 - 4}" y="{y0 + middle:g}" '
                   f'text-anchor="end" dominant-baseline="central">{escape(text)}</text>'
                   f'<text transform="translate({x0 + middle:g},{y0 - 4}) rotate(-90)" '
                   f'dominant-baseline="central">{escape(text)}</text></g>')
    out.append(f'<text x="{x0 + grid / 2:g}" y="{8 + font_px}" text-anchor="middle" '
               f'fill="#444">predicted class</text>')
    out.append(f'<text transform="translate({8 + font_px},{y0 + grid / 2:g}) rotate(-90)" '
               f'text-anchor="middle" fill="#444">true class</text>')
    if cut:
        y = y0 + grid + 8 + line
        out.append(f'<text x="8" y="{y}" fill="#444">Names cut short above, in full:</text>')
        for n, (i, name) in enumerate(cut, 1):
            out.append(f'<text x="8" y="{y + n * line}">{i}: {escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
