"""The app's session file: what the app reopens with.

``<data directory>/session.json`` holds the current experiment, the window's geometry, the
last tab shown and what the tabs were left showing, so the next start finds the user where
they left off. The GUI rewrites it (atomically) a second or two after every change and on
closing; this module is its format, with no Qt in it::

    {"session_version": 1,
     "train": {"last_run": "<the run folder Continue… goes on from>",
               "run_name": "<the name typed for the next run>"},
     "runs": {"selected": ["<run folder>", ...]},
     "window": {"tab": "Model", "geometry": "<base64 of QMainWindow.saveGeometry()>",
                "splitters": {"<objectName>": "<base64 of QSplitter.saveState()>"}},
     "tune": {"sampler": "tpe", "trials": 20, "study": "...", ...},
     "evaluate": {"bundle": "<bundle.pt>", "data": "auto|val|folder", "folder": "...",
                  "by_user": true, "top_k": {"<bundle.pt>": 10}},
     "augment": {"step": 2, "pipelines": 1, "preview": 1, "class": "...", "image": "..."},
     "experiment": {...Experiment.to_dict()...},
     "predict": {"bundle": "<bundle.pt>", "images": ["<image>", ...],
                 "left_out": {"images": 120, "folders": ["..."], "more_folders": 0}}}

The small keys come first, then the experiment, then the Predict tab's image list (up to
:data:`MAX_PREDICT_IMAGES` paths, the longest and least needed part), so a file cut short
keeps the most. Every key but ``session_version`` is optional, and a bad value in one is
dropped alone.

Reading is tolerant: a missing file is a fresh start, and a damaged one keeps whatever
still reads (:mod:`workbench.core.session_repair`): of a file cut short or broken, every
member before the break; of an experiment with a value this Workbench refuses, everything
but that field, reset to its default. :class:`Session` says in ``problem`` why the file
could not be read as a whole, and in ``resets`` which fields were reset and to what. Even
from a file that is not JSON at all the Train tab's last run is salvaged
(:func:`salvaged_last_run`) when the text names one that still exists. :func:`keep_aside`
moves a damaged file out of the way so the next write does not destroy what the user might
want to recover.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.io import atomic_write_text, data_home, parse_json
from workbench.core.session_repair import cut_said, read_partial, repaired_experiment

SESSION_VERSION = 1
SESSION_NAME = "session.json"
#: The most Predict images a session keeps (the first ones added): the file stays small.
MAX_PREDICT_IMAGES = 500
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
        The experiment to reopen; ``None`` when there was none (a fresh start) or nothing
        of it could be read (``problem`` says why).
    geometry
        The window geometry as ``QMainWindow.saveGeometry()`` wrote it; empty when unknown.
    tab
        The title of the tab shown last; empty when unknown.
    last_run
        The folder of the run the Train tab showed last (Continue… goes on from it); empty
        when none.
    run_name
        The name the user typed on the Train tab for the next run; empty when none (the
        next run is named automatically).
    runs_selected
        The run folders selected on the Runs tab.
    splitters
        ``QSplitter.saveState()`` of the tabs' splitters, by their object names.
    tune
        The Tune tab's settings (plain JSON values; the tab checks each one).
    evaluate
        The Evaluate tab's choices: the model (``"bundle"``: the user's, or the one the
        data they chose goes with) and the data (``"data"``:
        ``"auto"``, ``"val"`` or ``"folder"``; ``"folder"``; ``"by_user"``: the user chose
        that pair, not a run trained), and the k of the top-k accuracy the user set per
        model (``"top_k"``, models still there); plain JSON values.
    predict
        The Predict tab's model (``"bundle"``) and its images (``"images"``; those past
        :data:`MAX_PREDICT_IMAGES` counted in ``"left_out"``, with their folders, so a
        restart says which were not listed again).
    augment
        The Augment tab's choices (the selected step, the sub-tabs, the preview's class and
        image: :mod:`workbench.qt.panels.augment.state`); plain JSON values.
    problem
        Why the file could not be read as a whole (bad JSON, not text, a newer format);
        empty when it could.
    resets
        The experiment's fields that were reset or removed, one sentence each (what was
        wrong, what it is now); empty when the experiment read as it was.
    lost
        The experiment's sections a file cut short lost all or part of (``"model"``,
        ``"optimizer"``...), in order: what the last run's settings may give back
        (:func:`with_run_sections`).
    """

    experiment: Experiment | None = None
    geometry: bytes = b""
    tab: str = ""
    last_run: str = ""
    run_name: str = ""
    runs_selected: list[str] = field(default_factory=list)
    splitters: dict[str, bytes] = field(default_factory=dict)
    tune: dict[str, Any] = field(default_factory=dict)
    evaluate: dict[str, Any] = field(default_factory=dict)
    predict: dict[str, Any] = field(default_factory=dict)
    augment: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    resets: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    @property
    def damaged(self) -> bool:
        """Whether the file was not all read as written (it is worth keeping aside)."""
        return bool(self.problem or self.resets)


def session_text(experiment: Experiment | dict, geometry: bytes = b"", tab: str = "",
                 last_run: str = "", run_name: str = "", runs_selected: Any = (),
                 splitters: dict[str, bytes] | None = None,
                 tune: dict[str, Any] | None = None, evaluate: dict[str, Any] | None = None,
                 predict: dict[str, Any] | None = None,
                 augment: dict[str, Any] | None = None) -> str:
    """The session file's text for ``experiment`` (an Experiment or its ``to_dict()``),
    the window ``geometry``, the ``tab`` title, the Train tab's ``last_run`` folder and
    ``run_name``, the Runs tab's ``runs_selected``, the tabs' ``splitters``, the Tune
    tab's settings (``tune``), the Evaluate tab's choices (``evaluate``), the Augment tab's
    (``augment``) and the Predict tab's model and images (``predict``, at most
    :data:`MAX_PREDICT_IMAGES` of them).
    Empty optional parts are left out.

    Equal states give equal text, so a writer can skip a write when nothing changed. The
    experiment is written after the small keys, and only Predict's image list after it: a
    file cut short loses the least.
    """
    exp = experiment.to_dict() if isinstance(experiment, Experiment) else experiment
    train = {"last_run": str(last_run or "")}
    if run_name:
        train["run_name"] = str(run_name)
    doc: dict[str, Any] = {"session_version": SESSION_VERSION, "train": train}
    if runs_selected:
        doc["runs"] = {"selected": [str(p) for p in runs_selected]}
    window: dict[str, Any] = {"tab": tab, "geometry": _b64(geometry)}
    if splitters:
        window["splitters"] = {str(k): _b64(v) for k, v in sorted(splitters.items())}
    doc["window"] = window
    if tune:
        doc["tune"] = tune
    if evaluate:
        doc["evaluate"] = evaluate
    if augment:
        doc["augment"] = augment
    doc["experiment"] = exp
    if predict:
        predict = dict(predict)
        if isinstance(predict.get("images"), list):
            predict["images"] = predict.pop("images")[:MAX_PREDICT_IMAGES]  # after "bundle"
        doc["predict"] = predict
    return json.dumps(doc, indent=1, default=_plain) + "\n"


def write_session(text: str, path: Path | None = None) -> Path:
    """Write ``text`` (from :func:`session_text`) to ``path`` (default :func:`session_path`)
    atomically: a reader, or the next start after a kill, sees the old or the new file."""
    path = Path(path) if path is not None else session_path()
    atomic_write_text(path, text)
    return path


def read_session(path: Path | None = None, validate: bool = True) -> Session:
    """Read the session file at ``path`` (default :func:`session_path`); never raises for
    what the file holds, and keeps whatever of it still reads.

    Parameters
    ----------
    validate
        Check the experiment against the registries (imports torch). ``False`` checks only
        its structure (fields, types, bounds), for a start-up that must not import torch
        yet: the caller checks it once torch is loaded (:func:`repaired_experiment`).
    """
    path = Path(path) if path is not None else session_path()
    if not path.exists():
        return Session()
    fix = "the app starts with the default experiment"
    try:
        raw = path.read_bytes()
    except OSError as e:
        return Session(problem=f"cannot read the session file {path} ({e.strerror or e}); "
                               f"{fix}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Session(last_run=salvaged_last_run(raw.decode("utf-8", "replace")),
                       problem=f"the session file {path} is damaged (it is not text); {fix}")
    problem, cut = "", ""
    try:
        doc = parse_json(text, f"the session file {path}", fix)
    except WorkbenchError as e:
        doc, cut = read_partial(text)
        if not doc:  # not even its first member reads
            return Session(last_run=salvaged_last_run(text), problem=str(e))
        problem = (f"{str(e).removesuffix('; ' + fix)}: "
                   + (f"it was cut short or damaged {_where(cut)}; what came before was "
                      f"kept" if cut else "text follows its end; all before it was kept"))
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
    session = _small_keys(doc, problem)
    if not session.last_run and problem:
        session.last_run = salvaged_last_run(text)
    saved = doc.get("experiment")
    if problem and not (isinstance(saved, dict) and set(saved) & set(_SECTIONS)):
        session.problem = f"{problem}, but nothing of its experiment; {fix}"
        return session  # the window's state, the last run... and the default experiment
    if "experiment" not in doc:
        session.resets = ["the experiment is missing (the default experiment is used)"]
        return session
    cut = cut.removeprefix("experiment.") if cut.startswith("experiment.") else ""
    model = saved.get("model") if isinstance(saved, dict) else None
    if cut == "model.layers" and isinstance(model, dict) and "preset" not in model:
        model["preset"] = None  # the layers kept are no preset's (its name was cut off)
    session.experiment, session.resets = repaired_experiment(saved, validate)
    if problem and isinstance(saved, dict):
        if cut:
            session.resets.append(cut_said(saved, cut))
        missing = [s for s in _SECTIONS if s not in saved]
        session.lost = [s for s in _SECTIONS if s in missing or s == cut.split(".")[0]]
        if missing:
            session.resets.append(f"{', '.join(missing)}: not in what could be read "
                                  f"(reset to {'its' if len(missing) == 1 else 'their'} "
                                  f"defaults)")
    return session


#: An experiment's sections, in the order it is written (its fields but its name).
_SECTIONS = tuple(f.name for f in fields(Experiment) if f.name != "name")


def _small_keys(doc: dict, problem: str) -> Session:
    """Everything of a session document but its experiment; a bad value is dropped."""
    window = _dict(doc.get("window"))
    train = _dict(doc.get("train"))
    runs = _dict(doc.get("runs"))
    selected = runs.get("selected")
    return Session(geometry=_geometry(window.get("geometry")),
                   tab=_str(window.get("tab")), last_run=_str(train.get("last_run")),
                   run_name=_str(train.get("run_name")).strip(),
                   runs_selected=[p for p in selected if isinstance(p, str) and p]
                   if isinstance(selected, list) else [],
                   splitters={k: g for k, v in _dict(window.get("splitters")).items()
                              if (g := _geometry(v))},
                   tune=_dict(doc.get("tune")), evaluate=_dict(doc.get("evaluate")),
                   predict=_dict(doc.get("predict")), augment=_dict(doc.get("augment")),
                   problem=problem)


def with_run_sections(experiment: Experiment, run_dir: str, sections: list[str]
                      ) -> Experiment:
    """``experiment`` with its ``sections`` (:attr:`Session.lost`) taken from the run
    folder ``run_dir``'s experiment.json: the settings that run was trained with.

    Raises
    ------
    WorkbenchError
        When that file cannot be read, or its sections cannot be used (naming it).
    """
    path = Path(run_dir) / "experiment.json"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        why = getattr(e, "strerror", None) or e
        raise WorkbenchError(f"cannot read the last run's settings, {path} ({why}); the "
                             f"restored settings are kept") from None
    if not isinstance(run, dict):
        raise WorkbenchError(f"{path} is not an experiment; the restored settings are kept")
    doc = experiment.to_dict()
    doc.update({s: run[s] for s in sections if s in run})
    try:
        return Experiment.from_dict(doc)
    except WorkbenchError as e:
        raise WorkbenchError(f"the last run's settings in {path} cannot be used ({e}); the "
                             f"restored settings are kept") from None


def _where(cut: str) -> str:
    return {"(start)": "at its start", "(top level)": "between its parts"}.get(cut, f"in {cut}")


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


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
