"""Hyperparameter search over an Experiment with Optuna: :func:`run_study`.

Optuna does the searching (samplers, pruners) and the bookkeeping (its RDB storage); this
module only turns a trial's values into an Experiment (:mod:`.space`), trains it with
the ordinary :class:`~workbench.core.train.trainer.Trainer`, and reports each epoch's metric
back so a pruner can stop a poor trial early. Every trial that finished an epoch is an
ordinary run folder, so it appears in the run history like any other (one stopped before
its first epoch has nothing to keep, and leaves none); a pruned one is "pruned" there.

The study lives in an Optuna storage, by default ``sqlite:///<runs dir>/studies.sqlite``:
it survives a restart and is continued by running the same study again, and several
processes (or machines, with a shared database URL) that open the same study name cooperate.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.train.allocator import release_free_memory
from workbench.core.train.callbacks.progress import metric_text
from workbench.core.runs.names import run_name_base
from workbench.core.tune.provenance import ATTR, claim, mark_name, searched_text
from workbench.core.tune.sampling import grid_progress
from workbench.core.tune.space import SearchSpace, apply_params
from workbench.core.tune.stale import TrialFolder, fail_dead_trials, train_seconds
from workbench.core.tune.storage import default_storage, load_study, open_study, redact
from workbench.core.tune.storage import storage_url as storage_url_of
from workbench.core.tune.trained import TRAINED

__all__ = ["SearchSpace", "StudySummary", "apply_params", "best_params", "default_storage",
           "run_study"]

class _TrialFailed(Exception):
    """A trial that ended without a value; its message is the trial's ``error`` attr."""


@dataclass
class StudySummary:
    """Where a study stands: its best trial and every trial (from every process).

    Attributes
    ----------
    trials
        One dict per trial, oldest first: ``number, state, value, params, duration_s,
        run_dir, error, failure, epoch, train_s, trained`` (``trained``: the experiment it
        trained, :mod:`.trained`; ``epoch``: the epoch of the run's saved
        model, whose metric ``value`` is; ``train_s``: its run's training time, pauses
        excluded, as run.json and the Runs tab give it, None without a run; ``duration_s``:
        Optuna's wall time, setup included; ``state``: complete, pruned, fail, running, waiting;
        ``failure``, for a failed trial: diverged, out_of_memory, failed, stopped, or
        interrupted: its process died, :mod:`.stale`).
    ran
        The numbers of the trials this call of :func:`run_study` ran.
    note
        Why this call ran no trial, when it ran none for a reason (a grid that is done).
    """

    study_name: str
    storage: str
    metric: str
    direction: str
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_trial: int | None = None
    best_run_dir: str | None = None
    trials: list[dict[str, Any]] = field(default_factory=list)
    ran: list[int] = field(default_factory=list)
    note: str | None = None
    #: Which experiment the study searched (:func:`.provenance.experiment_mark`), or None.
    experiment: dict[str, Any] | None = None
    #: How this call's experiment differs from it, when continued anyway (``other_experiment``).
    other_experiment: list[str] = field(default_factory=list)

    def all_failed(self) -> dict[str, Any] | None:
        """The first trial this call ran, when every trial it ran failed (none completed or
        was pruned); None when one did, or when it ran none."""
        mine = [t for t in self.trials if t["number"] in self.ran]
        if mine and all(t["state"] == "fail" for t in mine):
            return mine[0]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"study_name": self.study_name, "storage": self.storage, "metric": self.metric,
                "direction": self.direction, "best_value": self.best_value,
                "best_params": dict(self.best_params), "best_trial": self.best_trial,
                "best_run_dir": self.best_run_dir, "trials": [dict(t) for t in self.trials],
                "ran": list(self.ran), "note": self.note, "experiment": self.experiment,
                "other_experiment": list(self.other_experiment)}

    def to_text(self) -> str:
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t["state"]] = counts.get(t["state"], 0) + 1
        lines = [self.note] if self.note else []
        if self.other_experiment:
            lines.append(f"{searched_text(self.study_name, mark_name(self.experiment))}, not "
                         f"this one: {'; '.join(self.other_experiment)}")
        lines += [f"study {self.study_name} ({self.storage}): {len(self.trials)} trial(s)"
                 + (f" ({', '.join(f'{n} {s}' for s, n in counts.items())})" if counts else "")]
        if self.best_trial is None:
            lines.append("no trial has completed yet")
        else:
            lines.append(f"best: trial {self.best_trial}, {self.metric} "
                         f"{metric_text(self.metric, self.best_value)} ({self.direction})")
            lines += [f"  {k} = {v!r}" for k, v in self.best_params.items()]
            if self.best_run_dir:
                lines.append(f"  run: {self.best_run_dir}")
        return "\n".join(lines)


def trial_dict(trial: Any) -> dict[str, Any]:
    """A finished (frozen) Optuna trial as plain values, for printing or a GUI."""
    duration = trial.duration.total_seconds() if trial.duration is not None else None
    return {"number": trial.number, "state": trial.state.name.lower(), "value": trial.value,
            "params": dict(trial.params), "duration_s": duration,
            "run_dir": trial.user_attrs.get("run_dir"), "error": trial.user_attrs.get("error"),
            "failure": trial.user_attrs.get("failure"), "epoch": trial.user_attrs.get("epoch"),
            "train_s": trial.user_attrs.get("train_s"),
            TRAINED: trial.user_attrs.get(TRAINED)}  # else read when used: trained_of


def run_study(experiment: Experiment, space: SearchSpace | dict[str, Any],
              trials: int | None = None, timeout: float | None = None,
              storage: str | None = None, study_name: str | None = None,
              runs_parent: str | Path | None = None, callbacks: Iterable[Any] = (),
              stop_event: threading.Event | None = None,
              on_trial: Callable[[dict[str, Any]], None] | None = None,
              quiet: bool = True,
              on_trial_start: Callable[[int], None] | None = None,
              other_experiment: bool = False) -> StudySummary:
    """Search ``space`` around ``experiment``: train ``trials`` trials (or until ``timeout``).

    Parameters
    ----------
    experiment
        The starting point; each trial is a copy with the searched fields set.
    space
        A :class:`SearchSpace` or a SPACE.json dict.
    trials, timeout
        This process's budget: a number of trials and/or seconds (no trial starts after the
        timeout; the running one finishes). Other processes on the study have their own.
        A grid search may give neither: it ends when the grid is done, and runs no trial
        (saying so in the summary's ``note``) when every combination has been started.
    storage
        An Optuna storage URL (``sqlite:///file``, ``postgresql://...``; a plain file path
        is a SQLite file); default
        :func:`default_storage` of ``runs_parent``.
    study_name
        Default: ``<dataset>-<network>`` (:func:`~workbench.core.runs.names.run_name_base`),
        as the Tune tab names it. A study that exists is continued, but not one that searched
        another dataset or network (:class:`~.provenance.OtherExperimentError`) unless
        ``other_experiment``: the summary's ``other_experiment`` then says how it differs.
    runs_parent
        Where the trials' run folders go (default: the runs folder).
    callbacks
        Extra :class:`~workbench.core.train.trainer.Callback` s for every trial's trainer.
    stop_event
        Set it to stop the running trial's training at the next batch (that trial is marked
        failed, "stopped") and start no more.
    on_trial
        Called with :func:`trial_dict` after each of this process's trials.
    on_trial_start
        Called with a trial's number as this process starts it (before its run folder).
    quiet
        Lower Optuna's own logging to warnings (the caller reports the trials).

    Returns
    -------
    StudySummary
        The whole study, including trials of other processes.

    Raises
    ------
    SpecError, WorkbenchError
        For a bad space, budget, dataset or storage; a trial that fails (an invalid
        combination, a diverged run) is recorded as failed instead.
    """
    import optuna

    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = space if isinstance(space, SearchSpace) else SearchSpace.from_dict(space)
    _check_budget(trials, timeout, space)
    exp = space.check(experiment)
    study_name = study_name or run_name_base(exp)
    storage_url = storage_url_of(storage or "") or default_storage(runs_parent)
    study = open_study(optuna, storage_url, study_name, space)
    other = claim(study, exp, other_experiment)  # which experiment it searches (provenance)
    fail_dead_trials(study, runs_parent)  # a killed process's trial is not running (stale.py)
    index = _scan_once(exp) if "data.folder" not in space.params else None
    stop_event = stop_event if stop_event is not None else threading.Event()
    extra = list(callbacks)

    failed: set[int] = set()  # trials that failed for a reason on_trial reports
    ran: list[int] = []

    def objective(trial: Any) -> float:
        ran.append(trial.number)
        if on_trial_start is not None:
            on_trial_start(trial.number)
        try:
            return _run_trial(trial, exp, space, study_name, runs_parent, extra, stop_event,
                              index)
        except _TrialFailed:
            failed.add(trial.number)
            raise
        finally:
            release_free_memory()  # the trial's buffers, kept by the heap for speed

    def after(study: Any, frozen: Any) -> None:
        if on_trial is not None:
            on_trial(trial_dict(frozen))
        if stop_event.is_set() or _grid_done(study, space) is not None:
            study.stop()

    # Optuna's grid sampler would run a done grid's combinations again (with a warning):
    # nothing is left to this process once every combination is finished or running.
    note = _grid_done(study, space) if not stop_event.is_set() else None
    if not stop_event.is_set() and note is None:
        with _quiet_expected_failures(failed):
            study.optimize(objective, n_trials=trials, timeout=timeout,
                           catch=(_TrialFailed,), callbacks=[after])
    fail_dead_trials(study, runs_parent)  # one another process left meanwhile
    summary = summarize(study, storage_url, space.metric)
    summary.ran, summary.note, summary.other_experiment = ran, note, other
    return summary


def best_params(storage: str, study_name: str) -> dict[str, Any]:
    """The best completed trial's parameters (dotted path -> value) of a stored study.

    Raises
    ------
    WorkbenchError
        When the study does not exist or no trial has completed.
    """
    import optuna

    storage = storage_url_of(storage)
    study = load_study(optuna, storage, study_name)
    summary = summarize(study, storage, study.user_attrs.get("metric", "value"))
    if summary.best_trial is None:
        raise WorkbenchError(f"study {study_name} has no completed trial yet: run more "
                             f"trials first (workbench tune ... --study {study_name})")
    return summary.best_params


def summarize(study: Any, storage: str, metric: str) -> StudySummary:
    """A :class:`StudySummary` of an Optuna study."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    summary = StudySummary(study.study_name, redact(storage), metric,
                           study.direction.name.lower(),
                           trials=[trial_dict(t) for t in trials],
                           experiment=study.user_attrs.get(ATTR))
    if any(t.state == TrialState.COMPLETE for t in trials):
        best = study.best_trial
        summary.best_value, summary.best_params = best.value, dict(best.params)
        summary.best_trial, summary.best_run_dir = best.number, best.user_attrs.get("run_dir")
    return summary


# -- one trial ---------------------------------------------------------------------------
def _run_trial(trial: Any, exp: Experiment, space: SearchSpace, study_name: str,
               runs_parent: Any, extra: list, stop_event: threading.Event, index: Any) -> float:
    import optuna

    from workbench.core.runs.store import update_run_info
    from workbench.core.train.callbacks.base import Callback
    from workbench.core.train.run import run_training

    params = _suggest(trial, space)
    try:
        trial_exp = apply_params(exp, params)
    except SpecError as e:  # a combination the ranges allow but the Experiment does not
        _fail(trial, f"invalid combination: {e}")
    trial_exp.name = f"{study_name}-trial-{trial.number}"
    trial.set_user_attr("run_dir", None)  # named once the run makes it (stale.TrialFolder)
    if space.epochs is not None:
        trial_exp.training.epochs = space.epochs
    trial.set_user_attr(TRAINED, trial_exp.to_dict())  # its unsearched settings (trained.py)

    class Report(Callback):
        pruned_at: int | None = None

        def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
            value = metrics.get(space.metric)
            if value is None:
                return
            trial.report(float(value), epoch)
            if trial.should_prune():
                self.pruned_at = epoch
                trainer.request_stop()

    report = Report()
    # Its own stop flag: a pruned trial must not stop the study's later trials.
    own_stop = threading.Event()
    relay = threading.Thread(target=_relay, args=(stop_event, own_stop), daemon=True)
    relay.start()
    try:
        outcome = run_training(trial_exp, None, [report], [*extra, TrialFolder(trial)],
                               runs_parent=runs_parent, stop_event=own_stop, index=index)
    finally:
        own_stop.set()  # ends the relay thread
        relay.join()
    # None when the run kept nothing (no epoch finished: its folder was removed).
    trial.set_user_attr("run_dir", str(outcome.run_dir) if outcome.run_dir is not None
                        else None)
    # The run's training time, as run.json and the Runs tab give it (a stopped or diverged
    # run's cut-short epoch included); none without a run.
    trial.set_user_attr("train_s", train_seconds(outcome.run_dir))
    if outcome.failed:
        if not isinstance(outcome.error, WorkbenchError):
            raise outcome.error  # a bug of ours, not the trial's
        message = outcome.message
        searched = space.params.get("data.batch_size")
        if outcome.status == "out_of_memory" and searched is not None and searched.high:
            # "Try batch size 16" means the searched range here: its top is too high.
            message += (f". data.batch_size is searched ({searched.low} to {searched.high}): "
                        f"lower the range's high end below {params['data.batch_size']}")
        _fail(trial, message, outcome.run_dir, outcome.status)  # diverged, ...
    result = outcome.result
    if report.pruned_at is not None:
        why = f"pruned by Optuna after epoch {report.pruned_at} (study {study_name})"
        # "pruned", not the trainer's "stopped": the Runs tab says what the Tune tab says
        # (it continues like a stopped run: its checkpoint is kept).
        with contextlib.suppress(OSError, WorkbenchError):
            update_run_info(outcome.run_dir, status="pruned", message=why)
        raise optuna.TrialPruned(why)
    if result.stopped:
        _fail(trial, f"stopped by the user after {len(result.history)} epoch(s)",
              kind="stopped")
    # The trial's value is the saved model's: the metric of the epoch whose weights the run
    # kept (its bundle, run.json, the Runs tab and Evaluate report that one), not the best
    # epoch's, which no saved model has unless early stopping restored it.
    kept = result.weights_metrics or {}
    value = kept.get(space.metric)
    if value is None:
        _fail(trial, f"no {space.metric} was measured: "
                     + ("give data.val_fraction above 0 or use metric train_acc"
                        if space.metric.startswith("val") else "no epoch finished"))
    trial.set_user_attr("epoch", result.weights_epoch)
    return float(value)


def _relay(study_stop: threading.Event, trial_stop: threading.Event) -> None:
    # Poll both flags: the study's stop request reaches the running trainer within 0.2 s.
    while not trial_stop.is_set():
        if study_stop.wait(0.2):
            trial_stop.set()


def _fail(trial: Any, message: str, run_dir: Any = None, kind: str = "failed") -> None:
    trial.set_user_attr("error", message)
    trial.set_user_attr("failure", kind)
    if run_dir is not None:
        trial.set_user_attr("run_dir", str(run_dir))
    raise _TrialFailed(message)


def _suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    # The distributions asked for here are sampling.distributions_of's: keep them alike.
    params = {}
    for path, p in space.params.items():
        if space.sampler == "grid":
            params[path] = trial.suggest_categorical(path, p.grid_values())
        elif p.kind == "categorical":
            params[path] = trial.suggest_categorical(path, p.choices)
        elif p.kind == "int":
            params[path] = trial.suggest_int(path, p.low, p.high, step=p.step or 1, log=p.log)
        else:
            params[path] = trial.suggest_float(path, p.low, p.high, step=p.step, log=p.log)
    return params


# -- the study ---------------------------------------------------------------------------
def _check_budget(trials: int | None, timeout: float | None, space: SearchSpace) -> None:
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int)
                               or trials < 1):
        raise SpecError("trials", f"expected a number of trials of at least 1, got {trials!r}")
    if timeout is not None and not timeout > 0:
        raise SpecError("timeout", f"expected a number of seconds above 0, got {timeout!r}")
    if trials is None and timeout is None and space.sampler != "grid":
        raise SpecError("trials", "give a number of trials and/or a time budget (a search "
                                  "has no natural end)")


def _grid_done(study: Any, space: SearchSpace) -> str | None:
    """Why a grid search has nothing left to run (None: it has, or it is no grid search)."""
    if space.sampler != "grid":
        return None
    import optuna

    with warnings.catch_warnings():  # Optuna still marks it experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a dead process's trial is not running
    total, finished, running = grid_progress(study, space)
    if finished + running < total:
        return None
    if running:
        return (f"every combination of the grid of {total} has been started (study "
                f"{study.study_name}; {running} still running in another process): nothing "
                f"to run")
    return (f"the grid of {total} combinations is done (study {study.study_name}): nothing "
            f"to run")


def _scan_once(exp: Experiment) -> Any:
    """Scan the dataset before the first trial: a missing folder is the study's error, not
    every trial's, and later trials reuse the scan."""
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder

    index = scan_folder(dataset_folder(exp.data.folder))
    index.check_trainable()
    return index


@contextlib.contextmanager
def _quiet_expected_failures(failed: set[int]):
    """Optuna logs every caught failure with its traceback; ours (trial numbers in
    ``failed``) are reported as one line, the trial's ``error``: drop Optuna's records of
    them and keep any other warning."""
    logger = logging.getLogger("optuna.study._optimize")

    def keep(record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _TrialFailed):
            return False
        m = re.match(r"Trial (\d+) failed", str(record.msg))
        return not (m and int(m.group(1)) in failed)

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)
