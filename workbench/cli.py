"""The ``workbench`` command: gui | init | scan | train | resume | lr-find | predict | evaluate |
export | tune.

User errors print one line on stderr and exit with code 2; nothing a user can cause shows a
traceback. Heavy imports (torch, Qt) happen inside the commands so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator, Sequence

from . import __version__

COMMANDS = ("gui", "init", "scan", "train", "resume", "lr-find", "predict", "evaluate",
            "export", "tune")
EXIT_USER_ERROR = 2
#: ``train`` stopped because the loss became NaN or infinite (scripts can retry with a
#: lower learning rate).
EXIT_DIVERGED = 3
#: ``train`` ran out of device memory (scripts can retry with a smaller batch).
EXIT_OUT_OF_MEMORY = 4
#: Something went wrong that is not the user's to fix (a bug): one line, not a traceback.
EXIT_INTERNAL_ERROR = 1


class UserError(Exception):
    """A mistake in the command line that argparse cannot see (e.g. a missing file)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + message
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench", description="Train image classifiers by pointing and "
                                              "clicking, or headless from the command line.")
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    g = sub.add_parser("gui", help="start the app (the default command)")
    g.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder or .csv file to open (default: the demo)")
    g.add_argument("--experiment", metavar="FILE", help="experiment JSON to open")

    i = sub.add_parser("init", help="write a new experiment JSON from a preset")
    i.add_argument("--preset", default="seed-cnn", help="network preset (default: seed-cnn)")
    i.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder (or .csv file of path,label rows) it trains on")
    i.add_argument("-o", "--output", metavar="EXPERIMENT.json",
                   help="file to write (default: print to stdout)")
    i.add_argument("--list-presets", action="store_true", help="list the presets and exit")

    s = sub.add_parser("scan", help="list a dataset folder's classes, counts and bad files")
    s.add_argument("folder", metavar="DIR|CSV",
                   help="dataset folder, or .csv file of path,label rows")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--quick", action="store_true",
                   help="list files without decoding them (unreadable files not detected)")

    t = sub.add_parser("train", help="train an experiment headless")
    t.add_argument("experiment", metavar="EXPERIMENT.json")
    t.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder or .csv file (overrides the experiment's)")
    t.add_argument("--epochs", type=int, metavar="N")
    t.add_argument("--batch-size", type=int, metavar="N")
    t.add_argument("--lr", type=float, metavar="X", help="learning rate")
    t.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    t.add_argument("--cache", choices=("auto", "disk", "off"),
                   help="decoded-image cache (default: the experiment's data.cache)")
    t.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="folder for bundle.pt, metrics.json, experiment.json, run.json and "
                        "checkpoints/ (resume it with workbench resume RUN_DIR); new or "
                        "empty, unless --overwrite")
    t.add_argument("--overwrite", action="store_true",
                   help="RUN_DIR holds a run: delete that run's files (run.json, "
                        "experiment.json, metrics.json, bundle.pt, checkpoints/) and train "
                        "afresh; other files in it are left alone. A run being trained now "
                        "is still refused")

    c = sub.add_parser("resume", help="continue a stopped or finished run from its last "
                                      "checkpoint")
    c.add_argument("run_dir", metavar="RUN_DIR", help="the run's folder (or a checkpoint file)")
    c.add_argument("--epochs", type=int, metavar="N",
                   help="train N more epochs (default: the epochs the run had left)")
    c.add_argument("--lr", type=float, metavar="X",
                   help="continue at this learning rate (e.g. after the run diverged)")
    c.add_argument("--data", metavar="DIR|CSV",
                   help="the dataset, when it has moved since the run (same classes)")
    c.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")

    f = sub.add_parser("lr-find", help="sweep the learning rate and suggest one")
    f.add_argument("experiment", metavar="EXPERIMENT.json")
    f.add_argument("--start", type=float, default=1e-7, metavar="LR",
                   help="first learning rate of the sweep (default: 1e-7)")
    f.add_argument("--end", type=float, default=10.0, metavar="LR",
                   help="last learning rate of the sweep (default: 10)")
    f.add_argument("--steps", type=int, default=100, metavar="N",
                   help="training batches to sweep over, one rate each (default: 100)")
    f.add_argument("--json", action="store_true", help="print JSON instead of text")
    f.add_argument("--write", action="store_true",
                   help="write the suggested rate into EXPERIMENT.json (optimizer.params.lr)")

    r = sub.add_parser("predict", help="classify images with a trained bundle")
    r.add_argument("bundle", metavar="BUNDLE")
    r.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    r.add_argument("--top-k", type=int, default=5, metavar="K")
    r.add_argument("--json", action="store_true", help="print JSON instead of text")
    r.add_argument("--csv", metavar="OUT", help="also write the predictions to OUT as CSV "
                   "(path, predicted, confidence, class_i/prob_i, error)")

    v = sub.add_parser("evaluate", help="measure a trained bundle on labelled images: "
                                        "accuracy, per-class table, confusion matrix")
    v.add_argument("bundle", metavar="BUNDLE")
    v.add_argument("folder", nargs="?", metavar="DIR|CSV",
                   help="labelled dataset (default: the validation split of the dataset "
                        "the bundle was trained on)")
    v.add_argument("--top-k", type=int, default=5, metavar="K",
                   help="k of the top-k accuracy (default: 5)")
    v.add_argument("--json", action="store_true", help="print JSON instead of text")
    v.add_argument("--csv-dir", metavar="OUT",
                   help="also write per_class.csv, confusion.csv and predictions.csv there")

    x = sub.add_parser("export", help="write a trained bundle's network for use outside "
                                      "Workbench")
    x.add_argument("bundle", metavar="BUNDLE")
    # One option per format; each names its own output file, and any may be combined.
    fmt = x.add_argument_group("formats (give at least one)")
    fmt.add_argument("--code", metavar="OUT.py",
                     help="a PyTorch module whose build_model() loads the bundle's "
                          "state_dict (- prints it)")
    fmt.add_argument("--onnx", metavar="OUT.onnx",
                     help="ONNX with a dynamic batch dimension, checked at once with "
                          "onnxruntime; the preprocessing and class names go to OUT.json")

    u = sub.add_parser("tune", help="search hyperparameters with Optuna: one run per trial")
    u.add_argument("experiment", metavar="EXPERIMENT.json")
    u.add_argument("--space", required=True, metavar="SPACE.json",
                   help="the fields to search and their ranges (format in the README; "
                        "example: workbench/resources/space_example.json)")
    u.add_argument("--trials", type=int, metavar="N",
                   help="trials this process runs (processes sharing a study each run theirs)")
    u.add_argument("--timeout", type=float, metavar="S",
                   help="start no trial after S seconds (the running one finishes)")
    u.add_argument("--storage", metavar="URL",
                   help="Optuna storage URL shared by cooperating processes (default: "
                        "sqlite:///RUNS_DIR/studies.sqlite)")
    u.add_argument("--study", metavar="NAME",
                   help="study name (default: the experiment's name); an existing study is "
                        "continued")
    u.add_argument("--apply", action="store_true",
                   help="write the best parameters into EXPERIMENT.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code.

    Called as the process's entry point (``argv`` None), it ignores Ctrl-C once the command
    has returned: the interpreter's shutdown would otherwise print a KeyboardInterrupt
    traceback for a Ctrl-C that arrives on the way out.
    """
    entry = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    # `workbench` alone, or `workbench --data DIR`, starts the GUI.
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "gui")
    args = build_parser().parse_args(argv)
    from .core.errors import WorkbenchError

    try:
        return _COMMANDS[args.command](args)
    except (WorkbenchError, UserError) as e:
        print(f"workbench {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as e:
        print(f"workbench {args.command}: interrupted", file=sys.stderr)
        return 143 if isinstance(e, _Terminated) else 130
    except Exception as e:  # noqa: BLE001  (a bug of ours: one line, details on request)
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench {args.command}: error: unexpected {type(e).__name__}: {e}. This "
              f"is a bug in Workbench (set WORKBENCH_DEBUG=1 to see where); files written so "
              f"far are kept", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    finally:
        if entry and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)


# -- commands ----------------------------------------------------------------------------
def cmd_gui(args: argparse.Namespace) -> int:
    if args.data:
        _check_dataset_path(args.data)
    if args.experiment and not Path(args.experiment).is_file():
        raise UserError(f"experiment file {args.experiment} does not exist")
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("there is no display to open the window on (neither DISPLAY nor "
                        "WAYLAND_DISPLAY is set): run it from a desktop session or under "
                        "xvfb-run, or use the headless commands (workbench --help)")
    try:
        from .qt.app import main as gui_main
    except ImportError as e:
        raise UserError(f"the GUI cannot start: {e}. Install the app with scripts/run, or "
                        f"use the headless commands (workbench --help)") from None
    return gui_main(data=args.data, experiment=args.experiment)


def cmd_init(args: argparse.Namespace) -> int:
    from .core.model.presets import list_presets, preset_experiment

    if args.list_presets:
        for name, description in list_presets():
            print(f"{name:12s} {description}")
        return 0
    if args.data:
        _check_dataset_path(args.data)
    exp = preset_experiment(args.preset, folder=str(Path(args.data).resolve()) if args.data else "")
    if args.data:
        _adopt_data_defaults(exp)
    if args.output and args.output != "-":
        from .core.io import write_error

        try:
            exp.save(args.output)
        except OSError as e:
            raise UserError(write_error(args.output, e, "choose a folder you can write to, "
                                                        "or leave out -o to print it")) from None
        print(f"wrote {args.output} (preset {args.preset}); train it with: "
              f"workbench train {args.output} --out RUN_DIR", file=sys.stderr)
    else:
        print(exp.to_json())
    return 0


def _adopt_data_defaults(exp) -> None:
    """Fit ``exp`` to its dataset (input size, channels, no flip for digits or letters) and
    say on stderr what was chosen and why; a dataset that cannot be scanned keeps the
    preset's values, with the reason."""
    from .core.data.defaults import adopt_data_defaults
    from .core.data.scan import scan_folder
    from .core.errors import DataError

    folder = exp.data.folder
    try:
        index = scan_folder(folder)
    except DataError as e:
        print(f"kept the preset's input size, channels and augmentation: {e}", file=sys.stderr)
        return
    if not index.samples:
        print(f"kept the preset's input size, channels and augmentation: {folder} holds no "
              f"images yet", file=sys.stderr)
        return
    defaults = adopt_data_defaults(exp, index)
    print(f"chose from the data in {folder}:", file=sys.stderr)
    for reason in defaults.reasons:
        print(f"  {reason}", file=sys.stderr)


def _check_dataset_path(path: str) -> None:
    """A dataset is a folder or a ``.csv`` file; anything else is a user error."""
    p = Path(path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() == ".csv"):
        return
    if not p.exists():
        raise UserError(f"dataset {path} does not exist: give a folder with one sub-folder "
                        f"of images per class, or a .csv file of path,label rows")
    raise UserError(f"dataset {path} is neither a folder nor a .csv file: give a folder "
                    f"with one sub-folder of images per class, or a .csv file of "
                    f"path,label rows")


def cmd_scan(args: argparse.Namespace) -> int:
    from .core.data.scan import scan_folder

    index = scan_folder(args.folder, verify=not args.quick)
    if args.json:
        print(json.dumps(index.to_json_dict(), indent=2))
        return 0
    counts = index.counts()
    total = sum(counts.values())
    print(f"{index.root}: {len(index.classes)} classes, {total} images")
    width = max((len(c) for c in index.classes), default=0)
    for c in index.classes:
        print(f"  {c:{width}s}  {counts.get(c, 0)}")
    for c in index.empty_classes:
        print(f"  {c:{width}s}  0 (no images: left out)")
    if index.unreadable:
        print(f"unreadable files ({len(index.unreadable)}), left out:")
        for u in index.unreadable:
            print(f"  {u.path}: {u.reason}")
    if len(index.classes) < 2:
        what = "labels" if index.layout == "csv" else "class sub-folders"
        print(f"note: training needs at least two {what} with images", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .core.experiment import Experiment

    exp = Experiment.load(args.experiment)
    if args.data:
        _check_dataset_path(args.data)
        exp.data.folder = str(Path(args.data).resolve())
    overrides = {"epochs": ("training", "epochs", args.epochs),
                 "batch-size": ("data", "batch_size", args.batch_size),
                 "device": ("training", "device", args.device),
                 "cache": ("data", "cache", args.cache)}
    for flag, (section, name, value) in overrides.items():
        if value is not None:
            setattr(getattr(exp, section), name, value)
    if args.lr is not None:
        exp.optimizer.params["lr"] = args.lr
    exp = _recheck(exp)
    out = Path(args.out)
    lock = _claim_run_folder(out, args.overwrite)
    created = not out.exists()
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"cannot create run folder {out}: {e.strerror}") from None
        return _run(exp, out, lock=lock)
    finally:
        if lock is not None:  # the recorder releases it when the run ends; this if not
            lock.release()
        if created:
            _remove_if_unused(out)


def _remove_if_unused(out: Path) -> None:
    """Remove the run folder this command made when the run left nothing in it (it failed
    before it started: a network that does not fit, a missing device)."""
    from .core.train.record import folder_entries

    try:
        if out.is_dir() and not folder_entries(out):
            for lock_file in out.iterdir():
                lock_file.unlink()
            out.rmdir()
    except OSError:
        pass  # an empty folder left behind is harmless


def _claim_run_folder(out: Path, overwrite: bool):
    """Make ``out`` ready for a new run, or refuse: a folder holding a run (or anything
    else) is replaced only with ``--overwrite``, and never while a process trains into it.
    Returns the run lock taken to clear it (held), or None."""
    from .core.run_lock import RunLock
    from .core.train.distributed import DistributedContext
    from .core.train.record import clear_run_files, folder_entries, holds_run, unused_sibling

    try:
        entries = folder_entries(out) if out.is_dir() else []
    except OSError as e:
        raise UserError(f"cannot read the run folder {out}: {e.strerror or e}") from None
    if not entries:
        return None
    fresh = unused_sibling(out)
    # A run that never finished an epoch (no checkpoint, no bundle) holds nothing to lose:
    # it is replaced as an empty folder would be.
    checkpoints = out / "checkpoints"
    husk = all(p.name in ("run.json", "experiment.json", "metrics.json", "checkpoints")
               for p in entries) and not (checkpoints / "last.pt").exists() and \
        not (checkpoints / "best.pt").exists() and \
        (not checkpoints.is_dir() or all(p.suffix == ".tmp" for p in checkpoints.iterdir()))
    if not overwrite and not husk:
        if holds_run(out):
            raise UserError(f"the folder {out} holds a run already: continue it with "
                            f"workbench resume {out}, train into a fresh folder (e.g. --out "
                            f"{fresh}), or give --overwrite to replace it")
        raise UserError(f"{out} is not empty ({len(entries)} files or folders that are not a "
                        f"Workbench run): train into a fresh folder (e.g. --out {fresh}) or an "
                        f"empty one, or give --overwrite to train there anyway (its files "
                        f"are left alone)")
    if not DistributedContext.from_env().is_main:
        return None  # under torchrun, rank 0 clears the folder
    lock = RunLock(out)
    if not lock.acquire():
        raise UserError(f"{out} is being trained right now (by another window or process): "
                        f"stop that run first, or train into a fresh folder (e.g. --out "
                        f"{fresh})")
    try:
        removed = clear_run_files(out)
        kept = [str(p.relative_to(out)) for e in folder_entries(out)
                for p in (sorted(e.iterdir()) if e == checkpoints else [e])]
    except OSError as e:
        lock.release()
        raise UserError(f"cannot delete the run's files in {out}: {e.strerror or e}; "
                        f"train into a fresh folder (e.g. --out {fresh})") from None
    if overwrite and removed:
        shown = ", ".join(kept[:5]) + (f" and {len(kept) - 5} more" if len(kept) > 5 else "")
        print(f"--overwrite: deleted {', '.join(removed)} from {out}"
              + (f"; left alone: {shown}" if kept else ""), file=sys.stderr)
    return lock


def cmd_resume(args: argparse.Namespace) -> int:
    from .core.train.checkpoint import load_checkpoint

    run_dir = Path(args.run_dir)
    ckpt = load_checkpoint(run_dir)
    if run_dir.is_file():  # a checkpoint file: its run folder is two levels up
        run_dir = run_dir.parent.parent
    exp = ckpt.experiment
    planned = exp.training.epochs
    if args.epochs is None and Path(ckpt.path).name == "last.pt":
        from .core.train.finish import unfinished

        todo = unfinished(run_dir, ckpt)
        if todo is not None:  # trained to its end, but its bundle was never written
            return _finish_run(run_dir, ckpt, todo)
    if args.epochs is not None:
        if args.epochs < 1:
            raise UserError("--epochs: give the number of epochs to add, at least 1")
        exp.training.epochs = ckpt.epoch + args.epochs
    elif ckpt.epoch >= planned:
        raise UserError(f"{args.run_dir} has finished all its {planned} epochs: give "
                        f"--epochs N to train N more")
    if args.data:
        _check_dataset_path(args.data)
        exp.data.folder = str(Path(args.data).resolve())
    if args.device is not None:
        exp.training.device = args.device
    if args.lr is not None:
        exp.optimizer.params["lr"] = args.lr
    exp = _recheck(exp)
    print(f"resuming {run_dir} after epoch {ckpt.epoch}: epochs {ckpt.epoch + 1} to "
          f"{exp.training.epochs}", flush=True)
    return _run(exp, run_dir, ckpt, command="resume")


def _finish_run(run_dir: Path, ckpt, todo) -> int:
    """Write the bundle of a run that trained to its end but was cut off (killed, disk
    full) before its bundle was written, and say what was done."""
    from .core.train.distributed import DistributedContext
    from .core.train.finish import finish_run

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


def _recheck(exp):
    """Validate an Experiment after command-line overrides, naming the flag at fault."""
    from .core.errors import SpecError
    from .core.experiment import Experiment

    try:  # re-check: the overrides may be out of range
        return Experiment.from_dict(exp.to_dict())
    except SpecError as e:
        flag = {"training.epochs": "--epochs", "data.batch_size": "--batch-size",
                "training.device": "--device", "optimizer.params.lr": "--lr"}.get(e.field)
        raise UserError(f"{flag}: {e.problem}" if flag else str(e)) from None


def _run(exp, out: Path, checkpoint=None, lock=None, command: str = "train") -> int:
    """Train (or continue) ``exp`` into the run folder ``out``; returns the exit code.

    ``lock``: the run lock of ``out`` when the caller holds it already (``--overwrite``).
    Ctrl-C or SIGTERM stops after the batch, keeping the finished epochs (exit 130, or 143
    for SIGTERM); a second one aborts at once; once the run has ended, they are ignored.
    """
    from .core.train.distributed import DistributedContext
    from .core.train.record import RunRecorder
    from .core.train.trainer import (Callback, Trainer, TrainingDiverged,
                                     TrainingOutOfMemory)

    # Under torchrun every process runs this; only rank 0 writes the run folder and prints.
    main_rank = DistributedContext.from_env().is_main

    class Progress(Callback):
        def on_fit_start(self, trainer, info):
            print(f"training {exp.name}: {info['num_train']} images ({info['num_val']} for "
                  f"validation), {len(info['classes'])} classes, {info['num_params']:,} "
                  f"parameters, on {info['device']}"
                  + (f" x {info['world_size']} processes" if "world_size" in info else ""),
                  flush=True)
            print(f"decoded-image cache: {info['cache']}", flush=True)
            for note in info.get("notes", ()):  # e.g. a backbone without its weights file
                print(f"note: {note}", flush=True)

        def on_cache_progress(self, trainer, done, total):
            if done >= total:
                print(f"decoded-image cache full ({total:,} images): later epochs skip "
                      f"decoding", flush=True)

        def on_skipped(self, trainer, path, reason):
            print(f"skipped unreadable image {path}: {reason}", file=sys.stderr, flush=True)

        def on_epoch_end(self, trainer, epoch, m):
            def fmt(v, pct=False):
                return "-" if v is None else (f"{100 * v:.1f}%" if pct else f"{v:.4f}")

            best = trainer.tracker.best
            mark = f"  * best {best['metric']}" if best and best["epoch"] == epoch else ""
            print(f"epoch {epoch}/{exp.training.epochs}  train_loss {fmt(m['train_loss'])}  "
                  f"train_acc {fmt(m['train_acc'], True)}  val_loss {fmt(m['val_loss'])}  "
                  f"val_acc {fmt(m['val_acc'], True)}  ({m['seconds']:.1f} s){mark}",
                  flush=True)

    # Named after its folder (runs/flowers: "flowers"), not the experiment's name that
    # every run of the file shares; a resumed run keeps the name it has.
    recorder = (RunRecorder(out, name=out.resolve().name, lock=lock) if main_rank
                else None)
    last = out / "checkpoints" / "last.pt"
    trainer = None
    with _ctrl_c_stops(sigterm=True) as stop:
        try:
            trainer = Trainer(exp, [Progress(), recorder] if main_rank else [],
                              stop_event=stop, checkpoint=checkpoint)
            result = trainer.fit()
        except TrainingDiverged as e:
            stop.settle()
            # The epochs finished before it are in metrics.json and the last checkpoint; the
            # weights are not saved as a bundle (they hold the NaNs by now).
            kept = (f"; the last good checkpoint (epoch {trainer.epochs_done}) is {last}: "
                    f"continue from it at a lower rate with: workbench resume {out} --lr X"
                    if trainer.epochs_done else "")
            print(f"workbench {command}: {e}; no bundle written{kept}", file=sys.stderr)
            return EXIT_DIVERGED
        except TrainingOutOfMemory as e:
            stop.settle()
            kept = (f" Continue with: workbench resume {out}" if trainer.epochs_done else "")
            print(f"workbench {command}: {e}.{kept}", file=sys.stderr)
            return EXIT_OUT_OF_MEMORY
        except KeyboardInterrupt as e:  # a second Ctrl-C (or SIGTERM): aborted at once
            stop.settle()
            kept = (f"; the finished epochs are kept in {last}: continue (or finish) the run "
                    f"with workbench resume {out}" if main_rank and last.exists() else "")
            print(f"workbench {command}: interrupted{kept}", file=sys.stderr)
            return 143 if isinstance(e, _Terminated) else 130
        finally:
            if recorder is not None and trainer is None:
                recorder.release()  # the Trainer was never made: no end hook releases it
        # The run has ended and is recorded: a Ctrl-C now has nothing left to stop.
        stop.settle()
        stopped_code = 143 if stop.signum == signal.SIGTERM else 130
        if not main_rank:
            return stopped_code if result.stopped else 0
        metrics_path = out / "metrics.json"
        if recorder.bundle_path is not None:
            print(f"wrote {recorder.bundle_path} and {metrics_path}")
            print(_saved_model_line(result))
        if result.early_stopped:
            print(f"stopped early: {result.stop_reason}", file=sys.stderr)
        if result.stopped:
            print("stopped before the last epoch" + ("" if result.history else
                                                     ": no epoch finished, no bundle written")
                  + (f"; continue with: workbench resume {out}" if last.exists() else ""),
                  file=sys.stderr)
            return stopped_code
        return 0


def _saved_model_line(result) -> str:
    """Which epoch's weights the bundle holds and what they scored (what evaluate gives)."""
    metrics = result.weights_metrics or {}
    scores = ", ".join(f"{key} {metrics[key] * 100:.1f}%" if key.endswith("acc") else
                       f"{key} {metrics[key]:.4f}" for key in ("val_loss", "val_acc")
                       if isinstance(metrics.get(key), float))
    which = (f"the best {result.best['metric']}, restored" if result.restored_best
             and result.best else "the last finished epoch")
    return (f"the bundle holds epoch {result.weights_epoch}'s weights ({which})"
            + (f": {scores}" if scores else ""))


class _Terminated(KeyboardInterrupt):
    """A second SIGTERM: abort at once (exit code 143, as a process SIGTERM ends)."""


class _StopRequest(threading.Event):
    """Set by the first Ctrl-C (or SIGTERM); says which signal asked (``signum``), and
    ignores any once :meth:`settle` says the work is over."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None
        self.settled = False

    def settle(self) -> None:
        """The work is done (its results written): later signals have nothing to stop."""
        self.settled = True


@contextlib.contextmanager
def _ctrl_c_stops(what: str = "stopping after this batch",
                  sigterm: bool = False) -> Iterator[_StopRequest]:
    """An event the first Ctrl-C sets (saying ``what`` happens now) while the block runs; a
    second one interrupts at once (``KeyboardInterrupt``). With ``sigterm``, SIGTERM (a
    desktop logout, systemd, a cluster scheduler) does the same, a second one raising
    :class:`_Terminated`. After :meth:`_StopRequest.settle` both are ignored. The previous
    handlers are put back afterwards."""
    stop = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return

    def handler(signum, frame):
        if stop.settled:
            return
        if stop.is_set():
            raise _Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        stop.signum = signum
        stop.set()
        if signum == signal.SIGTERM:
            print(f"\nterminated (SIGTERM): {what} (SIGTERM again to abort)", file=sys.stderr,
                  flush=True)
        else:
            print(f"\n{what} (Ctrl-C again to abort)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    previous_term = signal.signal(signal.SIGTERM, handler) if sigterm else None
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def cmd_lr_find(args: argparse.Namespace) -> int:
    from .core.errors import SpecError
    from .core.experiment import Experiment
    from .core.train.lr_find import find_lr, write_lr

    exp = Experiment.load(args.experiment)
    try:
        with _ctrl_c_stops() as stop:
            result = find_lr(exp, start_lr=args.start, end_lr=args.end, num_steps=args.steps,
                             stop_event=stop)
    except SpecError as e:
        flag = {"start_lr": "--start", "end_lr": "--end", "num_steps": "--steps"}.get(e.field)
        raise UserError(f"{flag}: {e.problem}" if flag else str(e)) from None
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
            return 1
        lr = float(f"{result.suggested_lr:.3g}")  # a rate a person can read in the JSON
        _save_experiment(args.experiment, lambda: write_lr(args.experiment, lr))
        print(f"wrote optimizer.params.lr = {lr:g} into {args.experiment}", file=sys.stderr)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .core.data.images import images_in_folder
    from .core.predict import Prediction, Predictor

    if args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    predictor = Predictor(args.bundle)
    items: list[str] = []
    missing: dict[str, str] = {}
    for p in args.paths:
        path = Path(p)
        if path.is_dir():
            found = images_in_folder(path)
            if found:
                items.extend(found)
            else:  # reported in its own entry, like a missing file
                missing[p] = "folder holds no images"
                items.append(p)
        elif path.exists():
            items.append(p)
        else:
            missing[p] = "file not found"
            items.append(p)
    readable = [i for i in items if i not in missing]
    by_path = {pr.path: pr for pr in predictor.predict(readable, top_k=args.top_k)}
    results = [Prediction(i, error=missing[i]) if i in missing else by_path[i] for i in items]
    if all(r.error is not None for r in results):  # nothing to show: a mistake to fix
        shown = "; ".join(f"{r.path}: {r.error}" for r in results[:3])
        more = f"; and {len(results) - 3} more" if len(results) > 3 else ""
        raise UserError(f"no image could be classified ({shown}{more}): give image files "
                        f"or folders of images")
    if args.csv:
        _write_predictions_csv(Path(args.csv), results, args.top_k)
        print(f"wrote {len(results)} predictions to {args.csv}", file=sys.stderr)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            if r.error:
                print(f"{r.path}: error: {r.error}")
            else:
                tops = ", ".join(f"{c} {100 * p:.1f}%" for c, p in r.top)
                print(f"{r.path}: {tops}")
    return 0


def _write_predictions_csv(path: Path, results: list, top_k: int) -> None:
    """Write ``results`` as CSV (atomically): the layout the Predict panel exports."""
    from .core.io import atomic_write_text, write_error
    from .core.predict import predictions_csv

    try:
        atomic_write_text(path, predictions_csv(((r.path, r.top, r.error) for r in results),
                                                top_k))
    except OSError as e:
        raise UserError(write_error(path, e, "choose a writable folder for --csv")) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .core.evaluate import EvaluationCancelled, evaluate

    if args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    if args.folder:
        _check_dataset_path(args.folder)
    if args.csv_dir and Path(args.csv_dir).exists() and not Path(args.csv_dir).is_dir():
        # Checked before the (long) evaluation, not after it.
        raise UserError(f"--csv-dir {args.csv_dir} is a file, not a folder: give a folder "
                        f"(created if needed) for per_class.csv, confusion.csv and "
                        f"predictions.csv")
    try:
        with _ctrl_c_stops() as stop:
            result = evaluate(args.bundle, args.folder, top_k=args.top_k, stop_event=stop)
    except EvaluationCancelled as e:
        print(f"workbench evaluate: {e}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.to_text())
    if args.csv_dir:
        written = result.write_csvs(args.csv_dir)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .core.export import bundle_code, export_code, read_bundle

    outputs = {"--code": args.code, "--onnx": args.onnx}
    if not any(outputs.values()):
        raise UserError(f"nothing to export: give {' or '.join(outputs)} with the file to "
                        f"write, e.g. workbench export {args.bundle} --code model.py")
    if args.onnx == "-":  # two files (the model, its preprocessing JSON): one stdout
        raise UserError("--onnx needs a file name, e.g. --onnx model.onnx (the "
                        "preprocessing goes beside it, to model.json); only --code - prints")
    bundle = read_bundle(args.bundle)
    if args.code == "-":
        print(bundle_code(bundle), end="")
    elif args.code:
        path = export_code(bundle, args.code)
        print(f"wrote {path}: build_model() loads {args.bundle}'s state_dict (see its "
              f"header)", file=sys.stderr)
    if args.onnx:
        from .core.export_onnx import export_onnx

        report = export_onnx(bundle, args.onnx)
        print(report.summary(), file=sys.stderr)
        for warning in report.warnings:
            print(f"workbench export: warning: {warning}", file=sys.stderr)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .core.errors import SpecError
    from .core.experiment import Experiment
    from .core.tune import run_study
    from .core.tune_space import SearchSpace, apply_params

    exp = Experiment.load(args.experiment)
    try:
        space = SearchSpace.load(args.space)
    except SpecError as e:
        raise UserError(f"{args.space}: {e}") from None
    try:
        with _ctrl_c_stops("stopping: this trial ends now and no other starts",
                           sigterm=True) as stop:
            summary = run_study(
                exp, space, trials=args.trials, timeout=args.timeout, storage=args.storage,
                study_name=args.study, stop_event=stop,
                on_trial=lambda t: print(_trial_line(t, space.metric), flush=True))
    except SpecError as e:
        flag = {"trials": "--trials", "timeout": "--timeout"}.get(e.field)
        where = f"{args.space}: " if e.field.startswith("space") else ""
        raise UserError(f"{flag}: {e.problem}" if flag else f"{where}{e}") from None
    print(summary.to_text())
    if args.apply:
        if summary.best_trial is None:
            print(f"no trial has completed, so {args.experiment} was not changed",
                  file=sys.stderr)
            return 1
        best = apply_params(Experiment.load(args.experiment), summary.best_params)
        _save_experiment(args.experiment, lambda: best.save(args.experiment))
        print(f"wrote trial {summary.best_trial}'s parameters into {args.experiment}",
              file=sys.stderr)
    if not stop.is_set():
        return 0
    return 143 if stop.signum == signal.SIGTERM else 130


def _save_experiment(path: str, save) -> None:
    """``save()`` the experiment file ``path``; a write that fails (read-only folder, full
    disk) is a user error naming the file, and the file is left as it was."""
    from .core.io import write_error

    try:
        save()
    except OSError as e:
        raise UserError(write_error(path, e)) from None


def _trial_line(t: dict, metric: str) -> str:
    """One line per finished trial: its state, value, parameters and run folder."""
    def short(v):
        return f"{v:.4g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else v

    params = "  ".join(f"{k}={short(v)}" for k, v in t["params"].items())
    head = f"trial {t['number']} {t['state']}"
    if t["state"] == "complete":
        head += f"  {metric} {t['value']:.4g}"
    elif t.get("error"):
        head += f": {t['error']}"
    took = f"  ({t['duration_s']:.1f} s)" if t.get("duration_s") is not None else ""
    run = f"  run {t['run_dir']}" if t.get("run_dir") else ""
    return f"{head}  {params}{took}{run}"


_COMMANDS = {"gui": cmd_gui, "init": cmd_init, "scan": cmd_scan, "train": cmd_train,
             "resume": cmd_resume,
             "lr-find": cmd_lr_find, "predict": cmd_predict, "evaluate": cmd_evaluate,
             "export": cmd_export, "tune": cmd_tune}

if __name__ == "__main__":
    sys.exit(main())
