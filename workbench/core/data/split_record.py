"""The split a run was trained with, kept in its folder, so a resumed run validates on the
images it validated on before: ``split.json``.

:func:`~.split.split_samples` shuffles each class's files with a seeded generator, so one
image added to or removed from a class reshuffles that class's whole split: a run resumed
after its folder changed would validate on images it had trained on. A run therefore
records its split (:func:`record_of_split`) and a resume makes the split from that record
(:func:`resumed_split`): an image recorded on one side stays there, an image not recorded
goes by a rule of its own (:func:`stable_side`: the same file always lands on the same
side, whatever else changed), and what changed is said
(:meth:`~.split_change.SplitChange.note`).

The file is JSON; its lists of paths (relative to the dataset's folder, sorted so that
gzip shares their prefixes) are one gzip'd, base64 string, ``paths``, of
``{"train": [...], "val": [...], "missing": [...]}``: 100,000 images take 0.3 to 3 MB,
by how random their names are::

    {"kind": "workbench-split", "format": 1, "seed": 0, "val_fraction": 0.2,
     "folder_split": false, "val_images": 15, "val_files": 16,
     "counts": {"train": 57, "val": 16, "missing": 1},
     "changes": [{"epoch": 9, "added_train": 3, "added_val": 2, "removed_train": 0,
                  "removed_val": 1, "moved": 0, "val_images": 15}],
     "paths": "H4sIAAAAAAAC/..."}

``missing``: recorded images not in the folder when the record was written (one put back
goes back to its side); ``val_images``: the images validation was measured on;
``val_files``: the validation files, those that cannot be read included (recorded with
their side, as a listing that decodes nothing counts them), what a later split's are
compared with (a record without it, written before it was kept, is compared by its
paths); ``changes``: the epochs from which the dataset differed, and how.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.index import DatasetIndex
from workbench.core.data.split import excluded_paths, relative_paths_of, split_samples
from workbench.core.data.split_change import SplitChange
from workbench.core.filenames import name_bytes
from workbench.core.io import atomic_write_text

#: The record's file name in a run folder.
SPLIT_FILE = "split.json"
SPLIT_KIND = "workbench-split"
SPLIT_FORMAT = 1
#: The lists of paths decompressing to more than this are no record's (10M paths take
#: about 500 MB).
_MAX_BYTES = 1 << 30

Samples = list[tuple[str, int]]


class SplitRecordError(Exception):
    """A split record that cannot be read; its message says why."""


@dataclass
class SplitRecord:
    """Which side each image of a run's dataset was on (paths relative to its folder)."""

    train: set[str] = field(default_factory=set)
    val: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    seed: int = 0
    val_fraction: float = 0.0
    folder_split: bool = False
    changes: list[dict[str, Any]] = field(default_factory=list)
    #: The images validation was measured on (``data.exclude`` left out); None: unknown.
    val_images: int | None = None
    #: The validation files, the unreadable ones included (``data.exclude`` left out);
    #: None: unknown (a record written before it was kept).
    val_files: int | None = None

    def to_dict(self) -> dict[str, Any]:
        lists = {"train": sorted(self.train), "val": sorted(self.val),
                 "missing": sorted(self.missing)}
        blob = gzip.compress(json.dumps(lists, separators=(",", ":")).encode("utf-8"),
                             compresslevel=6, mtime=0)
        return {"kind": SPLIT_KIND, "format": SPLIT_FORMAT, "seed": self.seed,
                "val_fraction": self.val_fraction, "folder_split": self.folder_split,
                "val_images": self.val_images, "val_files": self.val_files,
                "counts": {k: len(v) for k, v in lists.items()},
                "changes": list(self.changes),
                "paths": base64.b64encode(blob).decode("ascii")}

    @classmethod
    def from_dict(cls, d: Any) -> SplitRecord:
        if not isinstance(d, dict) or d.get("kind") != SPLIT_KIND:
            raise SplitRecordError("it is not a Workbench split record")
        if not isinstance(d.get("format"), int) or d["format"] > SPLIT_FORMAT:
            raise SplitRecordError(f"it is format {d.get('format')!r}, written by a newer "
                                   f"Workbench")
        lists = _paths(d.get("paths"))
        changes = d.get("changes")
        try:
            return cls(*lists, seed=int(d.get("seed") or 0),
                       val_fraction=float(d.get("val_fraction") or 0.0),
                       folder_split=bool(d.get("folder_split")),
                       changes=[c for c in changes if isinstance(c, dict)]
                       if isinstance(changes, list) else [],
                       val_images=_count_of(d.get("val_images")),
                       val_files=_count_of(d.get("val_files")))
        except (TypeError, ValueError, OverflowError):
            raise SplitRecordError("its settings are damaged") from None


def _count_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _paths(blob: Any) -> tuple[set[str], set[str], set[str]]:
    """The train, val and missing paths of a record's ``paths`` (base64 of gzip'd JSON)."""
    try:
        packed = base64.b64decode(blob.encode("ascii"), validate=True)
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            raw = f.read(_MAX_BYTES + 1)
        if len(raw) > _MAX_BYTES:
            raise SplitRecordError("its lists of images are too large to be a record's")
        lists = json.loads(raw.decode("utf-8"))
    except SplitRecordError:
        raise
    except (AttributeError, ValueError, OSError, EOFError, RecursionError):
        raise SplitRecordError("its lists of images are damaged") from None
    out = [lists.get(k, []) if isinstance(lists, dict) else None
           for k in ("train", "val", "missing")]
    if not all(isinstance(v, list) and all(isinstance(p, str) for p in v) for v in out):
        raise SplitRecordError("its lists of images are damaged")
    return set(out[0]), set(out[1]), set(out[2])


def read_split_record(run_dir: str | Path) -> SplitRecord | None:
    """The record in ``run_dir`` (None: it has none, e.g. a run of an older Workbench).

    Raises
    ------
    SplitRecordError
        For a damaged file.
    """
    path = Path(run_dir) / SPLIT_FILE
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise SplitRecordError("it is too large to be a record")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise SplitRecordError(f"it cannot be read ({e})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise SplitRecordError("it is not valid JSON") from None
    return SplitRecord.from_dict(data)


def write_split_record(run_dir: str | Path, record: SplitRecord) -> Path:
    """Write ``record`` into ``run_dir`` atomically; returns the file's path."""
    path = Path(run_dir) / SPLIT_FILE
    atomic_write_text(path, json.dumps(record.to_dict(), indent=1) + "\n")
    return path


def relative_paths(index: DatasetIndex, paths: list[str]) -> dict[str, str]:
    """Each path as :func:`~.split.relative_path` gives it (made once per scan:
    :func:`~.split.relative_paths_of`)."""
    return dict(zip(paths, relative_paths_of(index, paths)))


def stable_side(seed: int, class_name: str, rel: str, val_fraction: float) -> bool:
    """Whether an image that no record places goes to validation: a hash of the seed,
    its class and its relative path, below ``val_fraction`` (so the share is right in
    expectation and the same file always lands on the same side)."""
    if val_fraction <= 0:
        return False
    digest = hashlib.blake2b(name_bytes(f"workbench-split:{seed}:{class_name}:{rel}"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64 < val_fraction


def _folder_split(index: DatasetIndex, data: Any) -> bool:
    return index.val_samples is not None and bool(data.use_folder_split)


def _pool(index: DatasetIndex, data: Any) -> Samples:
    """The readable samples a split is made of (both parts unless the folder's are used)."""
    return list(index.samples) + ([] if _folder_split(index, data) else
                                  list(index.val_samples or []))


def _in_val_part(index: DatasetIndex, rel: str) -> bool:
    """Whether ``rel`` (relative to the dataset's folder) lies in its own validation part."""
    return rel.startswith(index.part_name("val"))


def _excluded(index: DatasetIndex, data: Any) -> set[str]:
    """The paths ``data.exclude`` names, the unreadable ones the decode check took out
    included (:func:`~.split.excluded_paths` looks among the others), each path made
    relative through ``index`` (once per scan), not through a copy of it."""
    every = list(index.samples) + list(index.val_samples or []) + list(index.dropped)
    return excluded_paths(index, list(getattr(data, "exclude", None) or []), every)


def record_of_split(index: DatasetIndex, data: Any) -> SplitRecord:
    """The record of the split a new run makes (:func:`~.split.split_for`'s, before the
    ``data.exclude`` images are dropped), the unreadable images the split was made with
    included (a folder's own validation part's in it), with its count of validation
    images and of validation files (those and the unreadable ones)."""
    seed, fraction = int(data.seed), float(data.val_fraction)
    every = list(index.samples) + list(index.val_samples or []) + list(index.dropped)
    rel = relative_paths(index, [p for p, _ in every])
    unread = {p for p, _ in index.dropped}
    if _folder_split(index, data):
        held = {p for p in unread if _in_val_part(index, rel[p])}
        train = list(index.samples) + [s for s in index.dropped if s[0] not in held]
        val = list(index.val_samples or []) + [s for s in index.dropped if s[0] in held]
    else:
        # split_samples makes the split as if no image were unreadable, then drops those:
        # splitting them as readable gives each its side, and the others theirs.
        whole = dataclasses.replace(index, samples=every, val_samples=None, dropped=[])
        train, val = split_samples(whole, fraction, seed, stratified=data.stratified)
    drop = _excluded(index, data)
    files = [p for p, _ in val if p not in drop]
    return SplitRecord({rel[p] for p, _ in train}, {rel[p] for p, _ in val}, set(), seed,
                       fraction, _folder_split(index, data),
                       val_images=sum(p not in unread for p in files), val_files=len(files))


def resumed_split(index: DatasetIndex, data: Any, record: SplitRecord
                  ) -> tuple[Samples, Samples, SplitRecord, SplitChange]:
    """The split of a resumed run: ``(train, val, the record to keep, what changed)``.

    An image the record places stays on its side; one it does not goes by
    :func:`stable_side`, but for one moved to another class folder (matched by its file
    name with the one recorded image now gone that had it), which keeps its old side; the
    images now gone are left out (and kept in the record, so one put back returns to its
    side). A folder with its own validation part (``data.use_folder_split``) keeps that
    part, and the record only says what changed. ``data.exclude`` is applied last, as by
    :func:`~.split.split_for`.
    """
    seed, fraction = int(data.seed), float(data.val_fraction)
    folder = _folder_split(index, data)
    if folder:  # each part as the folder has it
        entries = [(p, y, False) for p, y in index.samples] + \
            [(p, y, True) for p, y in index.val_samples or []]
    else:
        entries = [(p, y, None) for p, y in _pool(index, data)]
    unreadable = list(index.dropped)
    rel = relative_paths(index, [e[0] for e in entries] + [p for p, _ in unreadable])
    present = set(rel.values())
    before = (record.train | record.val) - record.missing  # there when it was recorded
    gone = before - present
    # The Health view moves an image to another class folder under its own name.
    named: dict[str, list[str]] = {}
    for r in gone if not folder else ():
        named.setdefault(r.rsplit("/", 1)[-1], []).append(r)
    moved: dict[str, str] = {}  # its path now -> its recorded path

    def side(r: str, label: int, fixed: bool | None) -> bool:
        if fixed is not None:
            return fixed
        if r in record.val or r in record.train:
            return r in record.val
        twins = named.get(r.rsplit("/", 1)[-1], [])
        if len(twins) == 1 and twins[0] not in moved.values():
            moved[r] = twins[0]
            return twins[0] in record.val
        name = index.classes[label] if 0 <= label < len(index.classes) else str(label)
        return stable_side(seed, name, r, fraction)

    decided: dict[str, bool] = {}
    train: Samples = []
    val: Samples = []
    for path, label, fixed in entries:
        r = rel[path]
        if r not in decided:
            decided[r] = side(r, label, fixed)
        (val if decided[r] else train).append((path, label))
    for path, label in unreadable:  # recorded with their side, as a new run's split has them
        r = rel[path]
        if r not in decided:
            decided[r] = side(r, label, _in_val_part(index, r) if folder else None)
    new = SplitRecord({r for r, v in decided.items() if not v},
                      {r for r, v in decided.items() if v}, set(), seed, fraction, folder,
                      list(record.changes))
    for r in (record.train | record.val) - present - set(moved.values()):
        (new.val if r in record.val else new.train).add(r)
        new.missing.add(r)
    change = SplitChange(folder_split=folder, moved=len(moved))
    # A record older than val_files left the unreadable files of a train/ + val/ dataset
    # out: they are not "added" (which would choose the best epoch afresh on a resume).
    unread_rel = {rel[p] for p, _ in unreadable} if record.val_files is None else set()
    for r, is_val in decided.items():
        if r not in before and r not in moved and r not in unread_rel:
            if is_val:
                change.added_val += 1
            else:
                change.added_train += 1
    for r in gone - set(moved.values()):
        if r in record.val:
            change.removed_val += 1
        else:
            change.removed_train += 1
    drop = _excluded(index, data)
    if drop:
        train = [s for s in train if s[0] not in drop]
        val = [s for s in val if s[0] not in drop]
    earlier = (record.val - record.missing) | {r for r, was in moved.items()
                                                if was in record.val}
    change.kept_val = sum(1 for p, _ in val if rel[p] in earlier)
    change.val_now = new.val_images = len(val)
    # Files compared with files (a listing cannot tell the unreadable ones), and the counts
    # said without those today's index knows to be unreadable (see .split_change).
    unread_val = {rel[p] for p, _ in unreadable if p not in drop and decided[rel[p]]}
    new.val_files = len(val) + len(unread_val)
    known = len(unread_val & earlier)
    files_before = record.val_files
    if files_before is None:  # an older record: its val_images may leave those out, or not
        files_before = max(record.val_images or 0,
                           change.kept_val + known + change.removed_val)
    change.val_before = files_before - known
    return train, val, new, change


#: Said when evaluating "val" with a bundle that has no record of its run's split.
NO_RECORD_NOTE = ("the bundle carries no record of its run's split: the validation split "
                  "was recomputed from the folder and may include images the model was "
                  "trained on")


def record_to_carry(run_dir: str | Path) -> dict[str, Any] | None:
    """The record of ``run_dir`` as the bundle written there carries it (the content of
    its ``split.json``), or None when it has none or a damaged one."""
    try:
        record = read_split_record(run_dir)
    except SplitRecordError:
        return None
    return record.to_dict() if record is not None else None


def record_of_bundle(bundle: Any) -> SplitRecord | None:
    """The record of the split ``bundle``'s run made: the one the bundle carries, else its
    run folder's ``split.json`` (a checkpoint's, or an older bundle's still in its run
    folder); None without one (or with damaged ones)."""
    for source in (getattr(bundle, "split", None), getattr(bundle, "run_dir", None)):
        try:
            if isinstance(source, dict):
                return SplitRecord.from_dict(source)
            if source is not None:
                record = read_split_record(source)
                if record is not None:
                    return record
        except SplitRecordError:
            continue
    return None


def split_of_bundle(index: DatasetIndex, data: Any, bundle: Any
                    ) -> tuple[Samples, Samples, str]:
    """``(train, val, note)``: the split the run of ``bundle`` (a loaded
    :class:`~workbench.core.bundle.Bundle`) trained and validated on, made on ``index``:
    from the record the bundle carries, else from its run folder's ``split.json`` (a
    checkpoint's, or a bundle written before bundles carried it, still in its run folder),
    else recomputed (:func:`~.split.split_for`), with ``note`` saying that the validation
    part may then hold trained-on images ("" otherwise, and for a folder with its own
    validation part, which needs no record)."""
    from workbench.core.data.split import split_for

    record = record_of_bundle(bundle)
    if record is not None:
        train, val, _, _ = resumed_split(index, data, record)
        return train, val, ""
    train, val = split_for(index, data)
    if _folder_split(index, data) or not val:
        return train, val, ""
    if getattr(bundle, "is_checkpoint", False):
        return train, val, (f"{bundle.run_dir} holds no record of the run's split "
                            f"({SPLIT_FILE}): the validation split was recomputed from the "
                            f"folder and may include images the model was trained on")
    return train, val, NO_RECORD_NOTE


def split_of_run(index: DatasetIndex, data: Any, run_dir: str | Path | None
                 ) -> tuple[Samples, Samples]:
    """The ``(train, val)`` split the run in ``run_dir`` goes on with on ``index``: made
    from its record (:func:`resumed_split`), or :func:`~.split.split_for`'s when it has
    none (or a damaged one, or ``run_dir`` is None). What evaluating a run's model on "its
    validation split" should measure once the folder has changed."""
    from workbench.core.data.split import split_for

    try:
        record = read_split_record(run_dir) if run_dir is not None else None
    except SplitRecordError:
        record = None
    if record is None:
        return split_for(index, data)
    train, val, _, _ = resumed_split(index, data, record)
    return train, val
