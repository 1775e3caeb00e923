"""The experiment file the window's experiment was opened from or last saved to, whether
the experiment has changed since, and the files opened or saved recently.

File → Save writes back to :attr:`OpenedFile.path`; the window's title names it, with a
``*`` while the experiment differs from what was opened or saved (:meth:`~OpenedFile.modified`,
a comparison of the experiment's dict with a snapshot taken then), and File → New and
Open… ask before replacing only such an experiment. File → Save asks first where the file
was changed since, by another window or program (:meth:`~OpenedFile.changed_on_disk`).
File → Open recent lists :attr:`~OpenedFile.recent`.

All of it is kept in the session file (:mod:`workbench.qt.session`), beside the
experiment, as the part :data:`FILES_KEY`::

    "files": {"path": "<the experiment file>", "saved": "<digest of its experiment then>",
              "recent": ["<experiment file>", ...]}

``path`` and ``saved`` describe the session's experiment, so two windows sharing the
session merge them with it, as one part; ``recent`` is merged on its own
(:mod:`workbench.qt.session_share`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from workbench.qt.startup import torch_loader

#: The session file's key of this part.
FILES_KEY = "files"
#: The keys of the part that go with the session's experiment (merged with it).
WITH_EXPERIMENT = ("path", "saved")
#: The most files File → Open recent lists.
MAX_RECENT = 8


def digest(data: dict[str, Any]) -> str:
    """A digest of an experiment's dict (``Experiment.to_dict()``), equal for equal
    experiments: compared as validated (every component's defaults filled in) once the
    registries are loaded, so that validating an experiment in place is no change."""
    text = json.dumps(_validated(data), sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _validated(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as validated where the registries are loaded (else, or where they refuse
    it, as it is)."""
    if _registries_loaded():
        try:
            return Experiment.from_dict(data).to_dict()
        except (WorkbenchError, TypeError, ValueError):
            pass
    return data


def _registries_loaded() -> bool:
    # Never import torch for a digest: at start-up it is imported in the background.
    loader = torch_loader()
    return loader.is_ready() or (loader.state == "idle"
                                 and "workbench.core.catalog" in sys.modules)


class OpenedFile:
    """The experiment file of a window and its recent files.

    Attributes
    ----------
    path
        The experiment file the experiment was opened from or last saved to; ``""`` for
        none (a new experiment, the first start).
    recent
        The experiment files opened or saved, the latest first (at most
        :data:`MAX_RECENT`).
    """

    def __init__(self, experiment: Experiment | None = None):
        self.path = ""
        self.recent: list[str] = []
        self._snapshot: dict[str, Any] | None = None  # the experiment as opened or saved
        self._saved = ""  # its digest, where only that is known (from the session file)
        self._digested: tuple[bool, str] | None = None  # (registries loaded, the digest)
        self._on_disk = ""  # the digest of the file's bytes as read or written ("": not known)
        self.take(experiment)

    def take(self, experiment: Experiment | dict[str, Any] | None,
             path: str | None = None) -> None:
        """``experiment`` (or its ``to_dict()``) is now the one opened or saved (at
        ``path``, a file that then heads :attr:`recent`; ``None`` keeps :attr:`path`,
        ``""`` drops it)."""
        snapshot = experiment.to_dict() if isinstance(experiment, Experiment) else experiment
        # Validated now where it can be: its digest then stays the same as torch loads (in
        # the session file, a digest that changed is a change two windows merge).
        self._snapshot = _validated(snapshot) if snapshot is not None else None
        self._saved, self._digested = "", None
        if path is not None:
            self.path = os.path.abspath(path) if path else ""
            self._on_disk = _file_digest(self.path) if path else ""
            if path:
                self.remember(self.path)

    def remember(self, path: str) -> None:
        """Put ``path`` first in :attr:`recent`."""
        self.recent = [path] + [p for p in self.recent if p != path][:MAX_RECENT - 1]

    def saved_digest(self) -> str:
        """The digest of the experiment as opened or saved (``""``: not known)."""
        if self._snapshot is None:
            return self._saved
        loaded = _registries_loaded()
        if self._digested is None or self._digested[0] != loaded:
            self._digested = (loaded, digest(self._snapshot))
        return self._digested[1]

    def modified(self, experiment: Experiment) -> bool:
        """Whether ``experiment`` differs from the one opened or saved last (or is not
        known to match it)."""
        saved = self.saved_digest()
        return not saved or digest(experiment.to_dict()) != saved

    def changed_on_disk(self) -> bool:
        """Whether :attr:`path` was changed since the experiment was opened from it or
        saved to it (by another window, or in an editor): its bytes differ from those read
        or written then; after a restart, where only the session's digest is known, the
        experiment it holds differs from that one (or no longer reads). False for a file
        that is gone (saving it loses nothing) or where nothing is known to compare with."""
        if not self.path or not os.path.isfile(self.path):
            return False
        if self._on_disk:
            return _file_digest(self.path) != self._on_disk
        saved = self.saved_digest()
        if not saved:
            return False
        try:
            return digest(Experiment.load(self.path).to_dict()) != saved
        except WorkbenchError:
            return True

    # -- the session file's part -----------------------------------------------------------
    def part(self) -> dict[str, Any]:
        """This file's part of the session file (:data:`FILES_KEY`); empty keys left out."""
        out = {"path": self.path, "saved": self.saved_digest(), "recent": list(self.recent)}
        return {k: v for k, v in out.items() if v}

    def restore(self, part: dict[str, Any], with_experiment: bool) -> None:
        """Take the recent files of a session file's ``part``, and, ``with_experiment``
        (the session's experiment is shown), its file and the digest of what it held."""
        recent = part.get("recent")
        if isinstance(recent, list):
            self.recent = [p for p in recent if isinstance(p, str) and p][:MAX_RECENT]
        if with_experiment:
            path, saved = part.get("path"), part.get("saved")
            self.path = path if isinstance(path, str) else ""
            self._snapshot, self._digested, self._on_disk = None, None, ""
            self._saved = saved if isinstance(saved, str) else ""


def _file_digest(path: str) -> str:
    """A digest of the bytes of the file ``path`` (``""`` when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha1(f.read()).hexdigest()
    except OSError:
        return ""


def files_part(text: str) -> dict[str, Any]:
    """The :data:`FILES_KEY` part of a session file's ``text`` (what of it reads; ``{}``
    for none)."""
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        from workbench.core.session_repair import read_partial

        doc, _cut = read_partial(text)
    part = doc.get(FILES_KEY) if isinstance(doc, dict) else None
    return part if isinstance(part, dict) else {}


def with_files_part(text: str, part: dict[str, Any]) -> str:
    """The session file's ``text`` (:func:`workbench.core.session.session_text`) with
    ``part`` as its :data:`FILES_KEY`, after the window's part (the small keys first: a
    file cut short keeps the most); ``text`` itself when ``part`` is empty."""
    if not part:
        return text
    doc = json.loads(text)
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "experiment" and FILES_KEY not in out:
            out[FILES_KEY] = part
        out[key] = value
    out.setdefault(FILES_KEY, part)
    return json.dumps(out, indent=1) + "\n"
