"""The Train tab's last run as its folder keeps it: the "Last run:" line under the plots,
and whether the folder changed since the tab showed it.

The line names the run, where it stands, the model it kept ("Model kept: epoch 4: …,
accuracy 45.8%", from run.json's ``bundle``: the numbers the run's end said) and what
Continue… does; :func:`saved_state` is what the tab shows of the run, so that a run
continued elsewhere (``workbench resume`` in a terminal) is shown again
(:class:`~workbench.qt.panels.train.follow.Follower`). Reads run.json and metrics.json,
and the bundle's class names without torch (:mod:`workbench.core.runs.classes`): at
start-up this runs before torch is imported, which the GUI thread must not do.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.core.io import file_stamp
from workbench.core.runs.lock import stop_it_text
from workbench.core.runs.store import continue_file
from workbench.qt.panels.train.after_divergence import goes_on
from workbench.qt.panels.train.skipped import with_skipped
from workbench.qt.panels.train.status import AT_CHANCE, NO_VALIDATION, kept_text

#: The epoch metrics the "Model kept" part names (the line has two lines' room).
_KEPT = ("train_loss", "train_acc", "val_loss", "val_acc", "val_bal_acc")


def last_run_line(run_dir: str, info: dict) -> tuple[str, str]:
    """``(text, level)``: ``Last run: NAME (stopped), 3 of 8 planned epochs. Model kept:
    epoch 3: …. Continue… trains it further from its last checkpoint.`` (for a run that
    trains elsewhere now, that Continue… works once it stops, and how to stop it); for a run that
    wrote no bundle (killed mid-run), which model it has: its last checkpoint, opened from
    the Runs tab; and the images it skipped, unreadable (run.json's), as its run-end line
    said them. ``info``: its run.json, as
    :func:`~workbench.core.runs.store.read_run_info` read it."""
    from workbench.core.runs.classes import bundle_classes
    from workbench.core.runs.damaged import damaged_run_info
    from workbench.core.runs.record import read_history, read_record
    from workbench.core.runs.skipped import saved_skipped
    from workbench.core.runs.store import current_status

    recovered = damaged_run_info(run_dir) if not info else None
    if recovered is not None:
        return _damaged_line(run_dir, recovered, len(read_history(run_dir)))
    name = str(info.get("name") or Path(run_dir).name)
    status = current_status(run_dir, str(info.get("status") or "unknown"))
    done = info.get("epochs_done")
    done = done if isinstance(done, int) else len(read_history(run_dir))
    planned = info.get("epochs_planned")
    of = f" of {planned} planned" if planned else ""
    model, no_bundle = "", False
    if status != "running" and not (Path(run_dir) / "bundle.pt").is_file():
        record = read_record(run_dir)
        no_bundle = bool(record.checkpoint_model)
        model = (f" It saved no bundle: its model is its checkpoint of epoch "
                 f"{record.model_epoch} (Runs tab: Open in Predict or Evaluate)."
                 if no_bundle else "")
    elif status != "running":
        model = model_kept_text(info, len(bundle_classes(Path(run_dir) / "bundle.pt") or []))
    found = continue_file(run_dir)
    more = (f" Continue… trains it further from {_checkpoint_words(found, info)}" +
            (" and saves a bundle." if no_bundle else ".") if found else "")
    if more and status == "diverged" and not goes_on(run_dir):
        more = " Its last checkpoint is no sound place to go on from (the Doctor tab)."
    elif status == "running":  # another window or a terminal trains it: Continue… refuses
        more = f" It is training now: Continue… works once it stops ({stop_it_text(run_dir)})."
    files, count = saved_skipped(info)
    # A model measured on no validation image, or at chance, is said as the run's end said
    # it: a warning.
    return with_skipped(
        f"Last run: {name} ({status.replace('_', ' ')}), {done}{of} epochs.{model}{more}",
        "warning" if NO_VALIDATION in model or AT_CHANCE in model else "info", files,
        total=count)


def _damaged_line(run_dir: str, recovered: dict, done: int) -> tuple[str, str]:
    """The last-run line, a warning, of a run whose run.json cannot be parsed: the file,
    and that Continue… rewrites it keeping what it can (``recovered``, as
    :func:`~workbench.core.runs.damaged.damaged_run_info` read it: the name it keeps)."""
    name = str(recovered.get("name") or Path(run_dir).name)
    found = continue_file(run_dir)
    fix = ("Continue… rewrites it, keeping the run's name, creation date and notes where "
           f"they can still be read or found, and trains it further from "
           f"{_checkpoint_words(found, {})}; or restore it from a copy." if found else
           "restore it from a copy (the run has no checkpoint to continue from).")
    return (f"Last run: {name}, {done} epoch{'' if done == 1 else 's'}. "
            f"{Path(run_dir) / 'run.json'} is damaged (cut short or not valid JSON): {fix}",
            "warning")


def _checkpoint_words(found: str, info: dict) -> str:
    """What Continue… goes on from (``found``: its :func:`~workbench.core.runs.store.
    continue_file`): "its last checkpoint", or, with ``checkpoints/last.pt`` gone, its
    best.pt and the epoch run.json says that holds (a resume takes it: none read)."""
    if found == "last.pt":
        return "its last checkpoint"
    best = info.get("best")
    epoch = best.get("epoch") if isinstance(best, dict) else None
    held = f"epoch {epoch}, " if isinstance(epoch, int) and not isinstance(epoch, bool) else ""
    return f"checkpoints/best.pt ({held}its last.pt is missing)"


def model_kept_text(info: dict, classes: int = 0) -> str:
    """`` Model kept: epoch 4: train loss …; validation loss 1.1467, accuracy 45.8%.``:
    the epoch whose weights run.json ``info`` says its bundle holds, with their numbers,
    as the run's end said them (:func:`~workbench.qt.panels.train.status.ending_text`:
    with the bundle's ``classes``, 0 when not known, that they are at chance);
    ``""`` when it records none."""
    bundle = info.get("bundle")
    metrics = bundle.get("metrics") if isinstance(bundle, dict) else None
    if not isinstance(metrics, dict):
        return ""
    shown = {k: v for k, v in metrics.items() if k in _KEPT and _number(v)}
    if not shown:
        return ""
    epoch = bundle.get("epoch") or metrics.get("epoch")
    monitor = (info.get("best") or {}).get("metric") if isinstance(info.get("best"), dict) \
        else None
    return kept_text(epoch, bundle.get("restored_best") is True, shown, monitor, classes)


def saved_state(info: dict) -> tuple:
    """What the Train tab shows of a run, as its run.json (``info``, as
    :func:`~workbench.core.runs.store.read_run_info` read it) says it now (its name,
    status, epochs done and planned, the model it kept): another value than when it was
    shown means the run changed elsewhere since (continued, renamed)."""
    return tuple(json.dumps(info.get(key), sort_keys=True, default=str) for key in
                 ("name", "status", "epochs_done", "epochs_planned", "bundle"))


def run_stamp(run_dir: str) -> tuple:
    """The stamps (:func:`~workbench.core.io.file_stamp`) of ``run_dir``'s run.json and
    metrics.json, the files the Train tab shows a saved run from: unchanged, the run is
    as it was when last looked at."""
    return tuple(file_stamp(Path(run_dir) / name) for name in ("run.json", "metrics.json"))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def saved_experiment(run_dir: str) -> dict:
    """``run_dir``'s experiment.json as plain JSON (``{}`` when unreadable): read, not
    loaded, since torch may not be imported yet (an Experiment's validation imports it)."""
    try:
        saved = json.loads((Path(run_dir) / "experiment.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}
