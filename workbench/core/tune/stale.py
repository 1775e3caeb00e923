"""Trials left "running" by a process that died: :func:`fail_dead_trials`.

A trial's process that is killed (SIGKILL, a crash, a closed terminal, a machine lost)
never tells the study: Optuna keeps the trial RUNNING until the next process that starts a
trial finds its heartbeat stale (:data:`~.storage._GRACE_S` after the last one). A study
continued sooner, or one that ends while such a trial is left, would show it as running
for good. :func:`run_study` (:mod:`.study`) calls :func:`fail_dead_trials` when it opens a
study and when it ends, and the Tune tab when it lists a stored study: a RUNNING trial
whose run is still "running" while its folder's lock is free (its process is gone:
:func:`workbench.core.runs.lock.is_live`), or whose heartbeat is stale, is marked failed,
``failure`` "interrupted", with the reason, its run folder (which the Runs tab lists as
interrupted, and Continue in Train goes on from) and the run's training time.

Each trial names its run folder (user attr ``run_dir``) as soon as the folder is made
(:class:`TrialFolder`); a trial of an older Workbench, which named it only at its end, is
matched to its folder by name and start time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from workbench.core.train.callbacks.base import Callback

#: What the State column and the summaries call a trial whose process died.
INTERRUPTED = "interrupted"


class TrialFolder(Callback):
    """Names the trial's run folder in its user attrs once the run has one (a watcher,
    heard after the recorder made it), so a trial whose process dies is linked to it."""

    def __init__(self, trial: Any):
        self.trial = trial

    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        run_dir = getattr(trainer, "run_dir", None)
        if run_dir is None:
            return
        try:
            self.trial.set_user_attr("run_dir", str(run_dir))
        except Exception:  # noqa: BLE001  (the storage busy: the trial names it at its end)
            pass


def fail_dead_trials(study: Any, runs_parent: str | Path | None = None) -> list[int]:
    """Mark failed (``failure`` "interrupted", with an ``error`` saying why and the
    ``run_dir`` where it is found) every RUNNING trial of ``study`` whose process is gone:
    its run is interrupted (run.json "running", the lock free), or its heartbeat is stale;
    its ``train_s`` is its run's training time (:func:`train_seconds`). Returns their
    numbers. A trial that is alive is spared: its process holds its run folder's lock, and
    before it has a folder its heartbeat is fresh.
    """
    import optuna
    from optuna.trial import TrialState

    from workbench.core.runs.lock import is_live
    from workbench.core.runs.store import read_run_info

    storage = study._storage
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    stale = _stale_ids(storage, study)
    marked = []
    for t in running:
        run_dir = _run_folder(t, study.study_name, runs_parent)
        # Its run still "running" with its lock free: cut off. (A run that ended has its
        # outcome in run.json before its process lets the lock go and tells the study;
        # where the lock cannot be asked, only the heartbeat tells.)
        live = is_live(run_dir) if run_dir is not None else None
        gone = live is False and read_run_info(run_dir).get("status") == "running"
        if live or (not gone and t._trial_id not in stale):
            continue
        try:
            for key, value in (("error", _why(t, run_dir, gone)), ("failure", INTERRUPTED),
                               ("run_dir", str(run_dir) if run_dir is not None else None),
                               ("train_s", train_seconds(run_dir))):
                storage.set_trial_user_attr(t._trial_id, key, value)
            if storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                marked.append(t.number)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another process marked it (or it ended) meanwhile
    return marked


def train_seconds(run_dir: str | Path | None) -> float | None:
    """The training time of the run in ``run_dir`` as its run.json and the Runs tab give it
    (``duration_s``: pauses excluded, an epoch cut short included); None without one."""
    from workbench.core.runs.store import read_run_info

    seconds = read_run_info(run_dir).get("duration_s") if run_dir is not None else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    return float(seconds)


def _stale_ids(storage: Any, study: Any) -> set[int]:
    """The ids of ``study``'s RUNNING trials whose heartbeat is stale (Optuna's rule)."""
    find = getattr(storage, "_get_stale_trial_ids", None)
    interval = getattr(storage, "get_heartbeat_interval", None)
    try:
        if find is None or interval is None or not interval():
            return set()  # no heartbeats kept: nothing to tell from them
        return set(find(study._study_id))
    except Exception:  # noqa: BLE001  (a storage that cannot say: Optuna's own check then)
        return set()


def _why(trial: Any, run_dir: Path | None, gone: bool) -> str:
    from workbench.core.runs.record import epochs_done

    text = ("its process ended during the trial (it was killed, crashed or its machine "
            "went down)" if gone else "its process stopped answering (no heartbeat for "
                                      "minutes: killed, crashed or its machine lost)")
    if run_dir is None:
        return text + "; it kept no run folder"
    done = epochs_done(run_dir) or 0
    kept = f"kept {done} finished epoch{'' if done == 1 else 's'}" if done else \
        "finished no epoch"
    return (f"{text}; its run {run_dir.name} {kept} and is listed as interrupted"
            + (": Continue in Train goes on from it" if done else ""))


_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})-")


def _run_folder(trial: Any, study_name: str, runs_parent: str | Path | None) -> Path | None:
    """The run folder of ``trial``: its ``run_dir`` attr, or (a trial of an older
    Workbench, which set it only at its end) the folder of its run's name made when it
    started; None when it has none (yet)."""
    attrs = trial.user_attrs
    if "run_dir" in attrs:  # None: a trial of this Workbench not at its folder yet
        return Path(attrs["run_dir"]) if attrs["run_dir"] else None
    from workbench.core.io import runs_dir
    from workbench.core.runs.recorder import safe_run_name
    from workbench.core.runs.store import read_run_info

    parent = Path(runs_parent) if runs_parent is not None else runs_dir()
    name = f"{study_name}-trial-{trial.number}"
    safe = safe_run_name(name)  # as new_run_dir named its folder
    pattern = re.compile(_STAMP.pattern + re.escape(safe) + r"(-\d+)?$")
    start = trial.datetime_start or datetime.min
    found = []
    try:
        folders = [p for p in parent.iterdir() if pattern.match(p.name) and p.is_dir()]
    except OSError:
        return None
    for folder in folders:
        made = datetime.strptime(_STAMP.match(folder.name).group(1), "%Y-%m-%d_%H-%M-%S")
        if made >= start - timedelta(seconds=2) and \
                read_run_info(folder).get("experiment_name") == name:
            found.append((made, folder))
    return min(found)[1] if found else None  # the first made after the trial started
