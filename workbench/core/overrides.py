"""``--set PATH=VALUE`` options as text a person can paste into a shell:
:func:`set_option` and :func:`set_options`, the inverse of the command line's reading of
them (``workbench.cli.common.parse_sets``: the value is JSON where it parses, else text).

A value with spaces, quotes or brackets (``model.layers=[{"type": "Flatten"}, ...]``) is
shell-quoted as a whole: printed bare it was split into several arguments and the pasted
command failed with "unrecognized arguments".
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Mapping


def _value_text(value: Any) -> str:
    """``value`` as ``parse_sets`` reads it back: a string that is not JSON as itself
    (``fine_tune``), anything else (and a string that would read as JSON, ``"true"``) as
    JSON."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value)


def set_option(path: str, value: Any) -> str:
    """``--set training.early_stopping=true``, or ``--set 'model.layers=[...]'`` where
    the shell needs quotes."""
    return f"--set {shlex.quote(f'{path}={_value_text(value)}')}"


def set_options(values: Mapping[str, Any]) -> str:
    """Every ``path: value`` of ``values`` as ``--set`` options, space-separated."""
    return " ".join(set_option(k, v) for k, v in values.items())


__all__ = ["set_option", "set_options"]
