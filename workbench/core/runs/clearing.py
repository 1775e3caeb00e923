"""Clearing a run folder for a new run in it (``workbench train --overwrite``):
:func:`clear_run_files` deletes what a run wrote there and leaves the user's files."""

from __future__ import annotations

from pathlib import Path

from workbench.core.train.checkpoint import BEST, LAST

#: The files of a run folder's top level that are Workbench's (the rest are checkpoints/).
#: split.json: the run's split (:mod:`workbench.core.data.split_record`).
_TOP_LEVEL = ("run.json", "experiment.json", "metrics.json", "bundle.pt", "split.json")
#: How TensorBoard's event files (:mod:`.tensorboard`) begin.
EVENTS_PREFIX = "events.out.tfevents."


def clear_run_files(run_dir: Path) -> list[str]:
    """Delete the files a run wrote into ``run_dir`` (run.json, experiment.json,
    metrics.json, bundle.pt, split.json, TensorBoard's event files,
    checkpoints/last.pt and best.pt, and the temporary files of interrupted writes of
    them; checkpoints/ itself when nothing else is left in it), so a new run can start
    there; returns their names relative to ``run_dir``. Files that are not Workbench's,
    and the lock files, stay. Hold the folder's :class:`~.lock.RunLock` while
    calling it.

    Raises
    ------
    OSError
        When one cannot be deleted (the ones before it are gone).
    """
    run_dir = Path(run_dir)
    removed = []
    checkpoints = run_dir / "checkpoints"
    for folder, names in ((run_dir, _TOP_LEVEL), (checkpoints, (LAST, BEST))):
        if not folder.is_dir():
            continue
        for path in [folder / n for n in names] + [
                p for n in names for p in folder.glob(f".{n}.*.tmp")]:
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(str(path.relative_to(run_dir)))
    for path in sorted(run_dir.glob(f"{EVENTS_PREFIX}*")) if run_dir.is_dir() else ():
        if path.is_file():  # TensorBoard's event files (runs.tensorboard)
            path.unlink()
            removed.append(path.name)
    if checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()
    return removed
