"""The run folder, written as the run goes: :class:`RunRecorder`.

Made by the run façade (:mod:`workbench.core.train.run`) for the CLI, the app and tune
trials alike, so a run looks the same whichever started it (layout:
:mod:`workbench.core.runs.store`). Every file is written atomically; ``checkpoints/last.pt`` after
every epoch and ``checkpoints/best.pt`` whenever the monitored metric improves (its
:class:`~workbench.core.train.callbacks.checkpoints.CheckpointWriter`), so a run that
is stopped, crashes or diverges keeps everything up to its last finished epoch.

An epoch's files are written in the order that keeps every reader on epochs that exist,
however the process dies between two of them: ``last.pt`` (what a resume goes on from),
``metrics.json`` (small: a disk that fills up with ``best.pt`` still has the epoch
plotted), ``best.pt``, then run.json (``epochs_done``), which commits the epoch.
metrics.json never holds an epoch that ``last.pt`` lacks (but for the batches of the epoch
a divergence cut short, marked ``"cut"``: :mod:`.batches`), and readers show the epochs
run.json counts (:func:`workbench.core.runs.record.read_metrics`); a resumed run writes
metrics.json and run.json again from its checkpoint before its first epoch, keeping what
still reads of a damaged run.json (``run.json.damaged-<time>``, its copy as it was).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.data.split_record import record_to_carry
from workbench.core.data.usage import run_counts, trainer_split
from workbench.core.errors import WorkbenchError
from workbench.core.interrupts import aborting, uninterrupted
from workbench.core.io import atomic_write_text, remove_stray_temporaries, runs_dir
from workbench.core.runs.batches import BatchLosses, EpochNorms, read_batches, read_norms
from workbench.core.runs.lock import (INFO_LOCK_NAME, LOCK_NAME, RunLock, editing_run_info,
                                      stop_it_text)
from workbench.core.runs.damaged import damaged_run_info, damaged_run_info_note
from workbench.core.runs.names import MAX_NAME_BYTES, safe_run_name, shorten_middle
from workbench.core.runs.skipped import skipped_entry
from workbench.core.runs.start_notes import started
from workbench.core.runs.store import (keep_damaged_run_info, read_run_info, update_run_info,
                                       write_run_info)
from workbench.core.train.callbacks.base import Callback, FitResult
from workbench.core.train.callbacks.checkpoints import CheckpointWriter
from workbench.core.train.checkpoint import BEST, LAST
from workbench.core.train.disk import describe_write_failure, folder_failure, write_failure
from workbench.core.train.resume_hint import resume_command

#: Statuses whose final weights are worth a bundle (a diverged run's hold NaNs; an
#: out-of-memory or failed one stopped mid-batch: its last checkpoint is the usable state).
#: "pruned" is a tune trial stopped by its pruner, recorded so after its bundle was written.
_BUNDLED = ("finished", "stopped", "early_stopped", "pruned")

#: The files a run writes atomically (their temporary files are ``.<name>.*.tmp``).
_WRITTEN = ("run.json", "experiment.json", "metrics.json", "bundle.pt", "split.json", LAST,
            BEST)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def new_run_dir(name: str = "run", parent: str | Path | None = None) -> Path:
    """A fresh ``<parent>/<timestamp>-<name>`` folder (parent: :func:`runs_dir`), ``-2``,
    ``-3``... appended while the name is taken: created atomically, so processes starting
    runs of the same name in the same second each get their own folder; a long name is cut
    in the middle to fit (:data:`~.names.MAX_NAME_BYTES`)."""
    safe = shorten_middle(safe_run_name(name) or "run", MAX_NAME_BYTES)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    base = Path(parent) if parent is not None else runs_dir()
    path = base / f"{stamp}-{safe}"
    n = 1
    while True:  # mkdir is the test: another process may take a name between two checks
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError as e:
            if not path.parent.is_dir():  # a file named like a folder on the way
                raise WorkbenchError(folder_failure(path, e)) from None
            n += 1
            path = base / f"{stamp}-{safe}-{n}"
        except OSError as e:  # NotADirectoryError too: a file where the runs folder goes
            raise WorkbenchError(folder_failure(path, e)) from None


def folder_entries(folder: Path) -> list[Path]:
    """What ``folder`` holds, its run locks aside (empty lock files mean nothing)."""
    return sorted(p for p in Path(folder).iterdir() if p.name not in (LOCK_NAME,
                                                                        INFO_LOCK_NAME))


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a Workbench run (a run.json or a checkpoint)."""
    folder = Path(folder)
    return (folder / "run.json").is_file() or (folder / "checkpoints" / LAST).is_file()


def unused_sibling(folder: Path) -> Path:
    """``folder-2`` (or -3, ...): the first sibling of ``folder`` that does not exist."""
    folder = Path(folder)
    n = 2
    while (candidate := folder.with_name(f"{folder.name}-{n}")).exists():
        n += 1
    return candidate


class RunRecorder(Callback):
    """Writes a run's folder: run.json, experiment.json, metrics.json, checkpoints, bundle.

    Parameters
    ----------
    run_dir
        The folder to write (created if missing); ``None``: a new folder under ``parent``
        (default :func:`runs_dir`) named after the experiment, made when the run starts.
    parent
        Where to make the folder when ``run_dir`` is None.
    save_bundle
        Write ``bundle.pt`` when the run ends with weights worth keeping.
    name
        The run's name (run.json, and the new folder's name); default the experiment's. A
        resumed run keeps the name it has.
    lock
        The :class:`RunLock` of ``run_dir`` when the caller holds it already (``workbench
        train --overwrite`` takes it before clearing the folder): the recorder takes it
        over and releases it when the run ends.
    created
        The caller made ``run_dir`` for this run (``workbench train --out NEW``): a run
        that finishes no epoch is removed with its folder, as a folder made here would be.
    warnings
        What the caller warned of as the run started (``workbench train``'s ``warning:``
        lines): kept in run.json's ``start_warnings``.

    A recorder whose run fails before it starts (``on_fit_start``: a device that does not
    exist, a dataset whose classes differ from the checkpoint's) writes nothing, so a
    refused resume leaves the run exactly as it was. run.json counts only the epochs whose
    checkpoint is on disk.

    Attributes
    ----------
    bundle_path
        The bundle written, or None.
    """

    def __init__(self, run_dir: str | Path | None = None, parent: str | Path | None = None,
                 save_bundle: bool = True, name: str = "", lock: RunLock | None = None,
                 created: bool = False, warnings: list[str] | tuple[str, ...] = ()):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.warnings = [str(w) for w in warnings if w]
        self.name = str(name or "")
        self.parent = parent
        self.save_bundle = save_bundle
        self.bundle_path: Path | None = None
        self.damaged_copy: Path | None = None  # a resumed run's damaged run.json, kept
        self.created_dir = bool(created)
        self.resumed = False
        self._lock: RunLock | None = lock
        self._taken = False  # another process trains into run_dir: touch nothing there
        self._started = False  # on_fit_start has the lock: from then on the run is ours
        # The last epoch whose last.pt is on disk, and the best epoch as of then: what
        # run.json may claim.
        self._saved_epoch = 0
        self._saved_best: dict[str, Any] | None = None
        self.batches = BatchLosses()  # the batches' losses, coarsely (runs.batches)
        self.norms = EpochNorms()  # the layer-norm samples (runs.batches)
        # run.json's entry of the files met unreadable by the segments before a resume
        # (runs.skipped; this one's are the trainer's); the dataset folder their paths are
        # kept under.
        self._earlier_skipped: Any = None
        self._folder = ""

    # -- hooks -------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        exp = trainer.experiment
        self.resumed = trainer.checkpoint is not None
        self._saved_epoch = trainer.epochs_done  # a resumed run's checkpoint is on disk
        self._saved_best = info.get("best")
        if self.run_dir is None:
            self.run_dir = new_run_dir(self.name or exp.name, self.parent)
            self.created_dir = True
        elif not self.run_dir.exists():
            self.created_dir = True
        self._guard(lambda: self.run_dir.mkdir(parents=True, exist_ok=True))
        lock = self._lock or RunLock(self.run_dir)
        if not lock.acquire():
            self._taken = True
            raise WorkbenchError(f"the run {self.run_dir} is being trained right now: "
                                 f"{stop_it_text(self.run_dir)}, then resume it")
        self._lock = lock
        self._started = True
        trainer.run_dir = self.run_dir  # what the run's other callbacks know the folder by
        # As written, not as run.json counts them: the checkpoint may be an epoch ahead.
        self.batches = BatchLosses(read_batches(self.run_dir, kept=False) if self.resumed
                                   else [])
        self.norms = EpochNorms(read_norms(self.run_dir, kept=False) if self.resumed else [])
        for kept in (self.batches, self.norms):
            kept.keep_until(trainer.epochs_done)
        if self.resumed:  # a killed earlier process may have left half-written files
            for folder in (self.run_dir, self.run_dir / "checkpoints"):
                remove_stray_temporaries(folder, _WRITTEN)
        self._guard(lambda: exp.save(self.run_dir / "experiment.json"))
        if self.resumed:  # the checkpoint's epochs: none a kill left ahead of it or behind
            self._write_metrics(trainer.history)
        info_now = read_run_info(self.run_dir) if self.resumed else {}
        recovered = damaged_run_info(self.run_dir) if self.resumed else None
        if recovered is not None:  # what still reads of it, copied aside first: a start
            info_now = recovered   # note says so (the app's watchers hear info after this)
            self.damaged_copy = self._guard(lambda: keep_damaged_run_info(self.run_dir))
            info["notes"] = [*(info.get("notes") or []), damaged_run_info_note(
                self.run_dir, self.damaged_copy, recovered)]
        self._earlier_skipped, self._folder = info_now.get("skipped"), exp.data.folder
        if getattr(trainer, "doctor", None) is not None:  # said after the last checkpoint
            trainer.doctor.recover(info_now.get("findings"))  # (diverged): kept, not dropped
        stamp = now_iso()
        run = {"name": info_now.get("name") or self.name or exp.name,
               "experiment_name": exp.name,
               "created": info_now.get("created") or stamp, "updated": stamp, "finished": None,
               "status": "running", "message": "", "epochs_done": trainer.epochs_done,
               "epochs_planned": exp.training.epochs, "best": info.get("best"),
               "duration_s": round(trainer.elapsed, 3), "device": info.get("device", ""),
               # Whether a frozen backbone's features were cached: "cached", "cached, K
               # views", "off" or "" (no frozen backbone first).
               "features": info.get("features", ""),
               # What it trains on, as the Data tab counts it (core.data.usage): the
               # images for training and validation, the test part, and those left out.
               # A resumed run's are of the split it kept, not a fresh one of the folder.
               "data": run_counts(getattr(trainer, "index", None), exp.data,
                                  split=trainer_split(trainer)),
               "notes": info_now.get("notes", ""),
               # In words: where a backbone's weights came from (a resumed run's, from the
               # first segment) and how its features were made (this segment).
               "backbone_weights": info.get("backbone_weights")
               or info_now.get("backbone_weights", ""),
               "feature_mode": info.get("feature_mode", ""),
               # What the run said as it started (per start: .start_notes), and what its
               # caller warned of (a resumed run's earlier warnings first).
               **started(info_now, trainer.epochs_done + 1, info.get("notes")),
               "start_warnings": _merged(info_now.get("start_warnings"), self.warnings),
               # The training doctor's findings (a resumed run's earlier ones included).
               "findings": list(trainer.findings),
               # The files it skipped, unreadable (a resumed run's earlier ones first).
               "skipped": skipped_entry((), self._folder, self._earlier_skipped),
               # The bundle an earlier segment wrote stays until this one writes its own.
               "bundle": info_now.get("bundle"),
               # Each session's process count and batch per update (torchrun).
               "processes": info.get("processes") or info_now.get("processes") or [],
               "resumed": list(info_now.get("resumed") or []) + ([stamp] if self.resumed
                                                                 else [])}
        self._write_info(run)

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        self.batches.add(loss, num_batches, batch)

    def on_norms(self, trainer: Any, step: int, names: list[str], grad_norms: list[float],
                 weight_norms: list[float]) -> None:
        self.norms.add(step, names, grad_norms, weight_norms)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        self.batches.end_epoch(epoch)
        self.norms.end_epoch(epoch)
        # Written whole: a second Ctrl-C waits for all four (core.interrupts), so last.pt,
        # best.pt and run.json never tell different epochs. A kill (SIGKILL, a power cut)
        # may land between two: the checkpoint first, run.json last (see the module doc).
        with uninterrupted(f"writing epoch {epoch}'s checkpoint"):
            checkpoints = CheckpointWriter(self.run_dir / "checkpoints", self._guard)
            checkpoints.write_last(trainer)
            self._saved_epoch = epoch
            self._write_metrics(trainer.history)  # before best.pt: a full disk keeps it
            self._saved_best = checkpoints.write_best(trainer, epoch)
            self._update(epochs_done=self._saved_epoch, best=self._saved_best,
                         duration_s=round(trainer.elapsed, 3), skipped=self._skipped_entry(trainer))

    def on_finding(self, trainer: Any, finding: dict[str, Any]) -> None:
        if self._started and not self._taken and self.run_dir is not None:
            self._update(findings=list(trainer.findings))

    def on_fit_end(self, trainer: Any, result: FitResult) -> None:
        try:
            self._finish(trainer, result)
        finally:
            self._release()

    def release(self) -> None:
        """Let go of the run folder's lock (done when the run ends; for a run that never
        started, by whoever made the recorder)."""
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _finish(self, trainer: Any, result: FitResult) -> None:
        run_dir = self.run_dir
        if run_dir is None or self._taken or not self._started:
            return  # the run failed before it started: nothing was written, nor will be
        if not result.history and not self.resumed and self.created_dir and \
                result.status != "diverged":
            # Not one epoch finished: there is nothing to keep or resume. A run that diverged
            # stays listed, with what the doctor said about it (and the next run does not
            # take its name), though it has nothing to resume.
            self._release()
            shutil.rmtree(run_dir, ignore_errors=True)
            self.run_dir = None
            return
        status = result.status
        # A second Ctrl-C (or SIGTERM) on its way up: the user's abort, not a failure. The
        # model holds the cut epoch's weights: no bundle of them.
        aborted = aborting()
        if aborted:
            status = "stopped"
        bundle_error = None
        saved: dict[str, Any] | None = None
        if self.save_bundle and result.history and result.model is not None \
                and status in _BUNDLED and not aborted:
            bundle = run_dir / "bundle.pt"
            try:
                name = read_run_info(run_dir).get("name") or result.experiment.name
                self.bundle_path = result.save_bundle(bundle, split=record_to_carry(run_dir),
                                                      name=str(name))
                saved = result.model_info()
            except (OSError, RuntimeError) as e:
                failure = write_failure(e)
                if failure is None:
                    raise
                # Not a quiet success: the caller (CLI, app) must say the bundle is missing
                # and where the trained weights are.
                what, advice = describe_write_failure(failure, run_dir, in_place=True)
                bundle_error = (f"cannot write the bundle {bundle}: {what}. {_cap(advice)}; "
                                f"the trained weights are kept in "
                                f"{run_dir / 'checkpoints' / LAST}, and resuming the run "
                                f"({resume_command(run_dir)}) writes the bundle from them")
                status = "failed"
        message = bundle_error or result.error or result.stop_reason or ""
        if aborted:
            n = self._saved_epoch
            message = "aborted at once (a second Ctrl-C or SIGTERM) " + (
                f"after epoch {n}, whose checkpoint is kept: continue the run to go on "
                f"from it" if n else "before its first epoch ended")
        # Files met unreadable (a scan that decoded nothing could not leave them out): the
        # counts become those of the images the run did use.
        skipped = [p for p, _ in result.skipped or []]
        used = run_counts(getattr(trainer, "index", None), result.experiment.data,
                          skipped, trainer_split(trainer)) if skipped else None
        try:
            if result.status == "diverged":  # the batches of the epoch it cut short, the
                for kept in (self.batches, self.norms):  # exploded one last, as plotted
                    kept.end_epoch(self._saved_epoch + 1, cut=True)  # live, for a restart
                self._write_metrics(trainer.history)
            # "bundle": which epoch's weights bundle.pt holds and what they scored (the
            # numbers the Runs table, Evaluate and Predict show of this run's model).
            # The seconds trained, an epoch cut short included (the checkpoint's count,
            # which a resume goes on from, has finished epochs only).
            self._update(status=status, message=message, finished=now_iso(),
                         epochs_done=self._saved_epoch, best=self._saved_best,
                         duration_s=round(getattr(trainer, "duration", trainer.elapsed), 3),
                         skipped=self._skipped_entry(trainer),
                         **({"bundle": saved} if saved is not None else {}),
                         **({"data": used} if used is not None else {}))
        except WorkbenchError:
            pass  # on_fit_end must not mask the run's own outcome
        if bundle_error is not None:
            raise WorkbenchError(bundle_error)

    def _skipped_entry(self, trainer: Any) -> dict[str, Any] | None:
        """run.json's ``"skipped"``: the unreadable files ``trainer`` met (in the order
        met) after an earlier segment's (:func:`~workbench.core.runs.skipped.skipped_entry`)."""
        met = getattr(trainer, "skipped", None) or {}
        return skipped_entry(met.items(), self._folder, self._earlier_skipped)

    # -- files -------------------------------------------------------------------------
    def _write_metrics(self, history: list[dict[str, Any]]) -> None:
        text = json.dumps({"epochs": history, "batches": self.batches.epochs,
                           "norms": self.norms.epochs}, indent=2) + "\n"
        self._guard(lambda: atomic_write_text(self.run_dir / "metrics.json", text))

    def _write_info(self, info: dict[str, Any]) -> None:
        def write() -> None:
            with editing_run_info(self.run_dir):
                if self.damaged_copy is None:  # else kept already (on_fit_start)
                    keep_damaged_run_info(self.run_dir)
                write_run_info(self.run_dir, info)
        self._guard(write)

    def _update(self, **changes: Any) -> None:
        # Read back, not overwritten: a rename or notes added meanwhile are kept.
        self._guard(lambda: update_run_info(self.run_dir, **changes, updated=now_iso()))

    def _guard(self, write: Any) -> Any:
        try:
            return write()
        except (OSError, RuntimeError) as e:
            failure = write_failure(e)
            if failure is None:
                raise
            what, advice = describe_write_failure(failure, self.run_dir, self.resumed)
            last = self.run_dir / "checkpoints" / LAST
            kept = (f"epochs 1 to {self._saved_epoch} are kept in {last}"
                    if self._saved_epoch > 1 else
                    f"epoch 1 is kept in {last}" if self._saved_epoch == 1 else
                    "no checkpoint was written")
            raise WorkbenchError(f"cannot write to the run folder {self.run_dir}: {what}. "
                                 f"{_cap(advice)}; {kept}") from None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _merged(earlier: Any, now: Any) -> list[str]:
    """``earlier``'s lines, then those of ``now`` not among them (either may be None)."""
    out = [str(n) for n in earlier or [] if isinstance(n, str)] if isinstance(
        earlier, list) else []
    return out + [str(n) for n in now or [] if str(n) not in out]
