"""What every command shares: the exit codes, :class:`UserError`, and the checks of
command-line values that argparse cannot do (a dataset path, overrides of an Experiment,
saving the experiment file)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


EXIT_USER_ERROR = 2
#: ``train`` stopped because the loss became NaN or infinite (scripts can retry with a
#: lower learning rate).
EXIT_DIVERGED = 3
#: ``train`` ran out of device memory (scripts can retry with a smaller batch).
EXIT_OUT_OF_MEMORY = 4
#: ``check --strict`` found conflicting labels or leaks between parts, a dataset that
#: training would refuse, or an augmentation that would stop it (a pipeline can stop on
#: them before training).
EXIT_FINDINGS = 5
#: Something went wrong that is not the user's to fix (a bug): one line, not a traceback.
EXIT_INTERNAL_ERROR = 1
#: stdout's reader went away (``workbench predict ... | head``): ended quietly, as a program
#: killed by SIGPIPE ends (128 + 13).
EXIT_BROKEN_PIPE = 141


class UserError(Exception):
    """A mistake in the command line that argparse cannot see (e.g. a missing file)."""


def torchrun_ranks() -> tuple[int, int]:
    """``(RANK, LOCAL_RANK)`` torchrun gave this process: ``(0, 0)`` outside torchrun, or
    where they do not read as whole numbers (the run itself says so then). Read from the
    environment, without importing torch: a command's error path asks it too."""
    def number(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name) or default)
        except ValueError:
            return default

    rank = number("RANK", 0)
    return rank, number("LOCAL_RANK", rank)


def main_process() -> bool:
    """Whether this process prints: the only one, or rank 0 under torchrun (every rank
    runs the same command; the others stay quiet)."""
    return torchrun_ranks()[0] == 0


#: What a dataset may be, for the messages that refuse something else.
DATASET_KINDS = ("a folder with one sub-folder of images per class, a .csv file of "
                 "path,label rows, or a .zip or .tar(.gz) of such a folder")


def _check_dataset_path(path: str) -> None:
    """A dataset is a folder, a ``.csv`` file, or an archive of a folder (``.zip``,
    ``.tar``, ``.tar.gz``...: :func:`~workbench.core.data.scan.scan_folder` unpacks it once
    into the cache, as the app does); anything else is a user error."""
    from workbench.core.data.archives import is_archive

    p = Path(path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() in (".csv", ".tsv")) or is_archive(p):
        return
    if not p.exists():
        raise UserError(f"dataset {path} does not exist: give {DATASET_KINDS}")
    raise UserError(f"dataset {path} is neither a folder, a .csv file nor an archive: give "
                    f"{DATASET_KINDS}")


def dataset_notes(exp) -> list[str]:
    """What a user should hear before ``exp`` trains (printed as ``note:`` lines): that it
    trains on the built-in demo dataset (``data.folder`` is empty), and which
    ``data.exclude`` entries match no image (see :func:`~workbench.core.data.usage.unmatched_excludes`; the folder
    is listed for it, without decoding, only when there are entries)."""
    notes = []
    if not exp.data.folder:
        from workbench.core.data.demo import CLASSES

        notes.append(f"data.folder is empty: this trains on the built-in demo dataset "
                     f"({len(CLASSES)} classes of generated shapes: {', '.join(CLASSES)}); "
                     f"choose your dataset with --data DIR (a folder, .csv file or archive)")
    if exp.data.exclude:
        from workbench.core.data.demo import dataset_folder
        from workbench.core.data.scan import scan_folder
        from workbench.core.errors import WorkbenchError

        try:
            index = scan_folder(dataset_folder(exp.data.folder))
        except WorkbenchError:  # the run itself says what is wrong with the dataset
            return notes
        note = exclude_note(index, exp.data.exclude)
        if note:
            notes.append(note)
    return notes


def exclude_note(index, exclude: list[str]) -> str | None:
    """A ``note:`` line naming the ``data.exclude`` entries that match nothing, or None."""
    from workbench.core.data.split import relative_path
    from workbench.core.data.usage import unmatched_excludes

    missing = unmatched_excludes(index, exclude)
    if not missing:
        return None
    n = len(missing)
    shown = ", ".join(repr(m) for m in missing[:5]) + (f" and {n - 5} more" if n > 5 else "")
    root = os.path.dirname(index.root) if index.source == "csv" else index.root
    first = next(iter(index.samples), None)
    example = relative_path(index, first[0]) if first else "cats/001.jpg"
    return (f"data.exclude: {shown} match{'es' if n == 1 else ''} no image of {root}, so "
            f"{'it excludes' if n == 1 else 'they exclude'} nothing: correct "
            f"{'it' if n == 1 else 'them'} (paths relative to that folder, e.g. "
            f"{example!r}) or remove {'it' if n == 1 else 'them'}")


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
    :class:`UserError` naming the option. A relative ``data.folder`` is relative to the
    current folder (as ``--data``; one in the experiment file is relative to the file's
    folder: :meth:`~workbench.core.experiment.Experiment.load`) and is kept absolute."""
    sets = parse_sets(values)
    if not sets:
        return exp
    from workbench.core.errors import SpecError
    from workbench.core.tune.space import apply_params

    folder = sets.get("data.folder")
    if isinstance(folder, str) and folder:  # relative to the current folder, as --data
        sets["data.folder"] = str(Path(folder).expanduser().resolve())
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


def experiment_from_file(path: str, sets: list[str] | None, data: str | None = None,
                         flags: dict[str, Any] | None = None):
    """The experiment file ``path`` with the command line applied (:func:`apply_overrides`);
    a ``data.folder`` it names that does not exist (a moved dataset), and that neither
    ``--data`` nor ``--set`` replaced, is refused naming the file and what to do."""
    from workbench.core.experiment import Experiment

    loaded = Experiment.load(path)
    folder = loaded.data.folder
    exp = apply_overrides(loaded, sets, data, flags)
    if exp.data.folder == folder:
        missing_folder(exp, path, "give the dataset with --data DIR")
    return exp


def missing_folder(exp, path: str, remedy: str) -> None:
    """Refuse ``exp``, read from the file ``path``, when its ``data.folder`` does not exist:
    ``remedy`` says how to give the dataset on the command line."""
    folder = exp.data.folder
    if folder and not os.path.exists(os.path.expanduser(folder)):
        raise UserError(f"{path}: data.folder {folder} does not exist (moved?): {remedy}, "
                        f"or fix data.folder in {path}")


def dataset_override(exp, data: str | None) -> None:
    """``--data DIR``: train on this dataset instead of the experiment's (a relative path
    is relative to the current folder, and recorded absolute)."""
    if data:
        _check_dataset_path(data)
        exp.data.folder = str(Path(data).resolve())


def check_output(path: str, option: str, folder: bool = False, what: str = "",
                 fix: str = "") -> None:
    """Refuse, before the work that makes it, an output (``what``: the file, e.g.
    ``"--onnx's preprocessing"``; ``option`` by default) that must not or cannot be written:
    a run folder's own file (:func:`~workbench.core.export.outputs.run_file`, even with
    ``--overwrite``); a file (``folder``: a folder, created if needed) whose place is
    read-only or not a folder (:func:`workbench.core.io.cannot_write`, the Export dialog's
    rule too; ``fix``: what to do instead, if not another place); a file whose folder does
    not exist (a mistyped folder is not made). ``-`` and streams pass."""
    from workbench.core.export.outputs import run_file
    from workbench.core.io import cannot_write, output_stream

    if path == "-" or not path or output_stream(path) is not None:
        return
    run = run_file(os.path.join(path, "-") if folder else path)  # a folder: its files
    if run:
        raise UserError(f"{what or option} would write {path}, {run}: a run's own files are "
                        f"never written over; give {option} another name")
    why = cannot_write(path, fix or f"give {option} {'a folder' if folder else 'a place'} "
                                    f"you can write to", folder=folder)
    if why:
        raise UserError(why)
    parent, real = Path(path).parent, Path(os.path.realpath(path)).parent  # a link's target
    if not folder and not real.is_dir():
        raise UserError(f"the folder {parent if not parent.is_dir() else real} of "
                        f"{what or option} {path} does not exist: "
                        f"create it, or give {option} a file in a folder that exists")


def image_paths(paths: list[str]) -> tuple[list[str], dict[str, str]]:
    """The images ``paths`` name, in order (a folder gives its images), and the reason of
    each path that gives none (a missing file, a folder without images: listed too, in its
    place), as ``predict`` and ``explain`` read their paths."""
    from workbench.core.data.images import images_in_folder

    items: list[str] = []
    missing: dict[str, str] = {}
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = images_in_folder(path)
            if found:
                items.extend(found)
            else:  # reported in its own entry, like a missing file
                missing[p] = "folder holds no images"
                items.append(p)
        elif path.exists():
            items.append(p)
        else:
            missing[p] = "file not found"
            items.append(p)
    return items, missing


def no_image_error(done: str, failures: list[tuple[str, str]]) -> UserError:
    """The one-line refusal of a command none of whose images could be ``done`` (e.g.
    "classified"): the first three ``(path, reason)`` and how many more."""
    shown = "; ".join(f"{p}: {why}" for p, why in failures[:3])
    more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
    return UserError(f"no image could be {done} ({shown}{more}): give image files or "
                     f"folders of images")
