"""A labelled dataset's classes matched to a model's, for an evaluation.

:func:`model_labels` matches them by name with the one rule of
:func:`~workbench.core.data.class_names.match_classes`: a folder whose name differs from
a model's class only in how its accents are encoded (one of them NFD, from a Mac) is that
class, and a note says so, marking which is the NFD one. A name the model does not know
(:func:`unknown_classes`: the app's Evaluate tab asks it too, before Evaluate is pressed)
refuses the evaluation, naming the model's classes spelled most like it.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import DataError

#: The model's classes a refusal lists when none is spelled like the unknown name.
LISTED = 10


def model_labels(index: Any, model: list[str], notes: list | None = None) -> list[int]:
    """The index into ``model`` of each of ``index.classes``.

    Parameters
    ----------
    index
        The scanned dataset (``classes`` and ``root``).
    model
        The model's class names, in its output order.
    notes
        Gets a note naming the dataset classes matched though their accents are encoded
        differently.

    Raises
    ------
    DataError
        When the dataset has a class the model does not know: it names the model's
        classes closest to it (or the first few, when none is close).
    """
    from workbench.core.data.class_names import match_classes, respelled_note

    unknown = unknown_classes(index.classes, model)
    if unknown:
        raise DataError(unknown_message(index.root, unknown, list(model)))
    labels, respelled = match_classes(list(index.classes), list(model))
    if respelled and notes is not None:  # (the folder or the model's class in NFD)
        notes.append(respelled_note(respelled, "class folder", "the model's", "evaluated as"))
    return [int(label) for label in labels]


def unknown_classes(classes: list[str], model: list[str]) -> list[str]:
    """The dataset's ``classes`` that the ``model`` (its class names) does not know, by the
    rule :func:`model_labels` evaluates with."""
    from workbench.core.data.class_names import match_classes

    labels, _ = match_classes(list(classes), list(model))
    return [c for c, label in zip(classes, labels) if label is None]


def named_classes(names: list[str]) -> str:
    """``"class 'a'"`` or ``"classes 'a', 'b' ..."`` (the first five): the classes a
    message names."""
    return f"class{'es' if len(names) > 1 else ''} " + \
        ", ".join(repr(c) for c in names[:5]) + (" ..." if len(names) > 5 else "")


def unknown_message(root: str, unknown: list[str], model: list[str]) -> str:
    """Why the dataset at ``root`` cannot be evaluated: its classes ``unknown`` are not
    among the ``model``'s; the model's classes closest to each, or its first few."""
    from workbench.core.data.class_names import closest_names

    many = len(unknown) > 1
    close = [(c, closest_names(c, model)) for c in unknown[:5]]
    close = [(c, found) for c, found in close if found]
    if close:
        near = "; ".join((f"for {c!r}: " if many else "") + ", ".join(repr(m) for m in found)
                         for c, found in close)
        known = f"the closest of its {len(model)} classes: {near}"
    else:
        known = "it was trained on: " + ", ".join(repr(c) for c in model[:LISTED]) + \
            (f" and {len(model) - LISTED} more" if len(model) > LISTED else "")
    them = "them" if many else "it"
    return (f"{root} has {named_classes(unknown)} that the model does not know "
            f"({known}); remove or rename {them}, or evaluate a model trained on {them}")
