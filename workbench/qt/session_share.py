"""Two windows on one data directory share its session file: neither drops the other's.

Opening Workbench twice (a second click on its icon) gives two windows that keep their
session in the same ``session.json`` (:class:`~workbench.qt.session.SessionKeeper`). Each
wrote its whole state whenever its own state changed, so the window that wrote last threw
away what the other had saved: its edits, and the run it trained as the Train tab's last
run. Two things keep both:

* A write over a file another window wrote since is a merge (:func:`merged_text`): of the
  session's parts (the experiment, as one; the Train tab's last run and typed name; the
  tab; the geometry; each tab's choices, the Predict tab's model and images apart), a
  window writes those *it* changed since its last write (or since it opened) and keeps
  the file's others, as the other window left them. Where both changed the same part, the
  later change wins. The experiment file a window's experiment is from
  (:mod:`workbench.qt.opened_file`) goes with the experiment, as one part: the experiment
  kept is the one of the file named; the recent files of both are kept (those a window
  took off its list stay off). This needs no lock, so it holds where no lock can be made
  (a network file system) and for a window that is already open when another starts.
* The first window holds ``session.lock`` beside the file (:class:`SessionLock`, the runs'
  OS lock, :mod:`workbench.core.runs.lock`: dropped however the process ends, a kill -9
  included, so it is never stale). A window that starts while it is held says so once
  (:func:`hold_session`, :func:`shared_text`), and takes the lock over when the first one
  closes, for the next window to find.

Why not a lock that makes the second window read-only: its edits would then be lost at its
close (or need a question at every start), and the user who opened it meant to work in it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from workbench.core.runs.lock import RunLock

from workbench.qt.opened_file import FILES_KEY, MAX_RECENT, WITH_EXPERIMENT

#: The lock file beside the session file.
LOCK_NAME = "session.lock"
#: How often a window that found the lock held tries to take it over (ms).
RETRY_MS = 5000
#: The session's objects whose keys are parts of their own (each merged alone); every other
#: top-level key is one part (the experiment is merged whole: its sections depend on each
#: other, a network on the data's channels and size). The Predict tab's model and its
#: images are two parts: a run's end in one window sets that window's model, and must not
#: take the images another window listed.
_SPLIT = ("train", "window", "predict")
#: Keys of a split object that are one part together (the images listed, and the count of
#: those past the first 500 that goes with them).
_TOGETHER = (("images", "left_out"),)
#: The order :func:`workbench.core.session.session_text` writes the keys in (the experiment
#: after the small ones, so a file cut short loses the least).
_ORDER = ("session_version", "train", "runs", "window", "tune", "evaluate", "augment",
          FILES_KEY, "experiment", "predict")
_MISSING = object()


def merged_text(base: str, ours: str, theirs: str) -> str:
    """The session text to write: ``ours`` (this window's state now) in each part where it
    differs from ``base`` (this window's state at its last write, or as it opened), the
    file's ``theirs`` (what another window wrote since) in the others. ``ours`` when the
    file is not there or does not read (nothing of it to keep)."""
    mine, file = _document(ours), _document(theirs)
    if mine is None or file is None:
        return ours
    was = _document(base) or {}
    # The experiment and the file it is from: this window's where it changed either.
    experiment = mine if _with_file(mine) != _with_file(was) else file
    out: dict[str, Any] = {}
    for key in _keys(mine, file):
        parts = (mine.get(key, {}), was.get(key, {}), file.get(key, {}))
        if key == "experiment":
            value = experiment.get(key, _MISSING)
        elif key == FILES_KEY:
            value = _files(*parts, experiment) or _MISSING
        elif key in _SPLIT and all(isinstance(p, dict) for p in parts):
            value: Any = {k: v for k in _keys(*parts[::2])
                          if (v := _part(k, *parts, _with(k))) is not _MISSING}
        else:
            value = _part(key, mine, was, file)
        if value is not _MISSING:
            out[key] = value
    return ours if out == mine else json.dumps(out, indent=1) + "\n"


def _with_file(doc: dict) -> tuple:
    """The experiment of a session document, and the file it is from (with the digest of
    what that held: a Save is a change of the experiment's part)."""
    files = doc.get(FILES_KEY)
    files = files if isinstance(files, dict) else {}
    return doc.get("experiment", _MISSING), [files.get(k) for k in WITH_EXPERIMENT]


def _files(mine: Any, was: Any, file: Any, experiment: dict) -> dict:
    """The merged :data:`~workbench.qt.opened_file.FILES_KEY` part: the file of the
    ``experiment`` document's experiment, and the recent files of both windows."""
    mine, was, file = (p if isinstance(p, dict) else {} for p in (mine, was, file))
    parts = experiment.get(FILES_KEY)
    out = {k: parts[k] for k in WITH_EXPERIMENT if isinstance(parts, dict) and k in parts}
    ours, before, theirs = (p.get("recent") if isinstance(p.get("recent"), list) else []
                            for p in (mine, was, file))
    if ours == before:
        recent = theirs
    else:  # this window's list first, then the other's, but for what this one took off
        recent = ours + [p for p in theirs if p not in ours and p not in before]
    if recent:
        out["recent"] = recent[:MAX_RECENT]
    return out


def _part(key: str, mine: dict, was: dict, file: dict, together: tuple = ()) -> Any:
    """This window's ``key`` where it changed it (or a key ``together`` with it) since
    ``was``, else the file's."""
    changed = any(mine.get(k, _MISSING) != was.get(k, _MISSING) for k in together or (key,))
    return mine.get(key, _MISSING) if changed else file.get(key, _MISSING)


def _with(key: str) -> tuple:
    """The keys of a split object merged as one part with ``key`` (:data:`_TOGETHER`)."""
    return next((keys for keys in _TOGETHER if key in keys), (key,))


def _keys(first: dict, second: dict) -> list[str]:
    """The keys of both, in the order the session file is written."""
    keys = list(first) + [k for k in second if k not in first]
    return sorted(keys, key=lambda k: (_ORDER.index(k) if k in _ORDER else
                                       _ORDER.index("experiment") - 0.5, keys.index(k)))


def _document(text: str) -> dict | None:
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def without(text: str, key: str) -> str:
    """The session ``text`` less its part ``key`` (``text`` itself for ``""``, or when it
    does not read): as a base for :func:`merged_text`, that part is then this window's."""
    doc = _document(text) if key else None
    if doc is None or key not in doc:
        return text
    doc.pop(key)
    return json.dumps(doc, indent=1) + "\n"


def read_text(path: Path) -> str:
    """The session file's text as it is now (``""`` when it is missing or unreadable)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""


class SessionLock(RunLock):
    """The lock a window holds on its data directory's session (``session.lock`` beside
    ``session.json``): held by another process or window, that one is open on it too."""

    def __init__(self, session_file: str | Path):
        super().__init__(Path(session_file).parent)
        self.path = Path(session_file).with_name(LOCK_NAME)
        #: Another window or process held it when this one first tried (:func:`hold_session`).
        self.shared = False


def shared_text(session_file: str | Path) -> str:
    """What a window that starts while another is open on the same data directory says."""
    folder = Path(session_file).parent
    return (f"Another Workbench window is already open, with the same settings and runs "
            f"folder ({folder}). Both windows keep "
            f"their session in {session_file}: each window's changes are kept, and where "
            f"both change the same thing (the experiment, the last run, the tab shown), "
            f"the later change wins.\n\nTo work on two experiments apart, close this window "
            f"and start Workbench again with WORKBENCH_HOME set to another folder.")


def hold_session(window: Any, session_file: str | Path) -> SessionLock:
    """Take the session lock of ``session_file`` for ``window``: ``lock.shared`` when
    another window or process holds it (the caller says so, :func:`shared_text`); this one
    then takes it over once that one has closed (tried every :data:`RETRY_MS`), for the
    next window to find. The caller releases it as the app ends."""
    lock = SessionLock(session_file)
    try:  # a first start: the data directory is made with the session file
        lock.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # no lock there (read-only): nothing else could be written there either
    lock.shared = not lock.acquire()
    if lock.shared:
        retry = QTimer(window)
        retry.setInterval(RETRY_MS)
        retry.timeout.connect(lambda: lock.acquire() and retry.stop())
        retry.start()
    return lock
