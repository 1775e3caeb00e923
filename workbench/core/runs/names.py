"""Names a user can tell runs apart by: ``<dataset>-<network>-<n>`` (``digits-seed-cnn-3``).

The Train tab offers :func:`suggest_run_name` before Start; the run's folder and its
run.json carry the name (see :mod:`workbench.core.runs.recorder`). A name the user typed
is for the dataset and network it was typed for (:func:`run_name_scope`). A run folder's
name (``<date>_<time>-<name>``) must fit the 255 bytes a folder name may take: a suggested
name has its dataset part shortened in the middle to fit (:data:`MAX_NAME_BYTES`), a typed
one that does not fit is refused (:func:`run_name_problem`). Torch-free.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Collection

from workbench.core.filenames import encode_text
from workbench.core.io import file_stamp, runs_dir
from workbench.core.runs.record import is_run_folder, name_in_folder

#: The most bytes (UTF-8) of a run's name as its folder's name ends: the folder's name
#: (``2026-12-07_21-08-49-<name>-2``) then fits the 255 bytes a file name may take, and so
#: do the files an export names after the run (``<name>-export.safetensors.json``).
MAX_NAME_BYTES = 200
#: Room a suggested ``<dataset>-<network>`` keeps for what follows it (``-3``, or a tune
#: trial's ``-trial-12``).
_SUFFIX_ROOM = 16


def slug(text: str) -> str:
    """``text`` as a run name: letters, digits and combining marks of any script
    (``Données-été``, ``猫と犬``, ``हिन्दी``: :func:`name_character`), ``-``, ``_`` and
    ``.``, others as ``-``; in NFC, whatever spelling a Mac's folder name gave. Each
    character kept is one a folder name may hold on Windows, macOS and Linux, and one
    :func:`safe_run_name` keeps, so a run's folder ends with its name."""
    nfc = unicodedata.normalize("NFC", str(text))
    kept = "".join(c if name_character(c) or c in "_.-" else "-" for c in nfc.strip())
    out = kept.strip("-._")
    return re.sub(r"-{2,}", "-", out)


def name_character(c: str) -> bool:
    """Whether a run name (and its folder's name) keeps the character ``c``: a letter or
    digit of any script, or a combining mark (the vowel signs and viramas of Hindi or
    Tamil: ``हिन्दी``), which ``str.isalnum()`` and ``\\w`` leave out."""
    return c.isalnum() or unicodedata.category(c)[0] == "M"


def safe_run_name(name: str) -> str:
    """``name`` as a run folder's name ends (:func:`~.recorder.new_run_dir`): the
    characters :func:`name_character` keeps and ``-_.``, anything else ``_``, no leading or
    trailing dot or underscore ("" when nothing is left)."""
    return "".join(c if name_character(c) or c in "-_." else "_" for c in name).strip("._")


def name_size(name: str) -> int:
    """How many bytes ``name`` takes in a folder's name: its UTF-8, an undecodable byte of
    a file name (a lone surrogate) one byte, as on disk
    (:func:`~workbench.core.filenames.encode_text`)."""
    return len(encode_text(name))


def shorten_middle(text: str, most: int) -> str:
    """``text`` with its middle cut out (``..`` in its place) so it takes at most ``most``
    bytes (:func:`name_size`); ``text`` itself when it fits. A cut takes a letter's
    combining marks with it (``हि`` is not cut after ``ह``)."""
    if name_size(text) <= most:
        return text
    room = max(most - 2, 2)

    def fitting(chars: str, size: int) -> int:  # how many of ``chars`` fit in ``size``
        n, used = 0, 0
        while n < len(chars) and used + name_size(chars[n]) <= size:
            used += name_size(chars[n])
            n += 1
        return n

    def whole(n: int, chars: str) -> int:  # no letter parted from its marks
        while 0 < n < len(chars) and unicodedata.category(chars[n])[0] == "M":
            n -= 1
        return n

    head = text[:whole(fitting(text, room // 2), text)]
    rest = text[::-1]
    n = fitting(rest, room - name_size(head))
    while n and unicodedata.category(rest[n - 1])[0] == "M":
        n -= 1  # (its letter is cut)
    return f"{head.rstrip('-_.')}..{rest[:n][::-1].lstrip('-_.')}"


def run_name_problem(name: str) -> str:
    """What is wrong with ``name`` typed as a run's name (``""``: nothing): one too long
    for its run folder's name (:data:`MAX_NAME_BYTES`) is refused, not cut."""
    size = name_size(safe_run_name(name.strip()))
    if size <= MAX_NAME_BYTES:
        return ""
    return (f"the run name is too long for its folder's name ({size} bytes, at most "
            f"{MAX_NAME_BYTES}; an accented letter takes 2, a Chinese or Japanese "
            f"character 3): shorten the run name")


def dataset_label(folder: str) -> str:
    """A short name for the dataset at ``folder`` (:func:`~..data.hints.dataset_name`: its
    folder's name, a CSV file's stem, the parent's name for generic ones such as
    ``train``), as a run name; ``"demo"`` for no folder."""
    from workbench.core.data.augment.hints import dataset_name  # torch-free

    if not folder:
        return "demo"
    return slug(dataset_name(folder)) or "data"


def run_name_base(experiment: Any) -> str:
    """``<dataset>-<network>`` of ``experiment`` (no I/O): the part of a suggested run name
    before its number; a long dataset name shortened in the middle
    (:func:`shorten_middle`), so the name fits in its folder's (:data:`MAX_NAME_BYTES`)."""
    data = getattr(experiment, "data", None)
    network = slug(_network(experiment))
    room = MAX_NAME_BYTES - _SUFFIX_ROOM - name_size(network) - 1
    return f"{shorten_middle(dataset_label(getattr(data, 'folder', '')), room)}-{network}"


def _network(experiment: Any) -> str:
    from workbench.core.model.presets import network_label  # torch-free

    model = getattr(experiment, "model", None)
    return network_label(getattr(model, "preset", None), list(getattr(model, "layers", [])))


def run_name_scope(experiment: Any) -> tuple[str, str]:
    """The dataset folder (absolute; no folder is the demo's) and the network (the preset,
    or "custom": :func:`~workbench.core.model.presets.network_label`) of ``experiment``: a
    run name typed for one experiment is kept for another only where both are the same."""
    folder = str(getattr(getattr(experiment, "data", None), "folder", "") or "")
    if not folder:
        from workbench.core.data.demo import default_demo_root

        folder = str(default_demo_root())
    return os.path.normcase(os.path.abspath(os.path.expanduser(folder))), _network(experiment)


def suggest_run_name(experiment: Any, root: str | Path | None = None,
                     taken: Collection[str] = ()) -> str:
    """``<dataset>-<network>-<n>`` for a new run of ``experiment``: ``n`` one more than
    the highest such number among the run folders under ``root`` (default
    :func:`runs_dir`), so names do not repeat; and past the names in ``taken``
    (case-folded: a run renamed on the Runs tab keeps its folder's name)."""
    base = run_name_base(experiment)
    n = _next_number(base, Path(root) if root is not None else runs_dir())
    while f"{base}-{n}".casefold() in taken:
        n += 1
    return f"{base}-{n}"


def _next_number(base: str, root: Path) -> int:
    pattern = re.compile(rf"^{re.escape(base)}-(\d+)(?:-\d+)?$")
    highest = 0
    try:
        names = [p.name for p in root.iterdir()]
    except OSError:
        return 1
    for folder in names:
        # (NFC: a Mac's file system may give the folder's name in NFD)
        found = pattern.match(unicodedata.normalize("NFC", name_in_folder(folder)))
        if found:
            highest = max(highest, int(found.group(1)))
    return highest + 1


def free_run_name(name: str, root: str | Path | None = None) -> str:
    """``name`` when no run in the runs folder ``root`` (default
    :func:`runs_dir`) is called so, case aside, as the Runs tab's
    rename compares names; else the first of ``name-2``, ``name-3``… that none is."""
    taken = run_names(root)
    free, n = name, 1
    while free.casefold() in taken:
        n += 1
        free = f"{name}-{n}"
    return free


#: Per runs folder, per run folder in it: (its run.json's stamp, its case-folded name).
_NAMES: dict[Path, dict[str, tuple]] = {}


def run_names(root: str | Path | None = None) -> set[str]:
    """The names of the runs in the runs folder ``root`` (default
    :func:`runs_dir`), case-folded: their run.json's, else the one their
    folder's name carries, as the Runs tab lists them. Reads a run.json only when its
    stamp (:func:`~workbench.core.io.file_stamp`) changed since the last call (no index)."""
    from workbench.core.runs.store import read_run_info

    folder = Path(root) if root is not None else runs_dir()
    try:
        runs = [p for p in folder.iterdir() if is_run_folder(p)]
    except OSError:  # no runs folder yet
        return set()
    known, seen = _NAMES.get(folder, {}), {}
    for p in runs:
        stamp = file_stamp(p / "run.json")
        seen[p.name] = known[p.name] if p.name in known and known[p.name][0] == stamp \
            else (stamp, str(read_run_info(p).get("name") or name_in_folder(p.name)
                             or p.name).casefold())
    _NAMES[folder] = seen  # (the folders gone are forgotten)
    return {name for _stamp, name in seen.values()}
