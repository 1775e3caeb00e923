"""What the Health table's cells show: where a finding's images go in its Images cell
(only those that fit its width, the rest counted in "+K more"), and a label issue's score
as its Score cell reads it.

No Qt widgets here: plain geometry the delegate paints by and the table's clicks are
matched against, so the two always agree.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from workbench.qt.panels.data.health.findings import Finding

#: Thumbnail side in the rows, the gap between them, and the caption under each.
THUMB = 80
GAP = 10
CAPTION = 18
PAD = 4
#: The least width the Details column keeps when the Images column is fitted.
DETAILS_MIN = 240
#: Images of a group drawn at most (a "+N more" after them), and the room that takes.
MAX_SHOWN = 5
MORE_WIDTH = 60
ROW_HEIGHT = THUMB + CAPTION + 2 * PAD + 3  # 3: room for the chosen image's frame


def shown_images(f: Finding, width: int, chosen: int = -1) -> list[int]:
    """The images of ``f`` (not its examples) an Images cell ``width`` pixels wide draws,
    left to right: the first, up to :data:`MAX_SHOWN`, as many as fit with "+K more" after
    them (one at least); the ``chosen`` one (what Exclude acts on) in the last place where
    it is not among them, so it is always in sight."""
    total = len(f.paths)
    n = min(total, MAX_SHOWN)
    while n > 1 and PAD + n * (THUMB + GAP) - GAP // 2 + (
            MORE_WIDTH if n < total else 0) > width:
        n -= 1
    shown = list(range(n))
    if n <= chosen < total:
        shown[-1] = chosen
    return shown


def image_rects(f: Finding, cell: QRect, chosen: int = -1) -> list[QRect]:
    """Where each image of ``f`` drawn in ``cell`` is (:func:`shown_images`, then the
    examples that fit)."""
    n = len(shown_images(f, cell.width(), chosen))
    rects = [QRect(cell.left() + PAD + i * (THUMB + GAP), cell.top() + PAD, THUMB, THUMB)
             for i in range(n)]
    x = cell.left() + PAD + n * (THUMB + GAP) + 2 * GAP  # a gap, then the examples
    examples = [QRect(x + i * (THUMB + GAP), cell.top() + PAD, THUMB, THUMB)
                for i in range(len(f.examples))]
    return rects + [r for r in examples if r.right() <= cell.right()]


def image_at(f: Finding, cell: QRect, pos: QPoint, chosen: int = -1) -> int | None:
    """The image of ``f`` (not an example) drawn under ``pos``, or None (also for one
    left out under "+K more")."""
    shown = shown_images(f, cell.width(), chosen)
    for i, rect in zip(shown, image_rects(f, cell, chosen)):
        if rect.adjusted(-GAP // 2, 0, GAP // 2, CAPTION).contains(pos):
            return i
    return None


def cell_width(f: Finding) -> int:
    """The width of an Images cell that shows all ``f`` draws: up to :data:`MAX_SHOWN` of
    its images, its examples, and "+K more" in the :data:`MORE_WIDTH` it is drawn in."""
    n = min(len(f.paths), MAX_SHOWN) + len(f.examples)
    return (PAD * 2 + n * (THUMB + GAP) + (2 * GAP if f.examples else 0)
            + (MORE_WIDTH if len(f.paths) > MAX_SHOWN else 0))


def images_width(findings: list[Finding]) -> int:
    """The Images column's width that shows every row's images (at least two)."""
    return max([PAD * 2 + 2 * (THUMB + GAP)] + [cell_width(f) for f in findings])


def score_text(score: float) -> str:
    """A label issue's score as the Score column shows it: three decimals, more where
    three would round a score below 1 up to "1.000" (0.9999 and 0.9997 read "0.9999" and
    "0.9997", not both "1.000"), so scores that differ read differently."""
    digits = 3
    while digits < 6 and score < 1 and float(f"{score:.{digits}f}") >= 1:
        digits += 1
    return f"{score:.{digits}f}"
