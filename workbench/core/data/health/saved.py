"""What the Health view remembers of a dataset folder between sessions: its last check's
report (the label check's findings took minutes) and the files it moved, so *Undo move*
still works after a restart, and the exclusions cleared when another folder was opened
(:func:`save_exclusions`), given back when it is opened again.

One JSON file per dataset folder, ``<data home>/health/<key>.json``, written atomically:
the report's JSON (:meth:`~workbench.core.data.health.report.HealthReport.to_json`, with
the label check's quality and the images' pixel sizes), the split settings it was made
with and the exclusions, a signature of the folder's image list (relative path and class
of every image) and the size and modification time of every image a finding names.
:func:`load` gives the report back, rebuilt on the folder's current scan, and says why it
may be out of date (images added, removed, moved or changed since; other split settings or
exclusions: not those the app excluded since the check, :func:`keep_excluded_since`); a
file that cannot be read is ignored, and one that cannot be written is skipped (nothing
depends on it). :func:`exclusions_stale` gives the view the same rule for the exclusions
while the app runs (an image included again was never checked), so the view says before a
restart what it says after one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.health.actions import Move
from workbench.core.filenames import name_bytes

#: Bump when the file's content changes meaning: older files are then ignored.
FORMAT = 1
#: ``data`` settings a report's split (its leaks and sides) depends on.
SPLIT_FIELDS = ("val_fraction", "seed", "stratified", "use_folder_split")
#: The start of the text saying ``data.exclude`` changed since the check.
EXCLUSIONS_CHANGED = "The exclusions changed since this check"


@dataclass
class Saved:
    """What :func:`load` found: the last report (None: no check was kept), the moves still
    undoable, when the check was made, and why the report may be out of date ("")."""

    report: Any = None
    moves: list[Move] = field(default_factory=list)
    checked_at: float = 0.0
    stale: str = ""
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)


def file_for(root: str) -> Path:
    from workbench.core.io import data_home

    key = hashlib.sha1(name_bytes(os.path.abspath(root))).hexdigest()[:16]
    return data_home() / "health" / f"{key}.json"


def _rel(root: str, path: str) -> str:
    prefix = root.rstrip(os.sep) + os.sep
    return path[len(prefix):] if path.startswith(prefix) else path


def _all(index: Any) -> list[tuple[str, int]]:
    return (list(index.samples) + list(index.val_samples or [])
            + list(getattr(index, "test_samples", None) or []))


def signature(index: Any) -> str:
    """A digest of ``index``'s images (relative path and class of each): it changes when
    an image is added, removed, renamed or moved to another class."""
    h = hashlib.sha1()
    for path, label in sorted(_all(index)):
        h.update(name_bytes(f"{_rel(index.root, path)}\0{index.classes[label]}\n"))
    return h.hexdigest()


def _named(report: Any) -> set[str]:
    """The images ``report``'s findings name."""
    paths = {i["path"] for i in report.label_issues} | set(report.blank_images)
    for groups in (report.exact_duplicates, report.near_duplicates,
                   report.conflicting_labels, report.train_val_leaks,
                   getattr(report, "test_leaks", None) or []):
        for g in groups:
            paths.update(g)
    paths.update(it["path"] for it in report.tiny_images + report.extreme_aspect)
    return paths


def _stat(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return [-1, -1]
    return [int(st.st_size), int(st.st_mtime_ns)]


#: The file last read or written, parsed: ``(file, its stamp, the dict)``. Every exclude or
#: include in the Health view reads the file again (:func:`exclusions_stale`, after
#: :func:`keep_excluded_since` wrote it): parsing a 10,000-image folder's file each time
#: cost the click tens of milliseconds.
_last: tuple[Path, tuple[int, ...], dict[str, Any]] | None = None


def _stamp(file: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _read(root: str) -> dict[str, Any]:
    """The folder ``root``'s file as a dict (``{}``: none, unreadable, or another's); a
    shallow copy of the one parsed before while the file's stamp is unchanged (callers
    only set or pop its keys)."""
    global _last
    file = file_for(root)
    stamp, last = _stamp(file), _last
    if last is not None and stamp is not None and last[:2] == (file, stamp):
        return dict(last[2])
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    ok = isinstance(data, dict) and data.get("format") == FORMAT and \
        os.path.abspath(str(data.get("root", ""))) == os.path.abspath(root)
    if not ok:
        return {}
    if stamp is not None:
        _last = (file, stamp, data)
    return dict(data)


def _write(root: str, data: dict[str, Any]) -> None:
    from workbench.core.io import atomic_write_text

    global _last
    file = file_for(root)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(file, json.dumps(data))
    except OSError:
        _last = None
        return  # a read-only or full data folder: the next session starts without it
    stamp = _stamp(file)
    _last = None if stamp is None else (file, stamp, dict(data))


def save_report(index: Any, data: Any, report: Any,
                sizes: dict[str, tuple[int, int]] | None = None) -> None:
    """Keep ``report`` (checked on ``index`` with the ``data`` settings) for the folder."""
    try:
        _save_report(index, data, report, sizes)
    except (OSError, ValueError):  # e.g. a name no encoding takes: kept next time, maybe
        pass  # the report is shown all the same; only its restart copy is missing


def _save_report(index: Any, data: Any, report: Any,
                 sizes: dict[str, tuple[int, int]] | None) -> None:
    saved = _read(index.root) or {"format": FORMAT, "root": os.path.abspath(index.root)}
    body = report.to_json()
    body["label_quality"] = getattr(report, "label_quality", None)
    body["seconds"] = dict(report.seconds)  # unrounded: the summary reads the same again
    for key in ("labels_checked_at", "labels_kept", "labels_moved"):  # not in --json
        body[key] = getattr(report, key)
    saved.update({
        "report": body, "checked_at": time.time(), "signature": signature(index),
        "split": {f: getattr(data, f) for f in SPLIT_FIELDS},
        "exclude": list(getattr(data, "exclude", None) or []), "excluded_since": [],
        "stats": {p: _stat(p) for p in sorted(_named(report))},
        "sizes": {p: list(s) for p, s in (sizes or {}).items()}})
    _write(index.root, saved)


def save_moves(root: str, moves: list[Move]) -> None:
    """Keep the moves *Undo move* can take back (last last) for the folder ``root``."""
    saved = _read(root) or {"format": FORMAT, "root": os.path.abspath(root)}
    saved["moves"] = [m.to_dict() for m in moves]
    _write(root, saved)


def save_exclusions(root: str, exclude: list[str]) -> None:
    """Keep ``exclude``, the ``data.exclude`` entries made for the folder ``root`` that
    were cleared when another folder was opened: opening ``root`` again gives them back
    (:func:`take_exclusions`)."""
    saved = _read(root) or {"format": FORMAT, "root": os.path.abspath(root)}
    saved["cleared_exclude"] = [str(e) for e in exclude]
    _write(root, saved)


def keep_excluded_since(root: str, entries: list[str]) -> None:
    """Keep ``entries``, ``data.exclude`` entries the app added (the Health view's or the
    thumbnail grid's Exclude) after the folder ``root``'s kept check, with it: the view
    shows their images as excluded, not its findings as out of date, and after a restart
    neither does :func:`load`. An image included again that was excluded when it was
    checked was never checked: that still makes the check out of date."""
    saved = _read(root)
    if not isinstance(saved.get("report"), dict):
        return  # no kept check
    then = set(map(str, saved.get("exclude") or []))
    since = [str(e) for e in saved.get("excluded_since") or []]
    added = [str(e) for e in entries if str(e) not in then and str(e) not in since]
    if added:
        saved["excluded_since"] = since + added
        _write(root, saved)


def take_exclusions(root: str) -> list[str]:
    """The entries :func:`save_exclusions` kept for the folder ``root`` (``[]``: none),
    forgotten now: they go back into the experiment."""
    saved = _read(root)
    kept = saved.pop("cleared_exclude", None)
    if kept is None:
        return []
    _write(root, saved)
    return [e for e in kept if isinstance(e, str)] if isinstance(kept, list) else []


def load(index: Any, data: Any) -> Saved:
    """What was kept for ``index``'s folder, the report rebuilt on ``index`` split with
    the ``data`` settings (its images' classes and sides)."""
    from workbench.core.data.health.report import HealthReport
    from workbench.core.data.split import split_samples

    import copy

    saved = copy.deepcopy(_read(index.root))  # the report built from it may change its parts
    moves = []
    for m in saved.get("moves", []):
        try:
            move = Move.from_dict(m)
        except (KeyError, TypeError, ValueError):
            continue
        if os.path.isfile(move.target) and not os.path.exists(move.source):
            moves.append(move)  # still undoable
    out = Saved(moves=moves)
    body = saved.get("report")
    if not isinstance(body, dict):
        return out
    names = {f.name for f in dataclasses.fields(HealthReport)}
    try:
        report = HealthReport(**{k: v for k, v in body.items() if k in names})
        report.label_quality = body.get("label_quality")
        # Before data.exclude drops any: an image excluded since keeps its side.
        train, val = split_samples(index, **{f: getattr(data, f) for f in SPLIT_FIELDS})
    except (TypeError, ValueError):
        return out
    test = list(getattr(index, "test_samples", None) or [])
    report.label_of = {p: index.classes[lb] for p, lb in train + val + test}
    report.side_of = {**{p: "train" for p, _ in train}, **{p: "val" for p, _ in val},
                      **{p: "test" for p, _ in test}}
    out.report, out.checked_at = report, float(saved.get("checked_at", 0.0))
    out.sizes = {p: (int(s[0]), int(s[1])) for p, s in saved.get("sizes", {}).items()}
    out.stale = _staleness(index, data, saved)
    return out


def _staleness(index: Any, data: Any, saved: dict[str, Any]) -> str:
    changed = [p for p, st in saved.get("stats", {}).items() if _stat(p) != list(st)]
    if saved.get("signature") != signature(index) or changed:
        what = f" ({len(changed)} of the images shown changed or went)" if changed else ""
        return (f"The folder changed since this check{what}: images were added, removed, "
                f"moved or edited. Check again to see its findings now.")
    if any(saved.get("split", {}).get(f) != getattr(data, f) for f in SPLIT_FIELDS):
        return "The split changed since this check: Check again to see its leaks."
    return _exclusions_text(index, data, saved)


def exclusions_stale(index: Any, data: Any, report: Any) -> str:
    """Why ``report``, the kept check of ``index``'s folder, is out of date for the
    exclusions of ``data`` now ("" when it is not): :func:`load`'s rule, for the view while
    the app runs. "" when the kept check is not ``report`` (it could not be written)."""
    saved = _read(index.root)
    body = saved.get("report")
    if not isinstance(body, dict) or any(body.get(k) != getattr(report, k, None)
                                         for k in ("num_images", "excluded")):
        return ""
    return _exclusions_text(index, data, saved)


def _exclusions_text(index: Any, data: Any, saved: dict[str, Any]) -> str:
    from workbench.core.data.usage import excluded_images

    then, now = saved.get("exclude"), list(getattr(data, "exclude", None) or [])
    since = set(map(str, saved.get("excluded_since") or []))  # added in the app: settled
    if not isinstance(then, list) or sorted(map(str, then)) == sorted(
            e for e in now if e not in since):  # then None: an older file
        return ""
    had = f"data.exclude had {_entries(len(then))} then, {_entries(len(now))} now"
    back = len(excluded_images(index, list(map(str, then))) - excluded_images(index, now))
    if back:  # left out of the check, in the data now: never checked
        return (f"{EXCLUSIONS_CHANGED}: {back:,} image{'s' if back != 1 else ''} you "
                f"included again {'were' if back != 1 else 'was'} not checked ({had}). "
                f"Check again to check {'them' if back != 1 else 'it'}.")
    return (f"{EXCLUSIONS_CHANGED} ({had}): Check again to leave out the images excluded "
            f"now.")


def _entries(n: int) -> str:
    return "none" if not n else f"{n} entr{'y' if n == 1 else 'ies'}"


def keep_labels(old: Any, new: Any) -> bool:
    """Carry ``old``'s label check into ``new`` (a check without one, of the same folder):
    its findings about images still filed under the class they were checked in, its
    quality and its time, marked as kept (the summary says it is an earlier check's, and
    how many of its flagged images moved since). Returns whether anything was carried."""
    if old is None or not old.labels_checked or new.labels_checked or \
            os.path.abspath(old.root) != os.path.abspath(new.root):
        return False
    new.label_issues = [i for i in old.label_issues
                        if new.label_of.get(i["path"]) == i["given"]]
    new.labels_checked, new.labels_kept = True, True
    new.labels_checked_at = getattr(old, "labels_checked_at", 0.0)
    new.labels_moved = getattr(old, "labels_moved", 0) + sum(
        1 for i in old.label_issues if new.label_of.get(i["path"]) not in (None, i["given"])
        or (i["path"] not in new.label_of and not os.path.exists(i["path"])))
    new.label_quality = getattr(old, "label_quality", None)
    new.seconds["labels"] = old.seconds.get("labels", 0.0)
    return True
