"""Training runs on disk: one folder per run, described by its ``run.json``.

A run folder holds::

    run.json          what this module reads and writes (below)
    experiment.json   the Experiment the run trained
    metrics.json      {"epochs": [{"epoch", "train_loss", "train_acc", "val_loss",
                                   "val_acc", "val_bal_acc", "lr", "seconds"}, ...],
                       "batches": [{"epoch", "num_batches", "loss": [...]}, ...],
                       "norms": [{"epoch", "names", "samples": [...]}, ...]}
                      (val_bal_acc: the balanced accuracy, the mean per-class recall; the
                      batches' losses, coarsely, and the layer norms: core.runs.batches)
    bundle.pt         the trained model (absent when no epoch finished or the run diverged)
    checkpoints/last.pt, checkpoints/best.pt   for resuming (see core.train.checkpoint);
                      last.pt is the model of a run that wrote no bundle (killed mid-run)
    .lock, .run.json.lock   lock files (see core.runs.lock: .lock names the process
                      that trains, while it does)

``run.json`` keys: ``format_version`` (1), ``name``, ``experiment_name``, ``created``,
``updated`` and ``finished`` (ISO 8601 local times; ``finished`` null while running),
``status`` (one of :data:`STATUSES`), ``message`` (why it ended, for a person),
``epochs_done``, ``epochs_planned``, ``best`` (``{"epoch", "metric", "value"}`` or null),
``duration_s`` (training time, pauses excluded), ``device``, ``notes`` (the user's),
``resumed`` (ISO times the run was resumed at), ``bundle`` (which weights bundle.pt holds:
``{"epoch", "restored_best", "metrics": {that epoch's metrics.json entry}}``, null when the
run wrote no bundle), ``data`` (the images it used, as the Data tab counts them:
``{"train", "val", "test", "excluded", "unreadable"}``, ``test`` null without a test part,
and with one ``"excluded_test"``, those of ``excluded`` in it;
see :mod:`workbench.core.data.usage`), ``backbone_weights`` and ``feature_mode`` (in words:
where a Backbone layer's weights came from, how a frozen backbone's features were made;
"" without one), ``features`` (the same mode in one word: "cached", "cached, K views",
"off"), ``start_notes``, ``start_notes_from`` and ``earlier_start_notes`` (what the run
said as it last started, the epoch it started from, and what its earlier starts said: see
:mod:`workbench.core.runs.start_notes`), ``start_warnings`` (what ``workbench train`` warned
of before it), ``skipped`` (the files it met and could not read:
``{"count", "files": [[path, reason], ...]}``, at most 100 named, null when none; see
:mod:`workbench.core.runs.skipped`).

While a process trains into a folder it holds the folder's ``.lock`` (see
:mod:`workbench.core.runs.lock`): a run whose run.json says "running" but whose lock nobody
holds was cut off (its process crashed or was killed) and is listed as ``"interrupted"``;
it can be resumed from its last checkpoint, or deleted.

The folders are the truth. :class:`RunStore` keeps an index of them in an SQLite file
(``runs.sqlite`` next to them) so a history of hundreds of runs lists without reading every
JSON file each time; the index can always be rebuilt from the folders.
:mod:`workbench.core.runs.record` reads one folder, :mod:`workbench.core.runs.index` is
the SQLite side.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.io import atomic_write_text, runs_dir
from workbench.core.runs.lock import editing_run_info, is_live, stop_it_text
from workbench.core.runs.index import RunIndex
from workbench.core.runs.record import (RUN_INFO, RunRecord, fingerprint, is_run_folder, read_history,
                          read_record)

__all__ = ["INTERRUPTED", "RUN_INFO", "RUN_INFO_VERSION", "STATUSES", "RefreshSummary",
           "RunRecord", "RunStore", "current_status", "fingerprint", "is_run_folder",
           "keep_damaged_run_info", "read_history", "read_record", "read_run_info",
           "run_info_problem", "run_is_live", "update_run_info",
           "write_run_info"]

RUN_INFO_VERSION = 1
#: The end of an indexed run's ``problem`` whose name, creation date and notes are those
#: the index read from its run.json while it was whole (:meth:`RunStore._read`).
KEPT = " (its name, creation date and notes as the runs index had them)"

STATUSES = ("running", "finished", "stopped", "early_stopped", "pruned", "diverged",
            "out_of_memory", "failed")
#: Listed for a "running" run whose process is gone (never written to run.json).
INTERRUPTED = "interrupted"
# Without a lock file to ask (a run from before locks), a "running" run.json touched this
# recently is taken for a live run: it may not be deleted.
RUNNING_GRACE_S = 60.0
CSV_COLUMNS = ("run", "path", "epoch", "train_loss", "train_acc", "val_loss", "val_acc",
               "val_bal_acc", "lr", "seconds")


def kept_from_whole(record: RunRecord) -> bool:
    """Whether the indexed ``record``'s name, creation date and notes were read from a
    whole run.json: no problem with it, or kept from such a row since (:data:`KEPT`)."""
    problem = record.problem or ""
    return RUN_INFO not in problem or problem.endswith(KEPT)


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """``run_dir``'s run.json as a dict; ``{}`` when it is missing or unreadable."""
    try:
        data = json.loads((Path(run_dir) / RUN_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_run_info(run_dir: str | Path, info: dict[str, Any]) -> None:
    """Write ``info`` as ``run_dir``'s run.json (atomically)."""
    data = {"format_version": RUN_INFO_VERSION, **{k: v for k, v in info.items()
                                                   if k != "format_version"}}
    atomic_write_text(Path(run_dir) / RUN_INFO, json.dumps(data, indent=2) + "\n")


def run_info_problem(run_dir: str | Path) -> str | None:
    """Why ``run_dir``'s run.json cannot be edited (it is there but is no JSON object, or
    cannot be read), as a sentence naming it; None when it is fine or missing."""
    path = Path(run_dir) / RUN_INFO
    where = f"{Path(run_dir).name}/{RUN_INFO}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        return f"{where} cannot be read ({getattr(e, 'strerror', None) or e})"
    try:
        data = json.loads(text)
    except ValueError as e:
        return f"{where} is not valid JSON ({e})"
    return None if isinstance(data, dict) else f"{where} is not a JSON object"


def keep_damaged_run_info(run_dir: str | Path) -> Path | None:
    """Copy a run.json that cannot be parsed to ``run.json.damaged-<time>`` before it is
    written over, so its content is never silently lost; the copy's path, or None when
    run.json is fine or missing."""
    if run_info_problem(run_dir) is None:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    copy = Path(run_dir) / f"{RUN_INFO}.damaged-{stamp}"
    n = 1
    while copy.exists():
        n += 1
        copy = Path(run_dir) / f"{RUN_INFO}.damaged-{stamp}-{n}"
    shutil.copy2(Path(run_dir) / RUN_INFO, copy)
    return copy


def update_run_info(run_dir: str | Path, *, refuse_damaged: bool = False,
                    **changes: Any) -> dict[str, Any]:
    """Read run.json, apply ``changes``, write it back; returns the new contents. One
    writer at a time (the recorder, a rename, another process): none loses another's
    change.

    A run.json that is there but cannot be parsed is never written over unseen: with
    ``refuse_damaged`` (an edit a person asked for) a :class:`WorkbenchError` says so and
    nothing changes; otherwise (a run recording its end) it is first copied to
    ``run.json.damaged-<time>`` (:func:`keep_damaged_run_info`)."""
    with editing_run_info(run_dir):
        problem = run_info_problem(run_dir)
        if problem is not None:
            if refuse_damaged:
                raise WorkbenchError(f"{problem}: fix or delete it first; nothing was "
                                     f"changed")
            keep_damaged_run_info(run_dir)
        info = read_run_info(run_dir)
        info.update(changes)
        write_run_info(run_dir, info)
    return info


def current_status(run_dir: str | Path, status: str) -> str:
    """``status`` as run.json gives it, but :data:`INTERRUPTED` for a "running" run whose
    process is gone (killed, crashed): whether it still runs is asked now."""
    return INTERRUPTED if status == "running" and not run_is_live(run_dir) else status


def continue_file(run_dir: str | Path) -> str | None:
    """The checkpoint file the run in ``run_dir`` continues from, by its name: ``"last.pt"``,
    else ``"best.pt"``, which a resume takes when ``last.pt`` is missing or damaged
    (:func:`workbench.core.train.checkpoint.continue_from`); None without either. The files
    are looked for, not read: cheap enough for the GUI thread, and torch-free."""
    folder = Path(run_dir) / "checkpoints"
    return next((name for name in ("last.pt", "best.pt") if (folder / name).is_file()), None)


def continuable(run_dir: str | Path) -> bool:
    """Whether the run in ``run_dir`` has a checkpoint to continue from
    (:func:`continue_file`)."""
    return continue_file(run_dir) is not None


def run_is_live(run_dir: str | Path) -> bool:
    """Whether a process is training into ``run_dir`` now: its lock is held; without a
    lock file to ask, whether run.json says "running" and was updated within
    :data:`RUNNING_GRACE_S`."""
    live = is_live(run_dir)
    if live is not None:
        return live
    info = read_run_info(run_dir)
    if info.get("status") != "running":
        return False
    try:
        mtime: float | None = (Path(run_dir) / RUN_INFO).stat().st_mtime
    except OSError:
        mtime = None
    age = _seconds_since(str(info.get("updated") or ""), mtime)
    return age is not None and age < RUNNING_GRACE_S


def _seconds_since(iso: str, fallback_mtime: float | None) -> float | None:
    """Seconds from the ISO time ``iso`` (local when naive) to now; the file mtime when
    ``iso`` is not a time."""
    try:
        then = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        if fallback_mtime is None:
            return None
        return datetime.now().timestamp() - fallback_mtime
    now = datetime.now(timezone.utc) if then.tzinfo else datetime.now()
    return (now - then).total_seconds()


# -- the index -------------------------------------------------------------------------------
@dataclass
class RefreshSummary:
    """What :meth:`RunStore.refresh` changed in the index."""

    added: int = 0
    updated: int = 0
    removed: int = 0


class RunStore:
    """The run folders under ``root`` and an SQLite index of them.

    Parameters
    ----------
    root
        The folder of run folders (default :func:`workbench.core.io.runs_dir`). The index
        is ``root / "runs.sqlite"``.

    The index is a cache: :meth:`refresh` brings it in line with the folders (one level
    under ``root``), a corrupt index file is deleted and rebuilt, and where no index can
    be written at all (a read-only folder) the store lists from memory instead. Every
    call opens its own short-lived connection, so a store may be used from several threads
    and several windows may share one index (it is in WAL mode).
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else runs_dir()
        self._index = RunIndex(self.root / "runs.sqlite")

    @property
    def index_path(self) -> Path:
        return self._index.path

    @property
    def index_problem(self) -> str:
        """Why the SQLite index is not in use ("" when it is)."""
        return self._index.problem

    # -- listing -------------------------------------------------------------------------
    def refresh(self) -> RefreshSummary:
        """Index new run folders, re-read changed ones and forget vanished ones."""
        folders: dict[str, Path] = {}
        if self.root.is_dir():
            try:
                children = list(self.root.iterdir())
            except OSError as e:
                raise WorkbenchError(f"cannot list the runs folder {self.root}: "
                                     f"{e.strerror or e}") from None
            folders = {p.name: p for p in children if is_run_folder(p)}
        for _ in range(2):
            in_memory = self._index.in_memory
            summary = self._sync(folders)
            if self._index.in_memory == in_memory:
                break
            # The file failed half-way and the index moved to memory: fill that one too.
        return summary

    def _sync(self, folders: dict[str, Path]) -> RefreshSummary:
        known = self._index.fingerprints()
        summary = RefreshSummary()
        changed: list[tuple[str, RunRecord]] = []
        for key, folder in folders.items():
            fp = fingerprint(folder)
            if known.get(key) == fp:
                continue
            if key in known:
                summary.updated += 1
            else:
                summary.added += 1
            changed.append((fp, self._read(key, folder)))
        gone = [key for key in known if key not in folders]
        summary.removed = len(gone)
        if changed or gone:
            self._index.apply(changed, gone)
        return summary

    def runs(self) -> list[RunRecord]:
        """The indexed runs, newest first (call :meth:`refresh` first to see new ones)."""
        return [self._with_path(r) for r in self._index.records()]

    def get(self, path: str | Path) -> RunRecord | None:
        """The run at ``path`` (indexing it now when it is new); None when it is no run."""
        folder = self._folder(path)
        if not is_run_folder(folder):
            return None
        fp = fingerprint(folder)
        record = self._index.record(folder.name, fp)
        if record is None:
            record = self._read(folder.name, folder)
            self._index.apply([(fp, record)], [])
        return self._with_path(record)

    def _read(self, key: str, folder: Path) -> RunRecord:
        """The run in ``folder`` as :func:`read_record` reads it; where its run.json no
        longer parses, with the name, creation date and notes of its indexed row when that
        was read from a whole one (its ``problem`` ending in :data:`KEPT`): the index is
        the last place that still knows them, and a resume repairing the file takes them
        from there (:mod:`~workbench.core.runs.damaged`)."""
        record = read_record(folder)
        if RUN_INFO not in (record.problem or ""):
            return record
        old = self._index.record(key)  # as indexed before this read
        if old is None or not kept_from_whole(old):
            return record
        return replace(record, name=old.name, created=old.created, notes=old.notes,
                       problem=f"{record.problem}{KEPT}")

    def history(self, path: str | Path) -> list[dict[str, Any]]:
        """The run's epoch metrics (metrics.json's ``epochs``); ``[]`` when unreadable."""
        return read_history(self._folder(path))

    # -- editing -------------------------------------------------------------------------
    def rename(self, path: str | Path, name: str) -> RunRecord:
        """Call the run ``name`` (in its run.json and the index)."""
        name = str(name).strip()
        if not name:
            raise SpecError("name", "a run's name cannot be empty: type a name")
        folder = self._existing_run(path)
        for other in self._index.records():  # the listed runs (a copied folder's included)
            key = Path(other.path).name
            if key != folder.name and other.name.casefold() == name.casefold() \
                    and (self.root / key).is_dir():
                raise SpecError("name", f"another run is already called {other.name} "
                                        f"({key}): choose another name")
        return self._update(path, name=name)

    def annotate(self, path: str | Path, notes: str) -> RunRecord:
        """Set the run's notes (in its run.json and the index)."""
        return self._update(path, notes=str(notes))

    def _update(self, path: str | Path, **changes: Any) -> RunRecord:
        folder = self._existing_run(path)
        try:
            update_run_info(folder, refuse_damaged=True, **changes)
        except OSError as e:
            raise WorkbenchError(f"cannot write {folder / RUN_INFO}: {e.strerror or e}; check "
                                 f"that the folder is writable") from None
        record = read_record(folder)
        self._index.apply([(fingerprint(folder), record)], [])
        return self._with_path(record)

    def delete(self, path: str | Path) -> None:
        """Delete the run folder ``path`` and its index entry.

        Raises
        ------
        WorkbenchError
            When ``path`` is not a run folder directly under :attr:`root`, or is a run
            still training (:func:`run_is_live`).
        """
        folder = self._existing_run(path)
        if run_is_live(folder):
            raise WorkbenchError(f"the run {folder.name} is still training: "
                                 f"{stop_it_text(folder)}, before deleting it")
        try:
            shutil.rmtree(folder)
        except OSError as e:
            raise WorkbenchError(f"cannot delete the run folder {folder}: "
                                 f"{e.strerror or e}") from None
        self._index.apply([], [folder.name])

    def export_csv(self, paths: list[str | Path], out_path: str | Path) -> int:
        """Write the epochs of the runs at ``paths`` to the CSV file ``out_path``.

        One row per epoch per run, columns :data:`CSV_COLUMNS`; unknown values are empty.
        Returns the number of rows written.
        """
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        rows = 0
        for p in paths:
            folder = self._existing_run(p)
            record = self.get(folder)
            name = record.name if record else folder.name
            for e in read_history(folder):
                writer.writerow([name, str(folder)] + [_csv_value(e.get(c))
                                                       for c in CSV_COLUMNS[2:]])
                rows += 1
        try:
            atomic_write_text(Path(out_path), buf.getvalue())
        except OSError as e:
            raise WorkbenchError(f"cannot write {out_path}: {e.strerror or e}; choose another "
                                 f"file or folder") from None
        return rows

    # -- paths ---------------------------------------------------------------------------
    def _folder(self, path: str | Path) -> Path:
        """``path`` as a folder directly under :attr:`root` (the index knows no deeper)."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        try:
            inside = p.resolve().parent == self.root.resolve()
        except OSError:
            inside = False
        if not inside:
            raise WorkbenchError(f"{path} is not a run folder of {self.root}: only runs in "
                                 f"that folder can be changed here")
        return self.root / p.name

    def _existing_run(self, path: str | Path) -> Path:
        folder = self._folder(path)
        if not is_run_folder(folder):
            raise WorkbenchError(f"{folder} is not a training run (no run.json or "
                                 f"metrics.json in it); refresh the list of runs")
        return folder

    def _with_path(self, record: RunRecord) -> RunRecord:
        # The index stores folder names, so a runs folder that moved still lists right.
        record.path = str(self.root / Path(record.path).name)
        # Whether a "running" run still is changes without its files changing (its process
        # died): asked now, never cached in the index.
        record.status = current_status(record.path, record.status)
        if record.status == "running":
            record.drop_checkpoint_model()
        return record


def _csv_value(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)
