"""The Train panel's progress bars once a run has ended: where it ended, in words.

While a run trains, the progress bar fills in the style's colour with its percentage, and
the decoded-image cache's bar beside it counts the images cached. A run that ended short of
its plan (stopped, diverged, out of memory, failed) used to leave both as they were, "33%"
and "160 / 240" in blue, which read as a run still going. :func:`show_run_end` says how the
run ended on the bar instead ("Diverged in epoch 2 of 6; 1 epoch kept"), at the epochs it
kept, in a neutral grey where the run did not finish its plan (the cache's full bar beside
it too); the cache's bar goes where the cache was left part-filled. :func:`show_running`
gives the bars their look back as the next run starts.
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


def run_end_text(status: str, done: int, planned: int) -> str:
    """How a run with ``status`` (run.json's word) ended, after ``done`` of ``planned``
    epochs, for the progress bar: ``Stopped after 2 of 6 epochs``, ``Diverged in epoch 3 of
    6; 2 epochs kept``."""
    of = f"{done} of {planned} epochs" if planned else _epochs(done)
    word = WORDS.get(status)
    if word is None:  # still running elsewhere, or a word of a later version
        return of
    if status == "finished":
        return f"{word}: {of}"
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
    those ``panel.info`` planned, in steps of its ``batches_per_epoch``). A run that ended
    before it began to train (``panel.info`` empty: it never reached its data) leaves the
    bar empty; the status line says why."""
    bar, info = panel.progress, panel.info
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
        bar.setFormat(run_end_text(status, done, planned))
    cache = panel.cache_bar
    if cache.value() < cache.maximum():  # the cache was left part-filled: nothing to count
        cache.hide()
    for widget in (bar, cache):
        set_ended_look(widget, status in SHORT)


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
