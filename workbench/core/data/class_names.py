"""Class names that look the same but are different strings.

An accented name can be written two ways in Unicode: composed (NFC, ``É`` as one code
point, as Windows and Linux write names) or decomposed (NFD, ``E`` and a combining accent,
as a Mac often writes them); a folder copied from a Mac keeps its NFD name. The two look
identical everywhere, yet compare unequal. Spaces at the start or end of a name (a rename
in a file manager) and case do the same to the eye.

- :func:`class_key`: the one rule by which a dataset's class names are matched to a
  model's: equal after NFC normalisation (:func:`match_classes`, and
  :func:`~workbench.core.runs.classes.same_classes` for the model choosers).
- :func:`look_alike_key` and :func:`look_alike_differences`: names that differ only in
  case, spaces at the ends or accent encoding (the warning of
  :func:`~workbench.core.data.layouts.case_clash_warnings`).
- :func:`closest_names`: the known names nearest to an unknown one, for a message.
- :func:`respelled_note`: the note naming the names :func:`match_classes` matched though
  spelled differently (a test/ part's folders to train/'s classes, a folder to a model's).
"""

from __future__ import annotations

import difflib
import unicodedata


def class_key(name: str) -> str:
    """``name`` in NFC: names with the same key are the same class to a model."""
    return unicodedata.normalize("NFC", str(name))


def look_alike_key(name: str) -> str:
    """``name`` in NFC, without spaces at its ends, case-folded: names with the same key
    look alike (or are one class spelled two ways)."""
    return class_key(name).strip().casefold()


def look_alike_differences(names: list[str]) -> list[str]:
    """How the names of one :func:`look_alike_key` differ: some of ``"accents"`` (the same
    after NFC), ``"spaces"`` (the same without spaces at the ends) and ``"case"``."""
    nfc = [class_key(n) for n in names]
    found = {"accents": any(n != k for n, k in zip(names, nfc)),
             "spaces": any(k != k.strip() for k in nfc),
             "case": len({k.strip() for k in nfc}) > 1}  # apart once both are undone
    return [what for what, differs in found.items() if differs]


def match_classes(classes: list[str], model: list[str]
                  ) -> tuple[list[int | None], list[tuple[str, str]]]:
    """A dataset's ``classes`` matched to a ``model``'s class names.

    Returns
    -------
    (labels, respelled)
        ``labels[i]``: the index into ``model`` of ``classes[i]`` (None when the model has
        no such class); ``respelled``: ``(class, model class)`` pairs matched by
        :func:`class_key` though the strings differ (accents encoded another way). A name
        the model has as it is always matches that name.
    """
    exact = {c: i for i, c in enumerate(model)}
    by_key: dict[str, list[int]] = {}
    for i, c in enumerate(model):
        by_key.setdefault(class_key(c), []).append(i)
    labels: list[int | None] = []
    respelled: list[tuple[str, str]] = []
    for c in classes:
        if c in exact:
            labels.append(exact[c])
            continue
        found = by_key.get(class_key(c), [])
        labels.append(found[0] if len(found) == 1 else None)  # two alike: no guessing
        if len(found) == 1:
            respelled.append((c, model[found[0]]))
    return labels, respelled


def closest_names(name: str, choices: list[str], n: int = 3) -> list[str]:
    """The ``choices`` spelled most like ``name`` (case, spaces at the ends and accent
    encoding aside), closest first: up to ``n`` spellings, each with the choices that
    look alike; [] when none is close."""
    keys: dict[str, list[str]] = {}
    for c in choices:
        keys.setdefault(look_alike_key(c), []).append(c)
    return [c for k in difflib.get_close_matches(look_alike_key(name), list(keys), n)
            for c in keys[k]]


def shown(name: str) -> str:
    """``repr(name)``, followed by `` (NFD)`` when its accents are not encoded as NFC."""
    return repr(name) + (" (NFD)" if class_key(name) != name else "")


def respelled_note(respelled: list[tuple[str, str]], what: str, whose: str, done: str) -> str:
    """A note on the ``(name, class)`` pairs :func:`match_classes` matched though their
    accents are encoded differently, each side marked by :func:`shown`, so the note says
    which is the NFD one: ``respelled_note(pairs, "class folder", "the model's",
    "evaluated as")`` gives "the class folder 'été' (NFD) is the model's class 'été' with
    its accents encoded differently (NFD is how a Mac often writes names): evaluated as
    that class" (the first five pairs, then "...")."""
    many = len(respelled) > 1
    more = " ..." if len(respelled) > 5 else ""
    names = ", ".join(shown(c) for c, _ in respelled[:5]) + more
    theirs = ", ".join(shown(m) for _, m in respelled[:5]) + more
    return (f"the {what}{'s' * many} {names} {'are' if many else 'is'} {whose} "
            f"class{'es' * many} {theirs} with {'their' if many else 'its'} accents encoded "
            f"differently (NFD is how a Mac often writes names): {done} "
            f"{'those classes' if many else 'that class'}")
