"""Completing a run whose training ended but whose bundle was never written.

A process killed while it wrote ``bundle.pt`` (SIGKILL, a power cut), or a disk that filled
at that moment, leaves a run with every epoch in ``checkpoints/last.pt``, no bundle (or an
older segment's), a stray ``.bundle.pt.*.tmp`` and a run.json that still says "running" or
"failed". Nothing is left to train, so resuming it would refuse; :func:`finish_run` writes
the bundle the run's normal end would have written instead (the last epoch's weights, or
the best epoch's from ``best.pt`` when early stopping stopped it with ``restore_best``) and
records the run as finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.core.bundle import BundleError, load_torch_file, save_bundle
from workbench.core.data.split_record import record_to_carry
from workbench.core.errors import WorkbenchError
from workbench.core.io import remove_stray_temporaries
from workbench.core.runs.damaged import damaged_run_info, damaged_run_info_note
from workbench.core.runs.lock import RunLock, editing_run_info, stop_it_text
from workbench.core.runs.store import (keep_damaged_run_info, read_run_info, update_run_info,
                                       write_run_info)
from workbench.core.train.callbacks.base import FitResult
from workbench.core.train.checkpoint import BEST, Checkpoint, CheckpointError, load_checkpoint
from workbench.core.train.callbacks.early_stopping import BestTracker
from workbench.core.train.disk import describe_write_failure, write_failure
from workbench.core.runs.recorder import _BUNDLED, _WRITTEN, now_iso


@dataclass
class Unfinished:
    """What a run whose training ended still needs (see :func:`unfinished`)."""

    #: "finished" or "early_stopped": how its training ended.
    status: str
    #: Early stopping's reason, or "".
    reason: str
    #: The best epoch's weights are the model (early stopping with restore_best).
    restore_best: bool


def unfinished(run_dir: Path, ckpt: Checkpoint) -> Unfinished | None:
    """Whether the run in ``run_dir``, whose last checkpoint is ``ckpt``, finished training
    but lacks the bundle of it: every planned epoch done (or early stopping's patience run
    out), and no ``bundle.pt`` whose run.json entry says it holds the weights its end
    would have kept. None when epochs are left to train, or the bundle is there (with
    run.json damaged, :func:`~workbench.core.runs.damaged.damaged_run_info`: a bundle.pt
    that says it holds those weights)."""
    t = ckpt.experiment.training
    best = ckpt.best
    # Patience run out at the planned last epoch is early stopping too (its callback).
    early = bool(t.early_stopping and best and ckpt.bad_epochs >= t.patience)
    if ckpt.epoch < t.epochs and not early:
        return None
    restore = bool(early and t.restore_best and best)
    epoch = int(best["epoch"]) if restore else ckpt.epoch
    info = read_run_info(run_dir)
    entry = info.get("bundle")
    # A run recorded as ended with a bundle is complete, unless its record says the bundle
    # holds other weights (an earlier segment's). Killed mid-write, it still says "running";
    # out of space for the bundle, "failed". (A run.json from before the "bundle" entry
    # has none: its status is the word.)
    if ((run_dir / "bundle.pt").is_file() and info.get("status") in _BUNDLED
            and (not isinstance(entry, dict) or entry.get("epoch") == epoch)):
        return None
    # A damaged run.json (cut short by a kill or a full disk) records nothing that reads
    # for sure: the bundle itself says which epoch's weights it holds.
    if damaged_run_info(run_dir) is not None and _bundle_epoch(run_dir / "bundle.pt") == epoch:
        return None
    reason = ""
    if early:
        reason = BestTracker(best["metric"], t.min_delta, t.patience, best,
                             ckpt.bad_epochs).reason()
    return Unfinished("early_stopped" if early else "finished", reason, restore)


@dataclass
class Finished:
    """What :func:`finish_run` did."""

    bundle: Path
    #: The checkpoint the bundle's weights come from.
    source: Path
    #: The stray temporary files of interrupted writes that were deleted.
    removed: list[Path]
    #: What the bundle holds, as a training run's result describes it (no model).
    result: FitResult
    #: Why best.pt was not used when it should have been, and where a damaged run.json
    #: was kept and what was read back of it ("" when neither).
    note: str = ""


def finish_run(run_dir: str | Path, ckpt: Checkpoint, todo: Unfinished) -> Finished:
    """Write the bundle of a run whose training ended (``todo`` from :func:`unfinished`),
    delete the temporary files interrupted writes left, and record it in run.json as its
    normal end would have.

    Raises
    ------
    WorkbenchError
        When another process trains into the run now, or the bundle cannot be written.
    """
    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    if not lock.acquire():
        raise WorkbenchError(f"the run {run_dir} is being trained right now: let it "
                             f"finish, or {stop_it_text(run_dir)}")
    try:
        removed = [p for folder in (run_dir, run_dir / "checkpoints")
                   for p in remove_stray_temporaries(folder, _WRITTEN)]
        source, weights, note = Path(ckpt.path), ckpt.model, ""
        restored = False
        if todo.restore_best:
            best_epoch = int(ckpt.best["epoch"])
            best_path = run_dir / "checkpoints" / BEST
            try:
                best = load_checkpoint(best_path)
            except CheckpointError as e:
                best, note = None, f"{e}"
            if best is not None and best.epoch != best_epoch:
                best, note = None, (f"{best_path} holds epoch {best.epoch}, not the best "
                                    f"epoch {best_epoch}")
            if best is not None:
                source, weights, restored = best_path, best.model, True
            else:
                note = f"kept the last epoch's weights: {note}"
        result = FitResult(list(ckpt.history), list(ckpt.classes), None, False,
                           ckpt.experiment, early_stopped=todo.status == "early_stopped",
                           stop_reason=todo.reason, best=ckpt.best, restored_best=restored,
                           weights_epoch=int(ckpt.best["epoch"]) if restored else ckpt.epoch)
        # A damaged run.json: what still reads of it (the run's name, creation date, notes).
        recovered = damaged_run_info(run_dir)
        info = read_run_info(run_dir) if recovered is None else recovered
        name = info.get("name") or run_dir.resolve().name
        bundle = run_dir / "bundle.pt"
        try:
            save_bundle(bundle, ckpt.experiment, ckpt.classes, weights,
                        info=result.model_info(name=str(name)),
                        split=record_to_carry(run_dir))
            if recovered is not None:
                note = "; ".join(n for n in (_rewrite_damaged(run_dir, recovered), note) if n)
            # "bundle": as a normal end records it (see RunRecorder._finish).
            update_run_info(run_dir, status=todo.status, message=todo.reason,
                            finished=now_iso(), updated=now_iso(), epochs_done=ckpt.epoch,
                            best=ckpt.best, duration_s=round(ckpt.elapsed, 3),
                            bundle=result.model_info())
        except (OSError, RuntimeError) as e:
            failure = write_failure(e)
            if failure is None:
                raise
            what, advice = describe_write_failure(failure, run_dir)
            raise WorkbenchError(f"cannot write the bundle {bundle}: {what}; {advice}. The "
                                 f"trained weights stay in {source}") from None
        return Finished(bundle, source, removed, result, note)
    finally:
        lock.release()


def _bundle_epoch(path: Path) -> int | None:
    """The epoch whose weights the bundle at ``path`` says it holds (its tensors mapped,
    not read); None when it is missing, unreadable or does not say."""
    if not path.is_file():
        return None
    try:
        data = load_torch_file(path, "bundle", BundleError, mmap=True)
    except BundleError:
        return None
    info = data.get("info") if isinstance(data, dict) else None
    epoch = info.get("epoch") if isinstance(info, dict) else None
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None


def _rewrite_damaged(run_dir: Path, recovered: dict) -> str:
    """Copy the damaged run.json aside and write what still reads of it (``recovered``,
    from :func:`~workbench.core.runs.damaged.damaged_run_info`: the run's name, creation
    date and notes among it) back whole; the note that says so, as a resume's start note
    does."""
    with editing_run_info(run_dir):
        copy = keep_damaged_run_info(run_dir)
        write_run_info(run_dir, dict(recovered))
    return damaged_run_info_note(run_dir, copy, recovered) if copy is not None else ""
