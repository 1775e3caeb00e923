"""Class names that differ by a direction word, and the flips and rotations that swap them.

A horizontal flip turns a left arrow into a right one; a quarter turn turns it into an up
arrow. Class names say which: "turn_left"/"turn_right", "TurnLeft"/"TurnRight",
"leftArrow"/"rightArrow", "leftturn"/"rightturn". A name is read as its letters and digits,
lower case, with each direction word (:data:`_DIRECTIONS`) standing for its axis and side,
wherever it is in the name ("Turn-Left", "turn_left", "TurnLeft" and "turnleft" read alike);
two names are swapped by a transform when it maps one's directions onto the other's and
the rest is the same. "Bright" and "Blight" are no pair (no direction word in "blight"), nor
"upright" and "right" (the rest differs); single letters ("L"/"R") are no direction words.
:func:`direction_pairs` and :func:`direction_sensitivity` are the flips' judgement,
:func:`rotation_limit` the rotations'; :mod:`.hints` words the hints. Torch-free.
"""

from __future__ import annotations

import functools
from typing import Sequence

#: The flips, horizontal first.
FLIP_NAMES = ("RandomHorizontalFlip", "RandomVerticalFlip")
#: Direction words: (axis, side). Class names that differ only in such words, same axis,
#: other side ("turn_left"/"turn_right"), are told apart by what a flip swaps.
_DIRECTIONS = {"left": ("h", 0), "right": ("h", 1), "up": ("v", 0), "down": ("v", 1),
               "cw": ("r", 0), "clockwise": ("r", 0), "ccw": ("r", 1),
               "anticlockwise": ("r", 1), "counterclockwise": ("r", 1)}
#: Longest first: "counterclockwise" is read before the "clockwise" in it, "ccw" before "cw".
_WORDS = sorted(_DIRECTIONS, key=len, reverse=True)
#: Each axis in words, and the flips that swap its sides (either mirror turns a clockwise
#: arrow counterclockwise).
_AXES = {"h": ("left and right", FLIP_NAMES[:1]), "v": ("up and down", FLIP_NAMES[1:]),
         "r": ("clockwise and counterclockwise", FLIP_NAMES)}
#: What each transform makes of a direction (one left out: kept).
_FLIPPED = {flip: {(axis, side): (axis, 1 - side) for axis in axes for side in (0, 1)}
            for flip, axes in (("RandomHorizontalFlip", "hr"), ("RandomVerticalFlip", "vr"))}
_HALF_TURN = {(axis, side): (axis, 1 - side) for axis in "hv" for side in (0, 1)}
_QUARTER_TURN = {("h", 1): ("v", 0), ("v", 0): ("h", 0), ("h", 0): ("v", 1),
                 ("v", 1): ("h", 1)}  # counterclockwise: right -> up -> left -> down
_BACK_TURN = {b: a for a, b in _QUARTER_TURN.items()}
#: A rotation up to more than this many degrees may turn one class into the other when two
#: class names are a quarter-turn apart ("left"/"up"): past 45 degrees a left arrow looks
#: more like an up arrow than a left one.
QUARTER_TURN_LIMIT = 45.0
#: ... and when they are a half-turn apart ("left"/"right", "up"/"down").
HALF_TURN_LIMIT = 90.0


def _form(name: str) -> tuple:
    """``name`` as its letters and digits, lower case, each direction word replaced by its
    (axis, side): ``"TurnLeft"`` -> ``("t", "u", "r", "n", ("h", 0))``."""
    text = "".join(c for c in str(name).strip().lower() if c.isalnum())
    out: list = []
    i = 0
    while i < len(text):
        word = next((w for w in _WORDS if text.startswith(w, i)), None)
        out.append(_DIRECTIONS[word] if word else text[i])
        i += len(word) if word else 1
    return tuple(out)


def _turned(form: tuple, mapping: dict) -> tuple:
    return tuple(mapping.get(x, x) if isinstance(x, tuple) else x for x in form)


#: The mappings each judgement looks for: the flips, then a rotation's quarter and half turns.
_MAPPINGS = {**{flip: (_FLIPPED[flip],) for flip in FLIP_NAMES},
             "quarter": (_QUARTER_TURN, _BACK_TURN), "half": (_HALF_TURN,)}


@functools.lru_cache(maxsize=8)
def _swaps(classes: tuple[str, ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    """The pairs of ``classes`` each of :data:`_MAPPINGS` turns into each other, in the
    classes' order: ``{"RandomHorizontalFlip": (("left", "right"),), "half": ...}``.

    Only names with a direction word can pair; each one's turned form is looked up, so this
    is linear in the names (label hints ask it several times per edit, on the GUI thread,
    for folders of 1000 classes: kept for the last few lists of names)."""
    forms: dict[tuple, list[int]] = {}
    for i, name in enumerate(classes):
        form = _form(name)
        if any(isinstance(x, tuple) for x in form):
            forms.setdefault(form, []).append(i)
    out = {}
    for key, mappings in _MAPPINGS.items():
        found = set()
        for form, ones in forms.items():
            for m in mappings:
                turned = _turned(form, m)
                others = forms.get(turned, ()) if turned != form else ()
                found.update((min(i, j), max(i, j)) for i in ones for j in others)
        out[key] = tuple((classes[i], classes[j]) for i, j in sorted(found))
    return out


def _swapped(classes: Sequence[str], key: str) -> list[tuple[str, str]]:
    """The pairs of ``classes`` that :data:`_MAPPINGS` ``[key]`` turns into each other."""
    return list(_swaps(tuple(str(c) for c in classes))[key])


def direction_pairs(classes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Pairs of class names that differ only by direction words, by the flip that swaps
    them: ``{"RandomHorizontalFlip": [("left_arrow", "right_arrow")]}``.

    The words: left/right (a horizontal flip swaps them), up/down (a vertical flip),
    cw/ccw and clockwise/anticlockwise/counterclockwise (either flip); any case, anywhere in
    the name ("turn_left", "TurnLeft", "leftturn"). Single letters ("L"/"R") do not count.
    """
    found: dict[str, list[tuple[str, str]]] = {}
    for flip in FLIP_NAMES:
        pairs = _swapped(classes, flip)
        if pairs:
            found[flip] = pairs
    return found


def _axes(a: str, b: str) -> set[str]:
    """The axes of the direction words in which ``a`` and ``b`` differ."""
    return {x[0] for x, y in zip(_form(a), _form(b)) if x != y and isinstance(x, tuple)}


def _shown(pairs: list[tuple[str, str]]) -> str:
    more = f" and {len(pairs) - 3} more pairs" if len(pairs) > 3 else ""
    return ", ".join(f"{a!r}/{b!r}" for a, b in pairs[:3]) + more


def direction_sensitivity(classes: Sequence[str]) -> dict[str, str]:
    """Why each flip may change these classes' labels, by flip name: ``{"RandomHorizontalFlip":
    "the classes 'left_arrow'/'right_arrow' differ only by left and right"}``; empty when no
    two classes differ only by a direction (see :func:`direction_pairs`)."""
    out = {}
    for flip, ps in direction_pairs(classes).items():
        axes = {axis for a, b in ps for axis in _axes(a, b)}
        what = " or ".join(_AXES[k][0] for k in _AXES if k in axes)
        out[flip] = f"the classes {_shown(ps)} differ only by {what}"
    return out


def rotation_limit(classes: Sequence[str]) -> tuple[float, str] | None:
    """The largest rotation (degrees) that keeps these classes' directions, and why:
    :data:`QUARTER_TURN_LIMIT` when two class names are a quarter-turn apart ("left"/"up"),
    else :data:`HALF_TURN_LIMIT` when two are a half-turn apart ("left"/"right",
    "up"/"down"); None when none are (clockwise and counterclockwise stay what they are)."""
    quarter = _swapped(classes, "quarter")
    if quarter:
        return QUARTER_TURN_LIMIT, f"the classes {_shown(quarter)} are a quarter-turn apart"
    half = _swapped(classes, "half")
    if half:
        return HALF_TURN_LIMIT, f"the classes {_shown(half)} are a half-turn apart"
    return None
