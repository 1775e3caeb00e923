"""Transform steps named the way a user sees them: "RandomResizedCrop (step 1) → scale".

A :class:`~workbench.core.errors.SpecError` names the field it is about by its path in the
Experiment (``augment.transforms[0].params.scale``): exact, but not what the Augment tab
shows. :func:`describe_spec_error` turns such a path into the transform's name, its place
in the list (counted from 1, as the list reads) and the parameter. Torch-free, so the CLI
may word its messages the same way.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

_STEP_FIELD = re.compile(r"^augment\.transforms\[(\d+)\](?:\.(?:type|params))?(?:\.(.+))?$")


def step_label(name: str, index: int) -> str:
    """``"RandomResizedCrop (step 1)"`` for the transform ``name`` at 0-based ``index``."""
    return f"{name} (step {int(index) + 1})"


def _type_of(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, dict):
        return str(t.get("type", ""))
    return str(getattr(t, "type", ""))


def user_field(field: str, transforms: Sequence[Any]) -> str:
    """A field path as the Augment tab shows it.

    Parameters
    ----------
    field
        A dotted path such as ``"augment.transforms[0].params.scale"``.
    transforms
        The experiment's ``augment.transforms`` (Components, dicts or names), for the name
        of the step.

    Returns
    -------
    str
        ``"RandomResizedCrop (step 1) → scale"``, ``"RandomResizedCrop (step 1)"`` for the
        step as a whole, or ``field`` unchanged when it is not about a transform step.
    """
    m = _STEP_FIELD.match(field or "")
    if m is None:
        return field
    i = int(m.group(1))
    name = _type_of(transforms[i]) if 0 <= i < len(transforms) else "transform"
    label = step_label(name or "transform", i)
    return f"{label} → {m.group(2)}" if m.group(2) else label


def describe_spec_error(error: Exception, transforms: Sequence[Any]) -> str:
    """The message of ``error`` with its field named by :func:`user_field`.

    ``"augment.transforms[0].params.scale: [1, 0.5] is not a range: put the smaller value
    first"`` becomes ``"RandomResizedCrop (step 1) → scale: [1, 0.5] is not a range: put
    the smaller value first"``; other errors keep their text.
    """
    field = getattr(error, "field", None)
    problem = getattr(error, "problem", None)
    if not field or problem is None:
        return str(error)
    return f"{user_field(field, transforms)}: {problem}"
