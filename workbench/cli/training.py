"""``workbench train`` and ``workbench resume``: one run, trained into its folder through
the run façade, its outcome printed once with the exit code it means."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path

from workbench.cli.common import (EXIT_DIVERGED, EXIT_OUT_OF_MEMORY, EXIT_USER_ERROR,
                                 UserError, apply_overrides, dataset_notes,
                                 experiment_from_file, main_process)
from workbench.cli.run_folder import _claim_run_folder, _hold_run_lock, _remove_if_unused
from workbench.cli.run_warnings import warnings_and_index
from workbench.cli.signals import _ctrl_c_stops, _Terminated


def cmd_train(args: argparse.Namespace) -> int:
    from workbench.core.runs.recorder import unused_sibling

    check_experiment_file(args.experiment)
    exp = experiment_from_file(args.experiment, args.set, args.data, {
        "training.epochs": args.epochs, "data.batch_size": args.batch_size,
        "training.device": args.device, "data.cache": args.cache,
        "optimizer.params.lr": args.lr})
    _refused_up_front(exp)
    out = Path(args.out)
    lock = _claim_run_folder(out, args.overwrite)
    created = not out.exists()
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            from workbench.core.train.disk import folder_failure

            raise UserError(folder_failure(out, e)) from None
        if lock is None:  # a new or empty folder: held before a word is said, so a second
            try:          # train into it now is refused alone
                lock = _hold_run_lock(out, f"train into a fresh folder (e.g. --out "
                                           f"{unused_sibling(out)})")
            except UserError:
                created = False  # the other process's folder: not ours to remove
                raise
        warnings: list[str] = []
        index = None  # the dataset as scanned for the warnings (None: the run scans it)
        if main_process():  # the demo dataset; data.exclude entries that match nothing
            for note in dataset_notes(exp):
                if note:
                    print(f"note: {note}", file=sys.stderr)
            # A learning rate that will very likely diverge (said before, not after, the
            # run); what the Model doctor warns about the network (a frozen backbone with
            # random weights learns little better than guessing), with its --set fix; what
            # the Augment and Data tabs warn about the data (a flip that changes the label,
            # the test part given as the dataset, a handful of validation images). Kept in
            # run.json's start_warnings too.
            said, index = warnings_and_index(exp)
            warnings = [w for w in [optimizer_note(exp)] + said if w]
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
        return _run(exp, out, lock=lock, created=created, warnings=warnings, index=index)
    finally:
        if lock is not None:  # the recorder releases it when the run ends; this if not
            lock.release()
        if created:
            _remove_if_unused(out)


def check_experiment_file(path: str) -> None:
    """Refuse an experiment file that is not there, naming the command that writes one."""
    if not Path(path).exists():
        raise UserError(f"experiment file {path} does not exist: write one with workbench "
                        f"init -o {shlex.quote(path)} (--data DIR fits it to a dataset)")


def _run_name(out: Path) -> str:
    """The name of a run trained into ``out``: its folder's name, without the date stamp of
    a folder named as the app names them (runs/2026-12-06_11-00-00-baseline: "baseline")."""
    from workbench.core.runs.record import name_in_folder

    folder = out.resolve().name
    return name_in_folder(folder) or folder


def _ended_before_abort(out: Path) -> str:
    """What run.json says of a run whose end was recorded whole before a second Ctrl-C
    was raised (the end waits for it: core.interrupts), with its bundle: "it is recorded
    as finished, its model in RUN/bundle.pt"; "" when it was cut before that."""
    from workbench.core.runs.store import read_run_info

    try:
        info = read_run_info(out)
    except Exception:  # noqa: BLE001  (a word of advice: the abort goes on)
        return ""
    status, bundle = info.get("status"), out / "bundle.pt"
    if status in (None, "running") or not info.get("finished") or not bundle.is_file():
        return ""
    more = (f" (continue it with {resume_command(out)})" if status != "finished" else "")
    return f"it is recorded as {status}{more}, its model in {bundle}"


def optimizer_note(exp) -> str:
    """The advice on ``exp``'s optimizer settings
    (:func:`workbench.core.train.optim_advice.optimizer_advice`) with the option that fixes
    it, or ``""``: printed as a ``warning:`` by ``train`` and ``check`` (a run that will
    very likely fail, as the Model doctor's warnings say of theirs); it stops nothing."""
    from workbench.core.train.optim_advice import fmt, optimizer_advice

    advice = optimizer_advice(exp.optimizer)
    if advice is None:
        return ""
    value = fmt(advice.suggested)
    option = f"--lr {value}" if advice.param == "lr" else \
        f"--set optimizer.params.{advice.param}={value}"
    return (f"{advice.message} On the command line: {option}, or set "
            f"optimizer.params.{advice.param} in the experiment file.")


def cmd_resume(args: argparse.Namespace) -> int:
    from workbench.core.runs.recorder import holds_run

    given = Path(args.run_dir)
    run_dir = given.parent.parent if given.is_file() else given  # a checkpoint file's run
    # The run lock before the checkpoint is read: a run that ends meanwhile is continued
    # from the epoch it ended with, not from the one before it (whose results would then
    # be overwritten). A folder that holds no run gets no lock file; loading says why.
    lock = _hold_run_lock(run_dir, "") \
        if holds_run(run_dir) else None
    try:
        return _resume(args, given, run_dir, lock)
    finally:
        if lock is not None:  # the recorder releases it when the run ends; this if not
            lock.release()


def _resume(args: argparse.Namespace, given: Path, run_dir: Path, lock) -> int:
    """``workbench resume`` once ``run_dir``'s lock is held (``lock``)."""
    from workbench.core.runs.plan import counting_on_note
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.continuing import missing_dataset, run_settings
    from workbench.core.train.resume import check_resumable

    ckpt = load_checkpoint(given)
    if args.epochs is None and Path(ckpt.path).name == "last.pt":
        from workbench.core.train.finish import unfinished

        todo = unfinished(run_dir, ckpt)
        if todo is not None:  # trained to its end, but its bundle was never written
            if lock is not None:
                lock.release()  # finish_run takes it
            return _finish_run(run_dir, ckpt, todo)
    # The checkpoint's settings, with an edit of RUN/experiment.json applied (the rule the
    # app's Continue… follows too); an invalid or unfollowable edit refuses the resume.
    settings = run_settings(run_dir, ckpt)
    exp = settings.experiment
    planned = exp.training.epochs
    if args.epochs is not None:
        if args.epochs < 1:
            raise UserError("--epochs: give the number of epochs to add, at least 1")
    elif ckpt.epoch >= planned:
        raise UserError(f"{args.run_dir} has finished all its {planned} epochs: give "
                        f"--epochs N to train N more")
    exp = apply_overrides(exp, args.set, args.data, {
        "training.epochs": None if args.epochs is None else ckpt.epoch + args.epochs,
        "training.device": args.device, "optimizer.params.lr": args.lr})
    # Everything that refuses the resume before a word of it is said or written: what the
    # checkpoint cannot carry over, a dataset that is gone (another process training the
    # run now was refused above).
    check_resumable(settings.saved, exp)
    gone = missing_dataset(exp.data.folder, f"give where it is now with --data DIR (a "
                                            f"folder with the same classes): "
                                            f"{resume_command(args.run_dir, '--data DIR')}")
    if gone:
        raise UserError(gone)
    index = _refused_up_front(exp, list(ckpt.classes))
    advice = optimizer_note(exp)
    if main_process():
        # Why it goes on from best.pt, before the header that names its epoch.
        for note in [n for n in [ckpt.note] if n] + settings.notes:
            print(f"note: {note}", file=sys.stderr)
        # A rate given with --lr (or kept) that will very likely diverge, as train says.
        if advice:
            print(f"warning: {advice}", file=sys.stderr)
        # Finishing the plan counts early stopping on (the run does): how soon it may end.
        counting = counting_on_note(exp.training, ckpt.callbacks.get("early_stopping", {}),
                                    ckpt.epoch, "resume --epochs N") if \
            exp.training.epochs == ckpt.experiment.training.epochs else ""
        counting = f"; {counting[:1].lower()}{counting[1:-1]}" if counting else ""
        print(f"resuming {run_dir} after epoch {ckpt.epoch}: epochs {ckpt.epoch + 1} to "
              f"{exp.training.epochs}{counting}", flush=True)
    return _run(exp, run_dir, ckpt, lock=lock, command="resume",
                warnings=[advice] if advice else [], index=index)


def _refused_up_front(exp, classes: list[str] | None = None):
    """Refuse what the run's setup would refuse, before a word of the run is said (a
    refusal is printed alone): a device this machine lacks and, for a resume (``classes``:
    the checkpoint's), a dataset whose classes changed. Returns the dataset's index for a
    resume (the run reads it: one scan), else None."""
    from workbench.core.train.device import resolve_device

    resolve_device(exp.training.device)
    if classes is None:
        return None
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder
    from workbench.core.train.resume import check_same_classes

    index = scan_folder(dataset_folder(exp.data.folder))
    check_same_classes(classes, list(index.classes))
    return index




def _finish_run(run_dir: Path, ckpt, todo) -> int:
    """Write the bundle of a run that trained to its end but was cut off (killed, disk
    full) before its bundle was written, and say what was done."""
    from workbench.core.train.distributed import DistributedContext
    from workbench.core.train.finish import finish_run

    if not DistributedContext.from_env().is_main:
        return 0  # under torchrun, rank 0 writes it
    done = finish_run(run_dir, ckpt, todo)
    planned = ckpt.experiment.training.epochs
    ended = (f"early stopping ended it after epoch {ckpt.epoch}" if todo.status ==
             "early_stopped" else f"all its {planned} epochs were trained")
    source = done.source.relative_to(run_dir) if done.source.is_relative_to(run_dir) \
        else done.source
    print(f"finished {run_dir}: {ended} but its bundle was never written; wrote "
          f"{done.bundle} from {source} (epoch {done.result.weights_epoch})")
    if done.removed:
        n = len(done.removed)
        print(f"removed {n} stray temporary file{'s' if n > 1 else ''} of interrupted writes")
    if done.note:
        print(f"note: {done.note}", file=sys.stderr)
    print(_saved_model_line(done.result))
    return 0


def _report_divergence(exp, outcome, out: Path, command: str, fresh: bool) -> None:
    """Say that the run diverged, then the training doctor's one way forward at one rate:
    for a fresh single-process run, the LR finder's when it can run (the ``diverged``
    finding, run.json's too, then carries it), else the doctor's own proposal."""
    from workbench.core.train.distributed import DistributedContext
    from workbench.core.train.doctor.findings import RunFinding

    last = out / "checkpoints" / "last.pt"
    findings = outcome.result.findings if outcome.result is not None else []
    # The epochs finished before it are in metrics.json and the last checkpoint; the
    # weights are not saved as a bundle (they hold the NaNs by now). The checkpoint is a
    # good one unless the doctor's rate is to train again from the start (its weights are
    # wrecked, or it is what failed).
    act = next((f.get("action") or {} for f in reversed(findings)
                if f.get("kind") == "diverged"), {})
    good = act.get("continue") or "optimizer.params.lr" not in (act.get("set") or {})
    kept = (f"; the last good checkpoint (epoch {outcome.epochs_done}) is {last}"
            if outcome.epochs_done and good else "")
    print(f"workbench {command}: {outcome.error}; no bundle written{kept}", file=sys.stderr)
    if fresh and outcome.result is not None and \
            DistributedContext.from_env().world_size == 1:  # a fresh run's rate
        from workbench.core.train.doctor.suggest import BUDGET_S, lr_after_divergence

        print(f"doctor: diverged: asking the LR finder for a rate (at most {BUDGET_S:.0f} "
              f"s)...", flush=True)
        _, text = lr_after_divergence(exp, findings, outcome.run_dir)
        print(f"doctor: diverged: {text}", flush=True)
    diverged = [f for f in findings if f.get("kind") == "diverged"]
    if diverged:  # held back by the progress lines until the rate was settled
        print(RunFinding.from_dict(diverged[-1]).line(), flush=True)
    elif outcome.epochs_done:
        print(f"continue from it at a lower rate with: {resume_command(out, '--lr X')}",
              file=sys.stderr)


def _run(exp, out: Path, checkpoint=None, lock=None, command: str = "train",
         created: bool = False, warnings: list[str] | None = None, index=None) -> int:
    """Train (or continue) ``exp`` into the run folder ``out``; returns the exit code.
    ``warnings``: what was said before it (kept in run.json). ``index``: the dataset,
    scanned already (None: the run scans it).

    ``lock``: the run lock of ``out`` when the caller holds it already (``--overwrite``).
    ``created``: this command made ``out`` just now, so a run that finishes no epoch
    removes it (as the app's runs do) rather than leave a "failed" run.json there.
    Ctrl-C or SIGTERM stops after the batch, keeping the finished epochs (exit 130, or 143
    for SIGTERM); a second one aborts at once; once the run has ended, they are ignored.
    """
    from workbench.core.train.callbacks.progress import ConsoleProgress
    from workbench.core.train.distributed import DistributedContext
    from workbench.core.train.run import run_training

    # Under torchrun every process runs this; only rank 0 writes the run folder (the
    # façade records there only) and prints.
    main_rank = DistributedContext.from_env().is_main
    last = out / "checkpoints" / "last.pt"
    # A resume printed its checkpoint's note (best.pt standing in) before its header.
    progress = ConsoleProgress(held=("diverged",), said=tuple(
        n for n in [getattr(checkpoint, "note", "")] if n))
    with _ctrl_c_stops(sigterm=True) as stop:
        try:
            # Named after its folder (runs/flowers: "flowers"), not the experiment's name
            # that every run of the file shares; a resumed run keeps the name it has. The
            # folder exists by the time the run starts, so the recorder cannot see that it
            # is new: told (created), it removes a run that finished no epoch with it.
            outcome = run_training(exp, out, [progress] if main_rank else [],
                                   name=_run_name(out), lock=lock, created=created,
                                   checkpoint=checkpoint, stop_event=stop,
                                   warnings=warnings or (), index=index)
        except KeyboardInterrupt as e:  # a second Ctrl-C (or SIGTERM): aborted at once
            stop.settle()
            kept = (f"; the finished epochs are kept in {last}: continue (or finish) the run "
                    f"with {resume_command(out)}" if last.exists() else "")
            ended = _ended_before_abort(out)
            if ended:  # it came as the run's end was written, which it waited for
                kept = f" as the run ended; {ended}"
            if main_rank:
                print(f"workbench {command}: interrupted{kept}", file=sys.stderr)
            return 143 if isinstance(e, _Terminated) else 130
        if outcome.status == "diverged":
            stop.settle()
            if main_rank:  # every rank stops at the same batch; rank 0 says why
                _report_divergence(exp, outcome, out, command, fresh=checkpoint is None)
            return EXIT_DIVERGED
        if outcome.status == "out_of_memory":
            stop.settle()
            kept = (f" Continue with: {resume_command(out)}" if outcome.epochs_done else "")
            print(f"workbench {command}: {outcome.error}.{kept}", file=sys.stderr)
            return EXIT_OUT_OF_MEMORY
        if outcome.failed:  # the user's to fix (exit 2) or a bug (exit 1): main says which
            raise outcome.error
        # The run has ended and is recorded: a Ctrl-C now has nothing left to stop.
        stop.settle()
        result = outcome.result
        stopped_code = 143 if stop.signum == signal.SIGTERM else 130
        lost = _peer_lost(result, out, main_rank)  # another torchrun process is gone
        if lost:
            print(f"workbench {command}: {lost}", file=sys.stderr)
            stopped_code = EXIT_USER_ERROR
        if not main_rank:
            return stopped_code if result.stopped else 0
        metrics_path = out / "metrics.json"
        if outcome.bundle_path is not None:
            print(f"wrote {outcome.bundle_path} and {metrics_path}")
            print(_saved_model_line(result))
        if result.early_stopped:
            print(f"stopped early: {result.stop_reason}", file=sys.stderr)
        if result.stopped and not lost:
            why = _output_closed(out) if progress.output_closed else "stopped before the " \
                "last epoch"
            print(why + ("" if result.history else ": no epoch finished, no bundle written")
                  + (f"; continue with: {resume_command(out)}" if last.exists() else ""),
                  file=sys.stderr)
        return stopped_code if result.stopped else 0


def _output_closed(out: Path) -> str:
    """Say in ``out``'s run.json that its run stopped because the reader of its output
    went away (the run's own word is "stopped"); returns the words."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.store import update_run_info
    from workbench.core.train.callbacks.progress import OUTPUT_CLOSED

    if (out / "run.json").is_file():  # else removed: no epoch finished
        try:
            update_run_info(out, message=OUTPUT_CLOSED)
        except (OSError, WorkbenchError):
            pass  # run.json says "stopped"; this line says why
    return OUTPUT_CLOSED


def _peer_lost(result, out: Path, main_rank: bool) -> str:
    """Why the run stopped when another torchrun process is gone (a stop, its epochs kept:
    :func:`workbench.core.train.failures.peer_lost`), for this process to say: rank 0, the
    first of each other machine, or the only one left; else ``""``."""
    from workbench.core.train.distributed import DistributedContext
    from workbench.core.train.failures import PEER_LOST

    if not (result.stopped and result.stop_reason.startswith(PEER_LOST)):
        return ""
    ctx = DistributedContext.from_env()
    if main_rank or ctx.local_rank == 0 or ctx.world_size == 2:
        # (Core names the run folder only where it knows it: rank 0's.)
        return result.stop_reason.replace("resume RUN_DIR", f"resume {shlex.quote(str(out))}")
    return ""


def resume_command(out: Path, extra: str = "") -> str:
    """The command that continues the run in ``out``, its path quoted to paste, then
    ``extra``; under torchrun, torchrun's, with this job's process count
    (:func:`workbench.core.train.resume_hint.resume_command`)."""
    from workbench.core.train.resume_hint import resume_command as command

    return command(out, extra)


def _saved_model_line(result) -> str:
    """Which epoch's weights the bundle holds and what they scored (what evaluate gives)."""
    metrics = result.weights_metrics or {}
    keys = ("val_loss", "val_acc") + (("val_bal_acc",) if (result.best or {}).get("metric")
                                      == "val_bal_acc" else ())
    scores = ", ".join(f"{key} {metrics[key] * 100:.1f}%" if key.endswith("acc") else
                       f"{key} {metrics[key]:.4f}" for key in keys
                       if isinstance(metrics.get(key), float))
    which = (f"the best {result.best['metric']}, restored" if result.restored_best
             and result.best else "the last finished epoch")
    from workbench.core.train.doctor.view import kept_at_chance

    # As the app's end line says it: a model no better than chance is not "saved" quietly.
    chance = kept_at_chance(metrics, len(result.classes or []))
    return (f"the bundle holds epoch {result.weights_epoch}'s weights ({which})"
            + (f": {scores}" if scores else "")
            + (f". {chance} (the doctor's lines above say why)" if chance else ""))
