"""The split a run was trained with, kept in its folder, so a resumed run validates on the
images it validated on before: ``split.json``.

:func:`~.split.split_samples` shuffles each class's files with a seeded generator, so one
image added to or removed from a class reshuffles that class's whole split: a run resumed
after its folder changed would validate on images it had trained on. A run therefore
records its split (:func:`record_of_split`) and a resume makes the split from that record
(:func:`resumed_split`): an image recorded on one side stays there, an image not recorded
goes by a rule of its own (:func:`stable_side`: the same file always lands on the same
side, whatever else changed), and what changed is said (:meth:`SplitChange.note`).

The file is JSON; its lists of paths (relative to the dataset's folder, sorted so that
gzip shares their prefixes) are one gzip'd, base64 string, ``paths``, of
``{"train": [...], "val": [...], "missing": [...]}``: 100,000 images take 0.3 to 3 MB,
by how random their names are::

    {"kind": "workbench-split", "format": 1, "seed": 0, "val_fraction": 0.2,
     "folder_split": false, "val_images": 15,
     "counts": {"train": 57, "val": 16, "missing": 1},
     "changes": [{"epoch": 9, "added_train": 3, "added_val": 2, "removed_train": 0,
                  "removed_val": 1, "moved": 0, "val_images": 15}],
     "paths": "H4sIAAAAAAAC/..."}

``missing``: recorded images not in the folder when the record was written (one put back
goes back to its side); ``val_images``: the images validation was measured on;
``changes``: the epochs from which the dataset differed, and how.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.index import DatasetIndex
from workbench.core.data.split import excluded_paths, relative_path, split_samples
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

    def to_dict(self) -> dict[str, Any]:
        lists = {"train": sorted(self.train), "val": sorted(self.val),
                 "missing": sorted(self.missing)}
        blob = gzip.compress(json.dumps(lists, separators=(",", ":")).encode("utf-8"),
                             compresslevel=6, mtime=0)
        return {"kind": SPLIT_KIND, "format": SPLIT_FORMAT, "seed": self.seed,
                "val_fraction": self.val_fraction, "folder_split": self.folder_split,
                "val_images": self.val_images,
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
        changes, shown = d.get("changes"), d.get("val_images")
        try:
            return cls(*lists, seed=int(d.get("seed") or 0),
                       val_fraction=float(d.get("val_fraction") or 0.0),
                       folder_split=bool(d.get("folder_split")),
                       changes=[c for c in changes if isinstance(c, dict)]
                       if isinstance(changes, list) else [],
                       val_images=shown if isinstance(shown, int) and
                       not isinstance(shown, bool) else None)
        except (TypeError, ValueError, OverflowError):
            raise SplitRecordError("its settings are damaged") from None


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
    """Each path as :func:`~.split.relative_path` gives it, fast for the usual path inside
    the dataset's folder (``os.path.relpath`` takes half a second for 100,000)."""
    root = os.path.dirname(index.root) if index.source == "csv" else index.root
    prefix = root.rstrip("/\\") + os.sep if root else ""
    out = {}
    for p in paths:
        r = p[len(prefix):].replace(os.sep, "/") if prefix and p.startswith(prefix) else ""
        # What relpath would normalise ("a//b", "./a", "a/../b") takes the slow way.
        plain = r and not r.startswith("/") and "//" not in r and "/./" not in f"/{r}" \
            and ".." not in r
        out[p] = r if plain else relative_path(index, p)
    return out


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


def record_of_split(index: DatasetIndex, data: Any) -> SplitRecord:
    """The record of the split a new run makes (:func:`~.split.split_for`'s, before the
    ``data.exclude`` images are dropped), the unreadable images the split was made with
    included."""
    seed, fraction = int(data.seed), float(data.val_fraction)
    if _folder_split(index, data):
        train, val = list(index.samples), list(index.val_samples or [])
    else:
        # split_samples makes the split as if no image were unreadable, then drops those:
        # splitting them as readable gives each its side, and the others theirs.
        whole = dataclasses.replace(index, samples=_pool(index, data) + list(index.dropped),
                                    val_samples=None, dropped=[])
        train, val = split_samples(whole, fraction, seed, stratified=data.stratified)
    rel = relative_paths(index, [p for p, _ in train + val])
    return SplitRecord({rel[p] for p, _ in train}, {rel[p] for p, _ in val}, set(), seed,
                       fraction, _folder_split(index, data))


@dataclass
class SplitChange:
    """How a resumed run's images differ from its record (counts of images)."""

    added_train: int = 0
    added_val: int = 0
    removed_train: int = 0
    removed_val: int = 0
    moved: int = 0  # moved to another class folder, kept on their side
    kept_val: int = 0  # validation images of the record still in validation
    val_before: int = 0
    val_now: int = 0
    folder_split: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added_train or self.added_val or self.removed_train or
                    self.removed_val or self.moved)

    @property
    def val_changed(self) -> bool:
        return bool(self.added_val or self.removed_val or self.val_now != self.val_before)

    def to_dict(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "added_train": self.added_train, "added_val": self.added_val,
                "removed_train": self.removed_train, "removed_val": self.removed_val,
                "moved": self.moved, "val_images": self.val_now}

    def note(self, epochs_done: int) -> str:
        """What a person is told on resuming after epoch ``epochs_done``; "" if nothing
        changed."""
        if not self.changed:
            return ""
        parts = []
        added = self.added_train + self.added_val
        if added:
            parts.append(f"{images_text(added)} added "
                         f"{_sides(self.added_train, self.added_val, 'to')}")
        removed = self.removed_train + self.removed_val
        if removed:
            parts.append(f"{_count(removed)} removed "
                         f"{_sides(self.removed_train, self.removed_val, 'from')}")
        if self.moved:
            parts.append(f"{_count(self.moved)} moved to another class (each kept on its "
                         f"side of the split)")
        text = f"the dataset changed since epoch {epochs_done}: {', '.join(parts)}."
        first = epochs_done + 1
        if not self.val_changed:
            return f"{text} Validation is unchanged ({images_text(self.val_now)})"
        kept = ("Images trained on before stay in training, and validation keeps its "
                if not self.folder_split else "Validation (the folder's own part) keeps its ")
        return (f"{text} {kept}{_count(self.kept_val)} earlier "
                f"image{'s' * (self.kept_val != 1)}: from epoch {first} on it is measured on "
                f"{images_text(self.val_now)}, not {_count(self.val_before)}, so validation "
                f"scores before and after epoch {first} are not quite comparable")


def _count(n: int) -> str:
    return f"{n:,}"


def images_text(n: int) -> str:
    """``"1 image"``, ``"1,024 images"``."""
    return f"{n:,} image{'s' * (n != 1)}"


def _sides(train: int, val: int, word: str) -> str:
    if not val:
        return f"(all {word} training)" if train > 1 else f"({word} training)"
    if not train:
        return f"(all {word} validation)" if val > 1 else f"({word} validation)"
    return f"({_count(train)} {word} training, {_count(val)} {word} validation)"


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
        unreadable: Samples = []
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
        if rel[path] not in decided:
            decided[rel[path]] = side(rel[path], label, None)
    new = SplitRecord({r for r, v in decided.items() if not v},
                      {r for r, v in decided.items() if v}, set(), seed, fraction, folder,
                      list(record.changes))
    for r in (record.train | record.val) - present - set(moved.values()):
        (new.val if r in record.val else new.train).add(r)
        new.missing.add(r)
    change = SplitChange(folder_split=folder, moved=len(moved),
                         val_before=record.val_images if record.val_images is not None
                         else len(record.val - record.missing))
    for r, is_val in decided.items():
        if r not in before and r not in moved:
            if is_val:
                change.added_val += 1
            else:
                change.added_train += 1
    for r in gone - set(moved.values()):
        if r in record.val:
            change.removed_val += 1
        else:
            change.removed_train += 1
    drop = excluded_paths(index, list(getattr(data, "exclude", None) or []))
    if drop:
        train = [s for s in train if s[0] not in drop]
        val = [s for s in val if s[0] not in drop]
    earlier = (record.val - record.missing) | {r for r, was in moved.items()
                                                if was in record.val}
    change.kept_val = sum(1 for p, _ in val if rel[p] in earlier)
    change.val_now = new.val_images = len(val)
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
