"""The searches: ``workbench lr-find`` (one sweep of the learning rate) and ``workbench
tune`` (an Optuna study, one run per trial); each can write what it found into the
experiment file."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from workbench.cli.common import (EXIT_DIVERGED, EXIT_OUT_OF_MEMORY, EXIT_USER_ERROR,
                                  UserError, _save_experiment, apply_sets,
                                  experiment_from_file)
from workbench.cli.signals import _ctrl_c_stops
from workbench.cli.training import check_experiment_file


def _refuse_run_file(path: str, option: str) -> None:
    """Refuse, before any work, to rewrite a run folder's own experiment.json (``option``:
    ``--write``, ``--apply``): resuming the run would then refuse its edited settings."""
    from workbench.core.export.outputs import run_file

    run = run_file(path)
    if run:
        raise UserError(f"{option} would rewrite {path}, {run}: a run's own files are never "
                        f"written over; copy it to a file of your own and give that")


def cmd_lr_find(args: argparse.Namespace) -> int:
    from workbench.core.errors import SpecError
    from workbench.core.train.lr_find import find_lr, set_lr

    check_experiment_file(args.experiment)
    if args.write:
        _refuse_run_file(args.experiment, "--write")
    exp = experiment_from_file(args.experiment, args.set, args.data)
    try:
        with _ctrl_c_stops() as stop:
            result = find_lr(exp, start_lr=args.start, end_lr=args.end, num_steps=args.steps,
                             stop_event=stop)
    except SpecError as e:
        flags = {"start_lr": "--start", "end_lr": "--end", "num_steps": "--steps"}
        flag = flags.get(e.field)
        problem = e.problem.replace("start_lr", flags["start_lr"])  # the option typed
        raise UserError(f"{flag}: {problem}" if flag else str(e)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.table())
        print(result.reason)
        if result.suggested_lr is None:
            print("suggested learning rate: none")
        else:
            print(f"suggested learning rate: {result.suggested_lr:.3g}")
    if args.write:
        if result.suggested_lr is None:
            print(f"no suggestion, so {args.experiment} was not changed", file=sys.stderr)
            return EXIT_USER_ERROR  # nothing to write: not a bug, as `tune --apply` below
        lr = float(f"{result.suggested_lr:.3g}")  # a rate a person can read in the JSON
        # The rate was found with the --set values (an SGD rate in an Adam file is wrong).
        found = set_lr(_with_sets(args), lr)
        _save_experiment(args.experiment,  # a relative data.folder stays relative
                         lambda: found.save(args.experiment, keep_relative_folder=True))
        print(f"wrote optimizer.params.lr = {lr:g} into {args.experiment}", file=sys.stderr)
        _say_sets(args, {"optimizer.params.lr"})
    return 0


def _with_sets(args: argparse.Namespace):
    """The experiment file as the search ran it: with the ``--set`` values (not ``--data``:
    another dataset is a run's choice, not the experiment's)."""
    from workbench.core.experiment import Experiment

    return apply_sets(Experiment.load(args.experiment), args.set)


def _say_sets(args: argparse.Namespace, found: set[str], epochs: int | None = None,
              trial: dict | None = None) -> None:
    """Name the ``--set`` values written beside the ``found`` paths (which won over them);
    a ``training.epochs`` the trials did not train (the space's ``epochs``, when given,
    was what each trial trained) is named apart, with what they trained, and so is one
    that ``trial`` (the one written, continued from before the ``--set``) trained
    otherwise."""
    from workbench.cli.common import parse_sets
    from workbench.core.tune.trained import KEPT, trained_value

    written = [s for s in args.set or [] if s.partition("=")[0].strip() not in found]
    unused = [s for s in written if epochs is not None
              and s.partition("=")[0].strip() == "training.epochs"]
    written = [s for s in written if s not in unused]
    # A KEPT one (the folder, the device) is this machine's, but the epochs are trained.
    other = {s: trained_value(trial, path) for s in written if trial is not None and (
        (path := s.partition("=")[0].strip()) == "training.epochs" or path not in KEPT)}
    other = {s: v for s, v in other.items() if v is not None
             and v != next(iter(parse_sets([s]).values()))}
    written = [s for s in written if s not in other]
    if written:
        print(f"also wrote the --set values the search ran with: {', '.join(written)}",
              file=sys.stderr)
    if other:
        print(f"also wrote the --set values, where trial {trial['number']} trained others: "
              f"{', '.join(f'{s} (it trained {v})' for s, v in other.items())}",
              file=sys.stderr)
    if unused:
        print(f"also wrote {unused[-1]} from --set, though the trials trained {epochs} "
              f"epoch(s) each (the space's \"epochs\")", file=sys.stderr)


def cmd_tune(args: argparse.Namespace) -> int:
    from workbench.core.errors import SpecError
    from workbench.core.tune.advice import study_advice
    from workbench.core.tune.provenance import OtherExperimentError, mark_name, searched_text
    from workbench.core.tune.study import run_study
    from workbench.core.tune.space import SearchSpace

    check_experiment_file(args.experiment)
    if args.apply:
        _refuse_run_file(args.experiment, "--apply")
    exp = experiment_from_file(args.experiment, args.set, args.data)
    try:
        space = SearchSpace.load(args.space)
    except SpecError as e:  # one without a field (unreadable, not JSON) names the file
        raise UserError(f"{args.space}: {e}" if e.field else str(e)) from None
    if args.study is None:
        _say_other_studies(exp, args.storage)
    advice = study_advice(exp, space.metric, space.params)  # the Tune tab's, under Metric
    if advice:
        print(f"note: {advice}", file=sys.stderr)
    try:
        with _ctrl_c_stops("stopping: this trial ends now and no other starts",
                           sigterm=True) as stop:
            summary = run_study(
                exp, space, trials=args.trials, timeout=args.timeout, storage=args.storage,
                study_name=args.study, stop_event=stop, other_experiment=args.other_experiment,
                on_trial=lambda t: print(_trial_line(t, space.metric), flush=True))
    except OtherExperimentError as e:  # said before any trial, as a changed space is
        raise UserError(f"{searched_text(e.study, e.searched)}, not {args.experiment}'s "
                        f"({'; '.join(e.differences)}): their trials are not comparable; give "
                        f"another --study name, or --other-experiment to add to it anyway"
                        ) from None
    except SpecError as e:
        flag = {"trials": "--trials", "timeout": "--timeout"}.get(e.field)
        where = f"{args.space}: " if e.field.startswith("space") else ""
        raise UserError(f"{flag}: {e.problem}" if flag else f"{where}{e}") from None
    print(summary.to_text())
    failed = None if stop.is_set() else summary.all_failed()
    if args.apply and summary.best_trial is None:
        print(f"no trial has completed, so {args.experiment} was not changed",
              file=sys.stderr)
        if not stop.is_set():  # nothing to apply: the space's or the budget's to change
            return _failed(failed, len(summary.ran)) if failed else EXIT_USER_ERROR
    elif args.apply:
        if summary.other_experiment:  # continued with --other-experiment: its best may be
            print(f"note: {searched_text(summary.study_name, mark_name(summary.experiment))}"
                  f" ({'; '.join(summary.other_experiment)}): its best trial may be one of "
                  f"that experiment's", file=sys.stderr)
        _apply_best(args, summary, space.epochs)
    if stop.is_set():
        return 143 if stop.signum == signal.SIGTERM else 130
    return _failed(failed, len(summary.ran)) if failed else 0


def _apply_best(args: argparse.Namespace, summary, space_epochs: int | None) -> None:
    """Write the best trial into EXP.json as it trained: its searched values and, where
    EXP.json has other settings now, the trial's, named on stderr
    (:mod:`workbench.core.tune.trained`), but the ``--set`` values, which are what was
    typed; say when it trained another number of epochs than EXP.json will."""
    from workbench.cli.common import parse_sets
    from workbench.core.tune.trained import epochs_note, trained_epochs, trial_settings

    trial = next(t for t in summary.trials if t["number"] == summary.best_trial)
    searched, trained, differences = trial_settings(_with_sets(args), trial,
                                                    kept=parse_sets(args.set))
    best = trained or searched
    _save_experiment(args.experiment,  # a relative data.folder stays relative
                     lambda: best.save(args.experiment, keep_relative_folder=True))
    print(f"wrote trial {summary.best_trial}'s parameters into {args.experiment}",
          file=sys.stderr)
    if differences:
        print(f"also wrote the other settings trial {summary.best_trial} trained, where "
              f"{args.experiment} had others: {'; '.join(differences)}", file=sys.stderr)
    _say_sets(args, set(summary.best_params), space_epochs, trial)
    note = epochs_note(best, trial)
    if note and not any(s.partition("=")[0].strip() == "training.epochs"
                        for s in args.set or []):  # _say_sets names a --set one
        print(f"note: {note}: give --set training.epochs={trained_epochs(trial)} (or set "
              f"it in {args.experiment}) to repeat the trial", file=sys.stderr)


def _say_other_studies(exp, storage: str | None) -> None:
    """Name the studies of the storage that searched ``exp`` under another name than the
    default (``<dataset>-<network>``, the Tune tab's): ``workbench tune`` once named a study
    after the experiment, and such a study is continued only with ``--study NAME``."""
    import optuna

    from workbench.core.runs.names import run_name_base
    from workbench.core.tune.storage import default_storage, storage_url, studies_of

    name = run_name_base(exp)
    found = studies_of(optuna, storage_url(storage or "") or default_storage(), exp)
    others = [n for n, count in found.items() if count and n != name]
    if others and name not in found:
        print(f"note: starting study {name} (named <dataset>-<network>, as the Tune tab "
              f"names it); this storage also holds {' and '.join(others)}, which searched "
              f"this experiment: to continue {'it' if len(others) == 1 else 'one'}, give "
              f"--study {others[0]}", file=sys.stderr)


def _failed(first: dict, ran: int) -> int:
    """Say why every trial of this run failed (the first one's error), and exit as ``train``
    would for it: 3 diverged, 4 out of memory, else 2 (the experiment's or the space's to
    fix, e.g. a runs folder it cannot write)."""
    which = (f"trial {first['number']} failed" if ran == 1 else
             f"all {ran} trials of this run failed; the first, trial {first['number']}")
    print(f"workbench tune: no trial completed: {which}: "
          f"{first.get('error') or 'no reason recorded'}", file=sys.stderr)
    return {"diverged": EXIT_DIVERGED, "out_of_memory": EXIT_OUT_OF_MEMORY}.get(
        first.get("failure"), EXIT_USER_ERROR)


def _trial_line(t: dict, metric: str) -> str:
    """One line per finished trial: its state, value, parameters and run folder."""
    def short(v):
        return f"{v:.4g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else v

    params = "  ".join(f"{k}={short(v)}" for k, v in t["params"].items())
    head = f"trial {t['number']} {t['state']}"
    if t["state"] == "complete":  # as train prints it: val_acc 93.8%, val_loss 0.2311
        from workbench.core.train.callbacks.progress import metric_text

        head += f"  {metric} {metric_text(metric, t['value'])}"
    elif t.get("error"):
        head += f": {t['error']}"
    # The run's training time, as run.json, the Runs and Tune tabs give it; without one (no
    # epoch finished) Optuna's time, setup included, said as such.
    took = (f"  ({t['train_s']:.1f} s)" if t.get("train_s") is not None else
            f"  ({t['duration_s']:.1f} s wall)" if t.get("duration_s") is not None else "")
    run = f"  run {t['run_dir']}" if t.get("run_dir") else ""
    return f"{head}  {params}{took}{run}"
