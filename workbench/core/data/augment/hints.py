"""Hints (not errors) where an augmentation may change what an image shows.

A vertical flip turns a 6 into a 9; a mirror turns a 3 into no digit at all; a hue shift
turns a red traffic light green. Such an augmentation teaches the network the wrong label.
:func:`augmentation_hints` spots the likely cases from the class names (and, optionally, the
dataset's name and each class's mean colour) so the Augment panel can say so; the user
decides, helped by a one-click fix (:func:`label_hints`, :mod:`.fixes`).
:func:`mirror_sensitivity` is the same judgement for the defaults a new dataset gets
(:mod:`..defaults`): no flip for digits, letters or text. Which flips and rotations swap
classes named by a direction ("turn_left"/"turn_right", "TurnLeft"/"TurnRight") is
judged in :mod:`.directions`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

from workbench.core.data.augment.directions import direction_pairs  # noqa: F401 (re-exported)
from workbench.core.data.augment.directions import direction_sensitivity, rotation_limit
from workbench.core.data.augment.fixes import FLIPS, Fix, Hint, remove, set_params

#: Threshold on the largest rotation (degrees) above which glyph-like classes get a hint.
LARGE_ROTATION = 30.0
#: The largest rotation (degrees) each policy may draw, as torchvision defines them:
#: TrivialAugmentWide's wide space rotates by up to 135 degrees, AutoAugment's policies by
#: up to 30; RandAugment by its magnitude in degrees (see :func:`largest_rotation`).
POLICY_ROTATION = {"TrivialAugmentWide": 135.0, "AutoAugment": 30.0}
#: ColorJitter's hue above this gets a hint (a shift of 0.05 of a turn keeps red red).
SAFE_HUE = 0.05
#: ColorJitter's saturation above this gets a hint (a factor in [0.9, 1.1] keeps colours).
SAFE_SATURATION = 0.1
#: Class mean colours (RGB in [0, 1]) further apart than this count as "far apart".
COLOUR_DISTANCE = 0.25

_NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten"}
_COLOUR_WORDS = {"red", "green", "blue", "yellow", "orange", "purple", "pink", "brown",
                 "black", "white", "gray", "grey", "cyan", "magenta", "violet", "golden",
                 "gold", "silver", "amber", "teal", "turquoise", "beige", "maroon"}
# Pairs one transform turns into each other.
_UPSIDE_DOWN = [("6", "9"), ("six", "nine"), ("b", "q"), ("d", "p"), ("n", "u"), ("m", "w")]
_MIRROR = [("b", "d"), ("p", "q")]
#: Words in a class or dataset name that say its images are digits, letters or text (whole
#: words: "text" matches "text_a", not "texture").
_SAYS = {
    "digits": {"digit", "digits", "numeral", "numerals", "number", "numbers", "mnist",
               "qmnist", "svhn"},
    "letters or characters": {"letter", "letters", "alphabet", "alphabets", "character",
                              "characters", "char", "chars", "glyph", "glyphs", "emnist",
                              "kmnist", "kanji", "hiragana", "katakana", "omniglot", "font",
                              "fonts"},
    "text or handwriting": {"text", "texts", "word", "words", "handwriting", "handwritten",
                            "writing", "ocr", "captcha", "captchas", "calligraphy"},
}
#: Words that take a dataset out of those: Fashion-MNIST is clothes, not digits.
_NOT_GLYPHS = {"fashion"}
#: Folder names that say nothing about the dataset (then its parent folder's name counts).
_GENERIC_FOLDERS = {"train", "training", "test", "testing", "val", "valid", "validation",
                    "data", "dataset", "datasets", "images", "imgs", "img", "all", "raw",
                    "photos", "pictures"}


def _norm(name: str) -> str:
    return str(name).strip().lower()


def _glyph_like(name: str) -> bool:
    """A digit, a single letter or character, or a number word ("six", "nine")."""
    n = _norm(name)
    return len(n) == 1 or n.isdigit() or n in _NUMBER_WORDS


def _glyph_kind(names: Sequence[str]) -> str:
    """What glyph-like ``names`` look like: "digits", "letters", "digits and letters"..."""
    digits = any(_norm(n).isdigit() or _norm(n) in _NUMBER_WORDS for n in names)
    letters = any(len(_norm(n)) == 1 and _norm(n).isalpha() for n in names)
    if digits and letters:
        return "digits and letters"
    if digits:
        return "digits"
    return "letters" if letters else "characters"


def _words(name: str) -> list[str]:
    out, cur = [], ""
    for ch in _norm(name):
        if ch.isalpha():
            cur += ch
        elif cur:
            out.append(cur)
            cur = ""
    return out + ([cur] if cur else [])


def _colour_named(name: str) -> bool:
    return any(w in _COLOUR_WORDS for w in _words(name))


def _listing(names: Sequence[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _says(names: Sequence[str]) -> str | None:
    """The kind ("digits", "letters or characters"...) the words of ``names`` say, if any."""
    words = {w for n in names for w in _words(n)}
    if words & _NOT_GLYPHS:
        return None
    return next((kind for kind, says in _SAYS.items() if words & says), None)


def dataset_name(folder: str) -> str:
    """The telling part of a dataset path: its folder's name, or the parent's when the
    folder is generic (``mnist/train`` -> ``mnist``); a CSV file's name without ``.csv``.
    Also the first part of a run's suggested name (:mod:`workbench.core.runs.names`)."""
    parts = [p for p in str(folder).replace("\\", "/").split("/") if p]
    if parts and parts[-1].lower().endswith((".csv", ".tsv")):
        parts[-1] = parts[-1][:-4]
    while len(parts) > 1 and parts[-1].lower() in _GENERIC_FOLDERS:
        parts.pop()
    return parts[-1] if parts else ""


def mirror_sensitivity(classes: Sequence[str], folder: str = "") -> str | None:
    """Why a mirror (a horizontal flip) may change these classes' labels, or None.

    Parameters
    ----------
    classes
        The class names.
    folder
        The dataset folder (or CSV file); its name counts too ("mnist", "letters").

    Returns
    -------
    str or None
        A phrase naming the classes, e.g. ``"the classes ('0', '1', '2' and 7 more) look
        like digits"``, ``"the class names ('digit_0', ...) say they are digits"`` or
        ``"the dataset's name 'emnist-letters' says its classes ('a', ...) are letters or
        characters"``; None for classes a
        mirror leaves alone (photos of cats and dogs). Mirror-sensitive: more than half the
        classes are single digits, letters or characters, or number words ("17" and "102"
        do not count: numbered classes may be anything); or more than
        half the class names, or the dataset's name, say digits, letters or text.
    """
    classes = [str(c) for c in classes]
    if not classes:
        return None
    # One character or a number word: "17" or "102" may as well be a species' number.
    glyphs = [c for c in classes if len(_norm(c)) == 1 or _norm(c) in _NUMBER_WORDS]
    if 2 * len(glyphs) > len(classes):
        return f"the classes ({_listing(glyphs)}) look like {_glyph_kind(glyphs)}"
    telling = [c for c in classes if _says([c])]
    if 2 * len(telling) > len(classes) and _says(telling):
        return f"the class names ({_listing(telling)}) say they are {_says(telling)}"
    name = dataset_name(folder)
    kind = _says([name]) if name else None
    if kind:
        return f"the dataset's name {name!r} says its classes ({_listing(classes)}) are {kind}"
    return None


def label_changing_hints(experiment: Any, classes: Sequence[str]) -> list[str]:
    """The texts of the hints where ``experiment``'s training augmentation may change an
    image's label (:func:`augmentation_hints` on its transforms, its dataset folder's name
    counting too); empty when none, or when the experiment cannot be read. For the
    training doctor, to ask whether the augmentation is why a run does not learn."""
    try:
        transforms = list(experiment.augment.transforms)
        folder = str(getattr(experiment.data, "folder", "") or "")
        return augmentation_hints(classes, transforms, folder=folder)
    except Exception:  # noqa: BLE001 - a hint never stands in the way
        return []


def _spec(t: Any) -> tuple[str, dict]:
    """(type, params with defaults filled) of a Component, a {"type", "params"} dict or a
    bare name."""
    if isinstance(t, str):
        name, params = t, {}
    elif isinstance(t, dict):
        name, params = t.get("type", ""), dict(t.get("params") or {})
    else:
        name, params = getattr(t, "type", ""), dict(getattr(t, "params", {}) or {})
    try:
        from workbench.core.data.augment.transforms import TRANSFORMS

        if name in TRANSFORMS:
            filled = TRANSFORMS.get(name).defaults()
            filled.update(params)
            params = filled
    except Exception:  # noqa: BLE001 - hints never fail; use what was given
        pass
    return name, params


def _far_apart(class_colours: dict | None, classes: Sequence[str]) -> list[str]:
    """Classes whose mean colours are far from some other class's (empty if none)."""
    if not class_colours:
        return []
    cols = {c: [float(v) for v in class_colours[c]] for c in classes if c in class_colours}
    if len(cols) < 2:
        return []
    scale = 255.0 if any(v > 1.0 for rgb in cols.values() for v in rgb) else 1.0
    far: list[str] = []
    for a, b in itertools.combinations(cols, 2):
        ca, cb = cols[a], cols[b]
        if len(ca) == 1:
            ca = ca * 3
        if len(cb) == 1:
            cb = cb * 3
        d = math.dist([v / scale for v in ca[:3]], [v / scale for v in cb[:3]])
        if d > COLOUR_DISTANCE:
            far += [c for c in (a, b) if c not in far]
    return [c for c in classes if c in far]


def augmentation_hints(classes: Sequence[str], transforms: Sequence[Any],
                       class_colours: dict | None = None, folder: str = "") -> list[str]:
    """Hints where an augmentation in ``transforms`` may change an image's label.

    Parameters
    ----------
    classes
        The class names.
    transforms
        The training transforms: :class:`~workbench.core.registry.Component` objects,
        ``{"type": ..., "params": {...}}`` dicts or bare names; missing parameters take
        their registry defaults.
    class_colours
        Optional class -> mean colour of a few of its images, ``(r, g, b)`` in [0, 1] or
        0-255; classes whose means are far apart count as told apart by colour.
    folder
        Optional dataset folder: a name like "mnist" or "letters" makes its classes
        mirror-sensitive (see :func:`mirror_sensitivity`).

    Returns
    -------
    list of str
        One sentence per (transform, reason), naming the transform and the classes, in the
        order of ``transforms``; empty when nothing looks risky. These are hints, never
        errors: orientation or colour may not matter for the user's data. The texts of
        :func:`label_hints`, which also carry the one-click fixes.
    """
    return [h.text for h in label_hints(classes, transforms, class_colours, folder)]


def label_hints(classes: Sequence[str], transforms: Sequence[Any],
                class_colours: dict | None = None, folder: str = "") -> list[Hint]:
    """:func:`augmentation_hints` as :class:`~.fixes.Hint` objects, each with its fix.

    A flip also gets a hint when two classes differ only by a direction it swaps
    (:func:`direction_sensitivity`). The fixes: remove the flips (one button for all, key
    :data:`~.fixes.FLIPS`); limit a
    rotation to :data:`LARGE_ROTATION` degrees (digits, letters), or to 45 or 90 degrees
    where class names are a quarter or a half turn apart, "left"/"up" or "left"/"right"
    (:func:`~.directions.rotation_limit`), or remove a policy that rotates past that
    (TrivialAugmentWide, up to 135 degrees: :func:`largest_rotation`); set ColorJitter's
    hue to 0 and/or its saturation to :data:`SAFE_SATURATION` (only what is not so
    already); remove a Grayscale or RandomGrayscale.
    """
    classes = [str(c) for c in classes]
    lowered = {_norm(c): c for c in classes}
    glyphs = [c for c in classes if _glyph_like(c)]
    upside = [(lowered[a], lowered[b]) for a, b in _UPSIDE_DOWN if a in lowered and b in lowered]
    mirror = [(lowered[a], lowered[b]) for a, b in _MIRROR if a in lowered and b in lowered]
    mirrored = mirror_sensitivity(classes, folder)
    dirs = direction_sensitivity(classes)
    turns = rotation_limit(classes) or (math.inf, "")
    named = [c for c in classes if _colour_named(c)]
    by_colour = named if len(named) >= 2 else _far_apart(class_colours, classes)
    why_colour = ("their names are colours" if len(named) >= 2 else
                  "their images' average colours are far apart")

    def pairs(ps: list[tuple[str, str]]) -> str:
        return ", ".join(f"{a!r}/{b!r}" for a, b in ps)

    def flip(i: int, name: str) -> Fix:
        return remove(i, name, "Remove the flip", key=FLIPS, many="Remove the flips")

    hints: list[Hint] = []
    for i, t in enumerate(transforms):
        name, p = _spec(t)
        swaps = [f"{dirs[name]}, which it swaps"] if name in dirs else []
        if name == "RandomVerticalFlip" and (glyphs or mirrored or swaps) and \
                p.get("p", 0.5) > 0:
            turn = (f"; upside down, {pairs(upside)} turn into each other" if upside else "")
            what = (f"classes {_listing(glyphs)} look like digits or letters" if glyphs
                    else mirrored)
            why = "; ".join(([f"{what}{turn}"] if what else []) + swaps)
            hints.append(Hint(f"{name} may change the label: {why}. Remove it unless "
                              f"upside-down versions keep their class.", i, flip(i, name)))
        elif name == "RandomHorizontalFlip" and (mirror or mirrored or swaps) and \
                p.get("p", 0.5) > 0:
            why = [f"{mirrored}, which a mirror changes"] if mirrored else []
            why += [f"mirrored, {pairs(mirror)} turn into each other"] if mirror else []
            advice = ("for digits, letters and text" if mirror or mirrored else
                      "unless mirrored images keep their class")
            hints.append(Hint(f"{name} may change the label: {'; '.join(why + swaps)}. "
                              f"Remove it {advice}.", i, flip(i, name)))
        elif largest_rotation(name, p) > (LARGE_ROTATION if glyphs else turns[0]):
            limit, why = (LARGE_ROTATION, f"classes {_listing(glyphs)} look like digits or "
                          f"letters" + (f" ({pairs(upside)} are a half-turn apart)"
                                        if upside else "")) if glyphs else turns
            hints.append(_rotation_hint(i, name, largest_rotation(name, p), limit, why))
        elif name == "ColorJitter" and by_colour:
            hint = _jitter_hint(i, name, p, by_colour, why_colour)
            if hint is not None:
                hints.append(hint)
        elif name in ("Grayscale", "RandomGrayscale") and by_colour and p.get("p", 1) > 0:
            hints.append(Hint(
                f"{name} removes colour, which classes {_listing(by_colour)} seem told "
                f"apart by ({why_colour}). Remove it unless shape alone tells them apart.",
                i, remove(i, name)))
    return hints


def largest_rotation(name: str, p: dict) -> float:
    """The largest rotation (degrees) step ``name`` with parameters ``p`` may draw: a
    RandomRotation's or RandomAffine's ``degrees``, a policy's :data:`POLICY_ROTATION`,
    RandAugment's ``magnitude`` (its rotations go from 0 to 30 degrees over magnitudes
    0-30); 0 for any other step."""
    if name in ("RandomRotation", "RandomAffine"):
        return _num(p.get("degrees"))
    if name == "RandAugment":
        return _num(p.get("magnitude"))
    return POLICY_ROTATION.get(name, 0.0)


def _rotation_hint(i: int, name: str, degrees: float, limit: float, why: str) -> Hint:
    """A rotation past ``limit`` may change the label (``why``): the fix limits a
    rotation's ``degrees``, or removes a policy (whose rotations have no setting)."""
    if name in ("RandomRotation", "RandomAffine"):
        fix = set_params(i, name, {"degrees": limit}, f"Limit rotation to {limit:g}°",
                         key="rotation")
        return Hint(f"{name} rotates up to {degrees:g} degrees, which may change the label: "
                    f"{why}. Keep it at {limit:g} degrees or less.", i, fix)
    instead = (f"lower its magnitude to {limit:g} or less" if name == "RandAugment" else
               "use RandAugment instead (it rotates by its magnitude in degrees, 30 at "
               "most)")
    return Hint(f"{name} rotates up to {degrees:g} degrees (one of its random operations), "
                f"which may change the label: {why}. Keep rotations at {limit:g} degrees or "
                f"less: {instead}, or remove it.", i, remove(i, name))


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _jitter_hint(i: int, name: str, p: dict, by_colour: list[str], why: str) -> Hint | None:
    """The ColorJitter hint: only the hue and saturation it has too much of, and a fix
    that changes only those."""
    hue, sat = _num(p.get("hue")), _num(p.get("saturation"))
    change: dict[str, float] = {}
    if hue > SAFE_HUE:
        change["hue"] = 0.0
    if sat > SAFE_SATURATION:
        change["saturation"] = SAFE_SATURATION
    if not change:
        return None
    what = ", ".join(f"{k} {v:g}" for k, v in (("hue", hue), ("saturation", sat))
                     if k in change)
    advice = []
    if "hue" in change:
        advice.append("set hue to 0")
    if "saturation" in change:
        advice.append(f"lower saturation to {SAFE_SATURATION:g} or less")
    todo = " and ".join(advice)
    label = ", ".join(f"{k} to {v:g}" for k, v in change.items())
    fix = set_params(i, name, change, ("Set " if "hue" in change else "Lower ") + label)
    return Hint(f"{name} ({what}) may change the label: classes {_listing(by_colour)} seem "
                f"told apart by colour ({why}). {todo[0].upper()}{todo[1:]}, or remove it.",
                i, fix)


def class_mean_colours(index: Any, per_class: int = 8, size: int = 32,
                       is_cancelled: Any = None) -> dict[str, list[float]]:
    """Mean RGB colour (0-1) of a few images of each class, for the colour hints.

    Parameters
    ----------
    index
        A scanned :class:`~workbench.core.data.index.DatasetIndex`.
    per_class
        Images read per class, spread evenly over the class (deterministic).
    size
        Images are shrunk to ``size`` x ``size`` first: the mean barely changes, the cost does.
    is_cancelled
        Optional callable; when it returns true the colours found so far are returned.

    Unreadable images are skipped; a class with none readable is left out.
    """
    import numpy as np

    from workbench.core.errors import ImageDecodeError
    from workbench.core.data.images import load_image

    by_class: dict[int, list[str]] = {}
    for path, label in index.samples:
        by_class.setdefault(label, []).append(path)
    colours: dict[str, list[float]] = {}
    for label, paths in sorted(by_class.items()):
        step = max(1, len(paths) // per_class)
        sums, n = np.zeros(3), 0
        for path in paths[::step][:per_class]:
            if is_cancelled is not None and is_cancelled():
                return colours
            try:
                img = load_image(path, 3, min_side=2 * size).resize((size, size))
            except (ImageDecodeError, OSError, ValueError):
                continue
            sums += np.asarray(img, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255.0
            n += 1
        if n:
            colours[index.classes[label]] = [float(v) for v in sums / n]
    return colours

