"""Where a study lives: its Optuna storage (a database URL), and opening or creating a
study in it with the sampler and pruner a :class:`~.space.SearchSpace` names.

Several processes, on one machine or many, that open the same study name in the same
storage cooperate: Optuna hands each its own trials (numbers), and the sampler
(:mod:`.sampling`) seeds each trial from its number, so processes do not repeat each
other's draws.
"""

from __future__ import annotations

import inspect
import os
import time
import warnings
from pathlib import Path
from typing import Any

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.tune.space import SearchSpace

#: Seconds a cooperating process waits for the SQLite file to be free (sqlite's default, 5 s,
#: is short while another process writes a trial).
_SQLITE_TIMEOUT_S = 60
#: A trial whose process stopped sending heartbeats this long ago (killed, machine lost) is
#: marked failed by the next process that starts a trial, instead of "running" forever.
_HEARTBEAT_S, _GRACE_S = 30, 120


def default_storage(runs_parent: str | Path | None = None) -> str:
    """``sqlite:///<runs dir>/studies.sqlite`` (creating the folder)."""
    from workbench.core.io import runs_dir

    folder = Path(runs_parent) if runs_parent is not None else runs_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbenchError(f"cannot create the runs folder {folder}: {e.strerror}; choose "
                             f"a writable one or give a storage URL") from None
    return f"sqlite:///{(folder / 'studies.sqlite').resolve()}"


def make_pruner(optuna: Any, space: SearchSpace) -> Any:
    """The Optuna pruner ``space.pruner`` names, with its options (SpecError for unknown
    ones)."""
    spec = dict(space.pruner)
    kind = spec.pop("type")
    cls = {"median": optuna.pruners.MedianPruner, "hyperband": optuna.pruners.HyperbandPruner,
           "threshold": optuna.pruners.ThresholdPruner, "none": optuna.pruners.NopPruner}[kind]
    if kind == "hyperband" and space.epochs and "max_resource" not in spec:
        spec["max_resource"] = space.epochs  # an epoch is the resource
    known = [n for n in inspect.signature(cls).parameters]
    unknown = sorted(set(spec) - set(known))
    if unknown:
        raise SpecError(f"space.pruner.{unknown[0]}", f"not an option of the {kind} pruner; "
                                                      f"it has {', '.join(known) or 'none'}")
    try:
        return cls(**spec)
    except (TypeError, ValueError) as e:
        raise SpecError("space.pruner", f"{e}") from None


def storage_url(text: str) -> str:
    """A storage as typed: a URL as it is, a plain file path as ``sqlite:///<its absolute
    path>`` (what anyone giving ``studies.sqlite`` means)."""
    text = text.strip()
    if not text or "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for another database, or in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    rest = rest[len("file:"):] if rest.startswith("file:") else rest  # a SQLite URI
    return Path(rest) if rest and rest != ":memory:" else None


def storage_problem(url: str, error: BaseException) -> WorkbenchError:
    """One line for a storage that cannot be opened or written: for a SQLite file, whether
    its folder is missing or read-only and what to do; else the database's own words."""
    cause: BaseException | None = error
    words = str(error)
    while cause is not None:  # Optuna wraps sqlalchemy's error, which wraps sqlite3's
        words = str(cause)
        cause = cause.__cause__ or cause.__context__
    first = words.splitlines()[0] if words else type(error).__name__
    fix = "choose another place for it (--storage, or the Tune tab's Storage field)"
    path = sqlite_path(url)
    if path is not None:
        folder = path.parent
        if not folder.is_dir():
            return WorkbenchError(f"cannot open the study storage {path}: the folder {folder} "
                                  f"does not exist; create it, or {fix}")
        read_only = "readonly" in first.replace("-", "").replace(" ", "").lower()
        if read_only or not os.access(folder, os.W_OK) or (
                path.exists() and not os.access(path, os.W_OK)):
            return WorkbenchError(f"cannot write the study storage {path}: it or its folder "
                                  f"{folder} is read-only ({first}); {fix}")
        return WorkbenchError(f"cannot use the study storage {path}: {first}; {fix}")
    return WorkbenchError(f"cannot use the study storage {redact(url)}: {first}; give an "
                          f"Optuna storage URL such as sqlite:///studies.sqlite")


def open_storage(optuna: Any, url: str) -> Any:
    """An Optuna ``RDBStorage`` for ``url``, with heartbeats so a dead process's trial is
    failed, not left running; WorkbenchError naming the URL when it cannot be opened."""
    kwargs = {"connect_args": {"timeout": _SQLITE_TIMEOUT_S}} if url.startswith("sqlite") \
        else {}
    last: Exception | None = None
    for attempt in range(5):  # two processes creating the same new file race on its tables
        try:
            with warnings.catch_warnings():  # Optuna still marks heartbeats experimental
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=kwargs,
                                                  heartbeat_interval=_HEARTBEAT_S,
                                                  grace_period=_GRACE_S)
        except Exception as e:  # sqlalchemy's errors, a bad URL, a missing driver
            last = e
            # The loser of a race to create a new file's tables sees one of these; by the
            # next attempt the winner has made them. Anything else (a bad URL) is final.
            if type(e).__name__ not in ("OperationalError", "IntegrityError"):
                break
            time.sleep(0.5 * (attempt + 1))
    if last is not None and sqlite_path(url) is not None:
        raise storage_problem(url, last) from None
    raise WorkbenchError(f"cannot open the study storage {redact(url)}: "
                         f"{str(last).splitlines()[0] if last else 'unknown error'}; give an "
                         f"Optuna storage URL such as sqlite:///studies.sqlite") from None


def open_study(optuna: Any, url: str, name: str, space: SearchSpace) -> Any:
    """Create study ``name`` in ``url``, or load it when it exists (another process may be
    creating it at the same moment); SpecError when it measures another metric or
    direction than ``space``. Its sampler is :func:`.sampling.make_sampler`'s (a seed fixes
    what each trial number draws, so cooperating processes and re-runs draw new values)."""
    storage = open_storage(optuna, url)
    try:
        return _open_study(optuna, storage, url, name, space)
    except (SpecError, WorkbenchError):
        raise
    except Exception as e:  # the database refused a write: a read-only file or folder
        if type(e).__module__.split(".")[0] in ("optuna", "sqlalchemy", "sqlite3"):
            raise storage_problem(url, e) from None
        raise


def _open_study(optuna: Any, storage: Any, url: str, name: str, space: SearchSpace) -> Any:
    from workbench.core.tune.sampling import make_sampler

    for attempt in range(5):
        try:
            study = optuna.create_study(storage=storage, study_name=name,
                                        sampler=make_sampler(space),
                                        pruner=make_pruner(optuna, space),
                                        direction=space.direction, load_if_exists=True)
            break
        except optuna.exceptions.DuplicatedStudyError:  # created by another process just now
            time.sleep(0.2 * (attempt + 1))
    else:
        raise WorkbenchError(f"cannot create or load study {name} in {redact(url)}")
    # The metric first: it is what the user chose (the direction follows from it).
    metric = study.user_attrs.get("metric")
    if metric is not None and metric != space.metric:
        raise SpecError("space.metric", f"study {name} already measures {metric}, not "
                                        f"{space.metric}: use metric {metric}, or another "
                                        f"study name")
    if study.direction.name.lower() != space.direction:
        raise SpecError("space.direction", f"study {name} already exists and "
                                           f"{study.direction.name.lower()}s its value: use "
                                           f"the same direction, or another study name")
    if metric is None:
        study.set_user_attr("metric", space.metric)
        study.set_user_attr("space", space.to_dict())
    check_space_fits(study, space)
    return study


def check_space_fits(study: Any, space: SearchSpace) -> None:
    """Refuse, before any trial starts, a space that Optuna cannot continue ``study`` with:
    a field its trials searched as another kind (a range, now choices), on another scale
    (log or not), or with other choices. A changed range, step, or an added or removed field
    is fine (Optuna continues those). SpecError naming the field, the study and what it
    searched. When every trial that searched the field failed (a float range on an integer
    field), searching it as before is no advice: the refusal says to start another study
    (Optuna keeps a field's kind for the whole study, failed trials included)."""
    from optuna.distributions import check_distribution_compatibility
    from optuna.trial import TrialState

    from workbench.core.tune.sampling import distributions_of

    new = distributions_of(space)
    old: dict[str, Any] = {}
    worked: set[str] = set()  # fields some trial that did not fail searched
    for t in study.get_trials(deepcopy=False):
        for path, dist in t.distributions.items():
            old.setdefault(path, dist)
            if t.state != TrialState.FAIL:
                worked.add(path)
    for path, dist in new.items():
        if path not in old:
            continue
        try:
            check_distribution_compatibility(old[path], dist)
        except ValueError:
            was = old[path]
            if _kind(was) != _kind(dist):
                what, advice = "the kind", f"search it as {_a(_kind(was))} again"
                if space.sampler == "grid":  # it asks for every field as a list of values
                    advice += " (with another sampler than grid)"
            elif _kind(was) == "choices":
                what, advice = "the choices", "use the same choices"
            else:
                what, advice = "the scale", (f"search it on a {'log' if was.log else 'linear'}"
                                             f" scale again")
            head = (f"study {study.study_name} already searched it over {_describe(was)}, "
                    f"and a study cannot change {what} of a field it searched (this search "
                    f"gives {_describe(dist)})")
            if path not in worked:  # searching it so again would fail again
                raise SpecError(f"space.params.{path}", (
                    f"{head}; every trial that searched it failed, so give another study "
                    f"name (--study, or the Tune tab's Study name), e.g. "
                    f"{study.study_name}-2")) from None
            raise SpecError(f"space.params.{path}",
                            f"{head}: {advice}, or give another study name") from None


def _kind(dist: Any) -> str:
    """"choices", "int range" or "float range"."""
    if hasattr(dist, "choices"):
        return "choices"
    return "int range" if type(dist).__name__ == "IntDistribution" else "float range"


def _a(kind: str) -> str:
    return {"choices": "the same choices", "int range": "an int range"}.get(kind, "a float "
                                                                                  "range")


def _describe(dist: Any) -> str:
    """A distribution in words: "choices ['Adam', 'SGD']", "an int range 16 to 128"."""
    if hasattr(dist, "choices"):
        return f"choices {list(dist.choices)!r}"
    kind = "an int" if type(dist).__name__ == "IntDistribution" else "a float"
    step = f", step {dist.step:g}" if dist.step not in (None, 1) else ""
    return (f"{kind} range {dist.low:g} to {dist.high:g}{step}"
            f"{', log scale' if dist.log else ''}")


def studies_of(optuna: Any, url: str, experiment: Any) -> dict[str, int]:
    """The studies in storage ``url`` that searched ``experiment`` (their mark matches it:
    :mod:`.provenance`), with their number of trials: the way to a study named otherwise
    than the default (``workbench tune`` once named a study after the experiment's name).
    ``{}`` for a SQLite file that is not there (it is not created)."""
    from workbench.core.tune.provenance import ATTR, mark_differences

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return {}
    summaries = optuna.get_all_study_summaries(open_storage(optuna, url),
                                               include_best_trial=False)
    return {s.study_name: s.n_trials for s in summaries
            if isinstance(s.user_attrs.get(ATTR), dict)
            and not mark_differences(s.user_attrs[ATTR], experiment)}


def load_study(optuna: Any, url: str, name: str) -> Any:
    """An existing study; WorkbenchError listing the storage's studies when it is not there."""
    storage = open_storage(optuna, url)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise WorkbenchError(f"there is no study {name} in {redact(url)}; it has "
                             f"{', '.join(names) or 'none'}") from None


def redact(url: str) -> str:
    """A storage URL without its password (it is printed and stored in summaries)."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
