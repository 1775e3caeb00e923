"""The app's session file: what the app reopens with.

``<data directory>/session.json`` holds the current experiment, the window's geometry and the
last tab shown, so the next start finds the user where they left off. The GUI rewrites it
(atomically) a second or two after every change and on closing; this module is its format,
with no Qt in it::

    {"session_version": 1,
     "experiment": {...Experiment.to_dict()...},
     "window": {"geometry": "<base64 of QMainWindow.saveGeometry()>", "tab": "Model"},
     "train": {"last_run": "<the run folder the Train tab's Continue… goes on from>"}}

Reading is tolerant: a missing file is a fresh start, and a file that cannot be read (bad
JSON, a newer format, an experiment that no longer validates) gives a :class:`Session`
whose ``problem`` says why in words, while whatever part is still good (geometry, tab)
is kept. Even from a file that is not valid JSON the Train tab's last run is salvaged
(:func:`salvaged_last_run`) when the text names one that still exists. :func:`keep_aside`
moves such a file out of the way so the next write does not destroy what the user might
want to recover.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.io import atomic_write_text, data_home, parse_json, read_text_file

SESSION_VERSION = 1
SESSION_NAME = "session.json"
#: Where an unreadable session file is moved (next to it), see :func:`keep_aside`.
SET_ASIDE_NAME = "session.unreadable.json"
#: ``"last_run": "<a JSON string>"`` in a session file's raw text.
_LAST_RUN = re.compile(r'"last_run"\s*:\s*("(?:[^"\\\n]|\\.)*")')


def session_path() -> Path:
    """The session file: ``<data directory>/session.json``."""
    return data_home() / SESSION_NAME


@dataclass
class Session:
    """What a session file held.

    Attributes
    ----------
    experiment
        The experiment to reopen; ``None`` when there was none (a fresh start) or it could
        not be restored (``problem`` says why).
    geometry
        The window geometry as ``QMainWindow.saveGeometry()`` wrote it; empty when unknown.
    tab
        The title of the tab shown last; empty when unknown.
    last_run
        The folder of the run the Train tab showed last (Continue… goes on from it); empty
        when none.
    problem
        Why the file, or its experiment, could not be restored; empty when all went well.
    """

    experiment: Experiment | None = None
    geometry: bytes = b""
    tab: str = ""
    last_run: str = ""
    problem: str = ""


def session_text(experiment: Experiment | dict, geometry: bytes = b"", tab: str = "",
                 last_run: str = "") -> str:
    """The session file's text for ``experiment`` (an Experiment or its ``to_dict()``),
    the window ``geometry``, the ``tab`` title and the Train tab's ``last_run`` folder.

    Equal states give equal text, so a writer can skip a write when nothing changed.
    """
    exp = experiment.to_dict() if isinstance(experiment, Experiment) else experiment
    doc = {"session_version": SESSION_VERSION, "experiment": exp,
           "window": {"geometry": base64.b64encode(bytes(geometry)).decode("ascii"),
                      "tab": tab},
           "train": {"last_run": str(last_run or "")}}
    return json.dumps(doc, indent=1, default=_plain) + "\n"


def write_session(text: str, path: Path | None = None) -> Path:
    """Write ``text`` (from :func:`session_text`) to ``path`` (default :func:`session_path`)
    atomically: a reader, or the next start after a kill, sees the old or the new file."""
    path = Path(path) if path is not None else session_path()
    atomic_write_text(path, text)
    return path


def read_session(path: Path | None = None, validate: bool = True) -> Session:
    """Read the session file at ``path`` (default :func:`session_path`); never raises for
    what the file holds.

    Parameters
    ----------
    validate
        Check the experiment against the registries (imports torch). ``False`` checks only
        its structure (fields, types, bounds), for a start-up that must not import torch
        yet: the caller validates it once torch is loaded.
    """
    path = Path(path) if path is not None else session_path()
    if not path.exists():
        return Session()
    fix = "the app starts with the default experiment"
    try:
        text = read_text_file(path, "session file")
    except WorkbenchError as e:
        return Session(problem=str(e))
    try:
        doc = parse_json(text, f"the session file {path}", fix)
    except WorkbenchError as e:
        return Session(last_run=salvaged_last_run(text), problem=str(e))
    if not isinstance(doc, dict):
        return Session(problem=f"the session file {path} holds {type(doc).__name__}, not a "
                               f"JSON object; {fix}")
    version = doc.get("session_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return Session(last_run=salvaged_last_run(text),
                       problem=f"the session file {path} has no valid session_version "
                               f"(got {version!r}); {fix}")
    if version > SESSION_VERSION:
        return Session(last_run=salvaged_last_run(text),
                       problem=f"the session file {path} is format {version}, written by a "
                               f"newer Workbench (this one reads up to {SESSION_VERSION}); "
                               f"{fix}")
    window = doc.get("window") if isinstance(doc.get("window"), dict) else {}
    train = doc.get("train") if isinstance(doc.get("train"), dict) else {}
    last_run = train.get("last_run")
    session = Session(geometry=_geometry(window.get("geometry")),
                      tab=window.get("tab") if isinstance(window.get("tab"), str) else "",
                      last_run=last_run if isinstance(last_run, str) else "")
    try:
        session.experiment = Experiment.from_dict(doc.get("experiment"), validate=validate)
    except WorkbenchError as e:
        session.problem = (f"the experiment of the last session ({path}) cannot be used: "
                           f"{e}; {fix}")
    return session


def salvaged_last_run(text: str) -> str:
    """The Train tab's last run named in ``text``, a session file that cannot be read as
    one (bad JSON, no version): the last ``"last_run": "..."`` string in it, kept only when
    it names a run folder that exists with its run.json; ``""`` otherwise."""
    for match in reversed(list(_LAST_RUN.finditer(text))):
        try:
            folder = json.loads(match.group(1))
        except ValueError:
            continue
        try:
            if folder and "\0" not in folder and (Path(folder) / "run.json").is_file():
                return folder
        except OSError:
            continue  # a name the system refuses (too long)
    return ""


def keep_aside(path: Path | None = None) -> Path | None:
    """Move an unreadable session file to ``session.unreadable.json`` beside it (replacing
    an older one) so the next write does not destroy it; returns the new path, or ``None``
    when it could not be moved."""
    path = Path(path) if path is not None else session_path()
    target = path.with_name(SET_ASIDE_NAME)
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target


def _geometry(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        return b""
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return b""  # a damaged geometry is only a window placed by default


def _plain(value: Any) -> Any:
    """JSON for the odd value a widget left in the experiment (a numpy scalar, a tuple)."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
