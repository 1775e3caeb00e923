"""The Train panel's progress bars once a run has ended: where it ended, in words.

While a run trains, the progress bar fills in the style's colour with its percentage, and
the decoded-image cache's bar beside it counts the images cached. A run that ended short of
its plan (stopped, diverged, out of memory, failed) used to leave both as they were, "33%"
and "160 / 240" in blue, which read as a run still going. :func:`show_run_end` says how the
run ended on the bar instead ("Diverged in epoch 2 of 6; 1 epoch kept"), at the epochs it
kept, in a neutral grey where the run did not finish its plan (the cache's full bar beside
it too); the cache's bar goes where the cache was left part-filled. :func:`show_running`
gives the bars their look back as the next run starts.

The epochs a run kept are those its run.json counts (``epochs_done``: what a resume goes on
from, what the Runs tab and a restart show), not those the plots heard of: a run that
failed writing an epoch's files (a disk full at ``best.pt``) kept the epoch whose
checkpoint it wrote, though its end was never announced, and :func:`kept_epochs` plots it
from its metrics.json ("Failed after epoch 1 of 4; 1 epoch kept").
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QProgressBar

#: The filled part's colour of a run that ended short of its plan: not the "busy" colour.
ENDED_COLOUR = "#9e9e9e"
#: How each ending is said (run.json's statuses); those of :data:`SHORT` ended short of
#: their plan, and their bar is grey.
WORDS = {"finished": "Finished", "early_stopped": "Stopped early", "stopped": "Stopped",
         "interrupted": "Interrupted", "diverged": "Diverged", "out_of_memory": "Out of memory",
         "failed": "Failed", "pruned": "Pruned"}
SHORT = ("stopped", "pruned", "interrupted", "diverged", "out_of_memory", "failed")
#: Endings in the middle of an epoch, whose batches were dropped.
MID_EPOCH = ("diverged", "out_of_memory", "failed")


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def run_end_text(status: str, done: int, planned: int, at_epoch_end: bool = False) -> str:
    """How a run with ``status`` (run.json's word) ended, after ``done`` of ``planned``
    epochs, for the progress bar: ``Stopped after 2 of 6 epochs``, ``Diverged in epoch 3 of
    6; 2 epochs kept``; ``at_epoch_end``: it failed as epoch ``done``'s files were
    written, that epoch kept (``Failed after epoch 1 of 4; 1 epoch kept``)."""
    of = f"{done} of {planned} epochs" if planned else _epochs(done)
    word = WORDS.get(status)
    if word is None:  # still running elsewhere, or a word of a later version
        return of
    if status == "finished":
        return f"{word}: {of}"
    if at_epoch_end and status in MID_EPOCH and done:
        return f"{word} after epoch {done}" + (f" of {planned}" if planned else "") + \
            f"; {_epochs(done)} kept"
    if status in MID_EPOCH and (not planned or done < planned):
        at = f"epoch {done + 1}" + (f" of {planned}" if planned else "")
        return f"{word} in {at}; " + (f"{_epochs(done)} kept" if done else "nothing kept")
    return f"{word} after {of}"


def set_ended_look(bar: QProgressBar, ended: bool) -> None:
    """Fill ``bar`` in :data:`ENDED_COLOUR` (``ended``), or in the style's colour again."""
    if ended:
        palette = QPalette(bar.palette())
        palette.setColor(QPalette.ColorRole.Highlight, QColor(ENDED_COLOUR))
        bar.setPalette(palette)
    else:
        bar.setPalette(QPalette())  # no role of its own: the one it inherits


def show_run_end(panel: Any, status: str, done: int, planned: int | None = None,
                 per_epoch: int | None = None) -> None:
    """Show on ``panel``'s progress bar that its run ended with ``status`` after ``done``
    epochs (in all, a continued run's earlier ones included), of ``planned`` (by default
    those ``panel.info`` planned, in steps of its ``batches_per_epoch``: the run that just
    ended, whose run.json then says how many it kept, :func:`kept_epochs`). A run that
    ended before it began to train (``panel.info`` empty: it never reached its data) leaves
    the bar empty, the status line saying why; a Continue… that did (a disk full, the
    run's classes changed) shows the run as it is still saved, its epochs kept."""
    bar, info = panel.progress, panel.info
    if planned is None and not info and panel.continue_summary and panel.last_run_dir:
        panel._show_saved_run(panel.last_run_dir)  # (its planned epochs: no loop back here)
        return
    heard, at_epoch_end = done, False
    if planned is None and status != "finished":
        done = kept_epochs(panel, done)
        at_epoch_end = done > heard
    planned = int(info.get("epochs") or 0) if planned is None else planned
    if not planned:
        bar.setRange(0, 1)
        bar.setValue(0)
        bar.setFormat("")
    else:
        per_epoch = max(1, int(per_epoch or info.get("batches_per_epoch") or 1))
        bar.setRange(0, max(planned, done) * per_epoch)
        # The epochs kept, not the batches of an unfinished one, which were dropped.
        bar.setValue(bar.maximum() if status == "finished" else done * per_epoch)
        bar.setFormat(run_end_text(status, done, planned, at_epoch_end))
    cache = panel.cache_bar
    if cache.value() < cache.maximum():  # the cache was left part-filled: nothing to count
        cache.hide()
    for widget in (bar, cache):
        set_ended_look(widget, status in SHORT)


def kept_epochs(panel: Any, heard: int) -> int:
    """The epochs the run that just ended in ``panel`` kept: its run.json's ``epochs_done``,
    or ``heard`` (the epochs the panel heard end) where it has none (a run that kept
    nothing, its folder removed). An epoch the panel never heard end (the run failed
    writing its files) is plotted from the run's metrics.json, as a restart shows it."""
    from workbench.core.runs.store import read_run_info

    run_dir = str(panel.info.get("run_dir") or "")
    saved = read_run_info(run_dir) if run_dir else {}
    kept = saved.get("epochs_done")
    if not isinstance(kept, int) or isinstance(kept, bool) or kept < 0:
        return heard
    if kept > int(panel.plots.point_counts().get("epochs", 0)):
        from workbench.core.runs.record import read_history

        best = saved.get("best")
        per_epoch = max(1, int(panel.info.get("batches_per_epoch") or 1))
        panel._show_run(run_dir, read_history(run_dir), per_epoch,
                        best.get("epoch") if isinstance(best, dict) else None)
    return kept


def show_running(panel: Any) -> None:
    """A run starts: the bars in their usual look again."""
    for widget in (panel.progress, panel.cache_bar):
        set_ended_look(widget, False)


def show_not_started(panel: Any) -> None:
    """The run was refused before it trained: no run took place, so nothing says one
    ended (the bars empty in their usual look, no cache line, the plots as before any run:
    "No data yet", not "the run ended before the first sample")."""
    bar = panel.progress
    bar.setRange(0, 1)
    bar.setValue(0)
    bar.setFormat("")
    panel.cache_label.setText("")
    panel.cache_bar.hide()
    show_running(panel)  # the usual look
    panel.plots.clear_data()


def offer_fix(panel: Any, message: str, fix: dict) -> None:
    """The core refused ``panel``'s run before it trained (``message``; every batch would be
    skipped, say): say why as Start's own refusals do ("Cannot start training: …"), and
    offer its fix (``fix``: a finding's action, whose settings it sets) with a new start."""
    from workbench.core.errors import WorkbenchError
    from workbench.qt.panels.train.findings import app_text, sentence
    from workbench.qt.panels.train.fixes import apply_settings

    text = sentence(app_text(message))
    show_not_started(panel)
    panel.last_error = text
    panel.status.show_message(f"Cannot start training: {text}", "error")
    panel.training_not_started.emit(message)
    label = str(fix.get("label") or "Apply the fix")
    if not panel.ask("Cannot start training", f"{text}\n\n{label} and start training?"):
        return
    try:
        shown = apply_settings(panel.current, dict(fix["set"]))
    except WorkbenchError as e:
        panel.status.show_message(f"Cannot apply “{label}”: {e}", "error")
        return
    panel.refresh()  # the forms show the new values
    panel.settings_changed.emit()
    panel.status.show_message(f"{label}: {shown} set.", "ok")
    panel.start()
