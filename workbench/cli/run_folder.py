"""The folder ``workbench train --out`` trains into: claimed before the run (refused when
it holds a run or other files, unless ``--overwrite``; never while a process trains into
it), and removed afterwards when this command made it and the run left nothing in it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from workbench.cli.common import UserError


def _remove_if_unused(out: Path) -> None:
    """Remove the run folder this command made when the run left nothing in it (it failed
    before it started: a network that does not fit, a missing device)."""
    from workbench.core.runs.recorder import folder_entries

    try:
        if out.is_dir() and not folder_entries(out):
            for lock_file in out.iterdir():
                lock_file.unlink()
            out.rmdir()
    except OSError:
        pass  # an empty folder left behind is harmless


def _hold_run_lock(folder: Path, instead: str):
    """The run lock of ``folder``, held; None on the other ranks under torchrun (rank 0
    holds it). A run another window or process trains now is refused, saying where it
    trains and how to stop it (:func:`~workbench.core.runs.lock.stop_it_text`), then what
    to do ``instead`` ("": resume it)."""
    from workbench.cli.common import main_process
    from workbench.core.runs.lock import RunLock, stop_it_text

    if not main_process():
        return None
    lock = RunLock(folder)
    if not lock.acquire():
        raise UserError(f"{folder} is being trained right now: let it finish or "
                        f"{stop_it_text(folder)}" + (f"; or {instead}" if instead else
                                                     ", then resume it"))
    return lock


_ENDED = {"diverged": "diverged", "out_of_memory": "ran out of memory", "failed": "failed",
          "stopped": "stopped", "early_stopped": "stopped early", "pruned": "pruned"}


def _how_it_ended(out: Path) -> str:
    """`` (diverged in epoch 1)``, from ``out``'s run.json; "" when it does not say."""
    from workbench.core.runs.store import read_run_info

    info = read_run_info(out)
    ended, done = _ENDED.get(info.get("status")), info.get("epochs_done")
    if ended is None:
        return ""
    epoch = done + 1 if isinstance(done, int) and not isinstance(done, bool) and done >= 0 \
        else None
    return f" ({ended} in epoch {epoch})" if epoch else f" ({ended})"


def _claim_run_folder(out: Path, overwrite: bool):
    """Make ``out`` ready for a new run, or refuse: a folder holding a run (or anything
    else) is replaced only with ``--overwrite``, and never while a process trains into it.
    Returns the run lock taken to clear it (held), or None."""
    from workbench.core.runs.clearing import clear_run_files
    from workbench.core.runs.recorder import folder_entries, holds_run, unused_sibling

    try:
        entries = folder_entries(out) if out.is_dir() else []
    except OSError as e:
        raise UserError(f"cannot read the run folder {out}: {e.strerror or e}") from None
    if not entries:
        return None
    fresh = shlex.quote(str(unused_sibling(out)))  # shown in commands, to paste
    # A run that never finished an epoch (no checkpoint, no bundle) holds nothing to lose:
    # it is replaced as an empty folder would be.
    checkpoints = out / "checkpoints"
    husk = all(p.name in ("run.json", "experiment.json", "metrics.json", "checkpoints")
               for p in entries) and not (checkpoints / "last.pt").exists() and \
        not (checkpoints / "best.pt").exists() and \
        (not checkpoints.is_dir() or all(p.suffix == ".tmp" for p in checkpoints.iterdir()))
    if not overwrite and not husk:
        if holds_run(out) and not (checkpoints / "last.pt").is_file():
            # Nothing to resume (resume would refuse): its run.json keeps what happened.
            raise UserError(f"the folder {out} holds a run that kept no epoch"
                            f"{_how_it_ended(out)}: give --overwrite to train again into "
                            f"it, or train into a fresh folder (--out {fresh})")
        if holds_run(out):
            raise UserError(f"the folder {out} holds a run already: continue it with "
                            f"workbench resume {shlex.quote(str(out))}, train into a fresh "
                            f"folder (e.g. --out {fresh}), or give --overwrite to replace it")
        raise UserError(f"{out} is not empty ({len(entries)} files or folders that are not a "
                        f"Workbench run): train into a fresh folder (e.g. --out {fresh}) or an "
                        f"empty one, or give --overwrite to train there anyway (its files "
                        f"are left alone)")
    lock = _hold_run_lock(out, f"train into a fresh folder (e.g. --out {fresh})")
    if lock is None:
        return None  # under torchrun, rank 0 clears the folder
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
