"""What every command shares: the exit codes, :class:`UserError`, and the checks of
command-line values that argparse cannot do (a dataset path, overrides of an Experiment,
saving the experiment file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


EXIT_USER_ERROR = 2
#: ``train`` stopped because the loss became NaN or infinite (scripts can retry with a
#: lower learning rate).
EXIT_DIVERGED = 3
#: ``train`` ran out of device memory (scripts can retry with a smaller batch).
EXIT_OUT_OF_MEMORY = 4
#: Something went wrong that is not the user's to fix (a bug): one line, not a traceback.
EXIT_INTERNAL_ERROR = 1
#: stdout's reader went away (``workbench predict ... | head``): ended quietly, as a program
#: killed by SIGPIPE ends (128 + 13).
EXIT_BROKEN_PIPE = 141


class UserError(Exception):
    """A mistake in the command line that argparse cannot see (e.g. a missing file)."""


def _check_dataset_path(path: str) -> None:
    """A dataset is a folder or a ``.csv`` file; anything else is a user error."""
    p = Path(path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() == ".csv"):
        return
    if not p.exists():
        raise UserError(f"dataset {path} does not exist: give a folder with one sub-folder "
                        f"of images per class, or a .csv file of path,label rows")
    raise UserError(f"dataset {path} is neither a folder nor a .csv file: give a folder "
                    f"with one sub-folder of images per class, or a .csv file of "
                    f"path,label rows")


def _recheck(exp):
    """Validate an Experiment after command-line overrides, naming the flag at fault."""
    from workbench.core.errors import SpecError
    from workbench.core.experiment import Experiment

    try:  # re-check: the overrides may be out of range
        return Experiment.from_dict(exp.to_dict())
    except SpecError as e:
        flag = {"training.epochs": "--epochs", "data.batch_size": "--batch-size",
                "training.device": "--device", "optimizer.params.lr": "--lr"}.get(e.field)
        raise UserError(f"{flag}: {e.problem}" if flag else str(e)) from None


def _save_experiment(path: str, save) -> None:
    """``save()`` the experiment file ``path``; a write that fails (read-only folder, full
    disk) is a user error naming the file, and the file is left as it was."""
    from workbench.core.io import write_error

    try:
        save()
    except OSError as e:
        raise UserError(write_error(path, e)) from None


def parse_sets(values: list[str] | None) -> dict[str, Any]:
    """``--set PATH=VALUE`` options as ``{dotted path: value}``: the value read as JSON
    (``0.01``, ``true``, ``[64, 64]``, ``"adam"``) where it parses, else as text."""
    out: dict[str, Any] = {}
    for item in values or []:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path:
            raise UserError(f"--set {item!r}: expected PATH=VALUE, e.g. "
                            f"optimizer.params.lr=0.01 or data.batch_size=64")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[path] = value
    return out


def apply_sets(exp, values: list[str] | None):
    """``exp`` with every ``--set`` applied and validated by the registries' declared
    parameters (the paths and messages of SPACE.json); a wrong path or value is a
    :class:`UserError` naming the option."""
    sets = parse_sets(values)
    if not sets:
        return exp
    from workbench.core.errors import SpecError
    from workbench.core.tune.space import apply_params

    try:
        return apply_params(exp, sets)
    except SpecError as e:
        where = e.field.removeprefix("space.params.")
        raise UserError(f"--set {where}: {e.problem}") from None


def apply_overrides(exp, sets: list[str] | None, data: str | None = None,
                    flags: dict[str, Any] | None = None):
    """``exp`` with the command line applied: every ``--set``, then ``--data``, then the
    dedicated flags (``flags``: ``{dotted path: value}``, None for a flag not given), and
    validated, naming the option at fault.

    The dedicated flags go last so that they win whatever order they were typed in: a
    ``--set optimizer.type=SGD`` resets the optimizer's parameters to SGD's defaults,
    which must not undo an ``--lr`` given beside it.
    """
    exp = apply_sets(exp, sets)
    dataset_override(exp, data)
    for path, value in (flags or {}).items():
        if value is None:
            continue
        *parents, key = path.split(".")
        holder = exp
        for name in parents:
            holder = getattr(holder, name)
        if isinstance(holder, dict):
            holder[key] = value
        else:
            setattr(holder, key, value)
    return _recheck(exp)


def dataset_override(exp, data: str | None) -> None:
    """``--data DIR``: train on this dataset instead of the experiment's."""
    if data:
        _check_dataset_path(data)
        exp.data.folder = str(Path(data).resolve())
