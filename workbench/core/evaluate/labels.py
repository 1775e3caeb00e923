"""Class names cut to fit a label, keeping the part that tells them apart.

Many datasets name their classes with a long shared start ("species_033_warbler",
"species_034_finch", "n01440764_tench") or a long shared end. Cutting every name in the
middle, or at a fixed number of characters, can remove exactly the part that differs, so
that the labels of a confusion matrix all read alike. :func:`elide_names` cuts each name
so that its label still shows where it parts from every other name:

- a name that fits is shown whole;
- otherwise its start is kept and its end cut ("Black-throated_blue_war…") when that
  still shows its first character that no other name shares at that place;
- otherwise (the shared start is too long to show) a short head, "…", and the name from
  the word where it parts from the others ("spe…033_warbler_adult_m…").

Widths come from a ``width(text) -> float`` function: the GUI passes its font's metrics,
the HTML report an estimate (:func:`estimate_width`) for the browser's sans-serif font.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, Sequence

ELLIPSIS = "…"
#: Characters where a name's words part: a cut starts after one of them when it can.
_SEPARATORS = " _-./:,"
#: At most this many characters of the shared start are kept before "…".
_HEAD = 3


def estimate_width(text: str, size: float = 11.0) -> float:
    """About how wide ``text`` is in a sans-serif font of ``size`` pixels (generous, so a
    label estimated to fit does fit): wide (CJK) characters and emoji count one em,
    narrow ones a third, combining marks nothing."""
    total = 0.0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
            continue
        if unicodedata.east_asian_width(ch) in "WF" or ord(ch) > 0xFFFF:
            total += 1.0
        elif ch in "iljtfrI.,:;'|!() ":
            total += 0.36
        elif ch.isupper() or ch in "mwMW@%&":
            total += 0.8
        else:
            total += 0.6
    return total * size


def _common_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def shared_starts(names: Sequence[str]) -> list[int]:
    """For each name, the length of the longest start it shares with another name (its
    first character from there on is what tells it apart)."""
    order = sorted(range(len(names)), key=lambda i: names[i])
    out = [0] * len(names)
    for a, b in zip(order, order[1:]):  # sorted neighbours share the longest starts
        n = _common_start(names[a], names[b])
        out[a], out[b] = max(out[a], n), max(out[b], n)
    return out


def _longest_fit(text: str, limit: float, width: Callable[[str], float],
                 suffix: str = ELLIPSIS, prefix: str = "") -> int:
    """The most characters of ``text`` whose ``prefix + text[:n] + suffix`` fits."""
    lo, hi = 0, len(text)
    while lo < hi:  # binary search: widths grow with the characters kept
        mid = (lo + hi + 1) // 2
        if width(prefix + text[:mid] + suffix) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def elide(name: str, shared: int, limit: float, width: Callable[[str], float]) -> str:
    """``name`` cut to ``limit`` (see the module docstring); ``shared``: the length of the
    start it shares with another name (from :func:`shared_starts`)."""
    if width(name) <= limit:
        return name
    keep = _longest_fit(name, limit, width)
    if keep > min(shared, len(name) - 1):  # shows where it parts from the others
        return name[:keep] + ELLIPSIS
    # The shared start is too long: skip it, from the start of the word that differs.
    start = shared
    while start > 0 and name[start - 1] not in _SEPARATORS and shared - start < 8:
        start -= 1
    if start == 0 or name[start - 1] not in _SEPARATORS:
        start = shared  # no word start nearby: from the first differing character
    rest = name[start:]
    # With room to spare, as much of the start as fits beside the whole rest
    # ("Amanita_muscaria_var…20", not "Ama…20"): it names the group the rest is of.
    n = _longest_fit(name[:start], limit, width, suffix=ELLIPSIS + rest)
    if n > _HEAD:
        return name[:n] + ELLIPSIS + rest
    for head in (name[:min(_HEAD, start)], ""):
        lead = head + ELLIPSIS
        if width(lead + rest) <= limit:
            return lead + rest
        n = _longest_fit(rest, limit, width, prefix=lead)
        if n >= min(len(rest), 2) or not head:
            return lead + rest[:max(n, 1)] + ELLIPSIS
    return ELLIPSIS  # pragma: no cover  (the loop always returns)


def elide_names(names: Sequence[str], limit: float,
                width: Callable[[str], float] = estimate_width) -> list[str]:
    """Every name cut to ``limit`` (in ``width``'s units) so that the labels stay apart."""
    names = [str(n) for n in names]
    return [elide(n, s, limit, width) for n, s in zip(names, shared_starts(names))]
