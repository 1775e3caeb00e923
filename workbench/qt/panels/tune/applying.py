"""The Tune tab's "Apply best": the best trial's values written into the open experiment,
with the settings the trial trained them with (:mod:`workbench.core.tune.trained`).

Only the searched fields differ from trial to trial; the rest (the optimizer when only its
learning rate is searched, the batch size, the schedule, the augmentation) is what the
experiment had when the trial ran. When the open experiment has other settings now (edited,
or another study applied since), :func:`ask_trial_settings` names each one and asks whether
to take the trial's too, so the experiment is what the trial trained. The message line then
says what was written, and when the trials trained another number of epochs than the
experiment will (Start would not repeat the trial).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.core.errors import WorkbenchError

from workbench.qt.panels.tune.results import fmt
from workbench.qt.panels.tune.study_link import check_apply


def ask_trial_settings(parent: QWidget, text: str) -> bool | None:
    """Whether to apply the trial's other settings too (True), only its searched values
    (False), or nothing (None: Cancel)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Apply the trial's settings too?", text,
                      QMessageBox.StandardButton.Cancel, parent)
    both = box.addButton("Apply its settings too", QMessageBox.ButtonRole.AcceptRole)
    only = box.addButton("Only the searched values", QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(both)
    box.exec()
    return True if box.clickedButton() is both else False if box.clickedButton() is only \
        else None


def apply_best(panel: Any) -> bool:
    """Write the shown study's best trial into ``panel``'s experiment (the same object),
    announce it as replaced and emit ``experiment_changed``; False (saying why on the
    message line) when nothing was written."""
    if not check_apply(panel, panel.follower, panel.ask_apply_other):
        return False
    # Trials another process added since the last listing show soon (said on the message
    # line when one of them is the better).
    panel.follower.relist()
    best = panel.best_trial()
    if best is None:
        panel.message.show_message("No trial has completed yet: run the study first",
                                   "warning")
        return False
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()  # apply_params validates (torch registries)
    from workbench.core.tune.trained import (differences as worded, epochs_note,
                                             trained_epochs, trial_settings)

    number, study = best["number"], panel.results.study[1]
    try:
        new, trained, differences = trial_settings(panel.experiment, best)
    except WorkbenchError as e:
        panel.message.show_message(f"Cannot apply trial {number}: {e}", "error")
        return False
    also = ""
    if trained is not None:
        listed = "\n".join(f"• {line}" for line in differences)
        answer = panel.ask_trial_settings(
            panel, f"Trial {number} of study {study} trained other settings than the "
                   f"experiment has now; applying them too writes:\n{listed}\n\nIts "
                   f"values were found with its own settings. Apply them too, so the "
                   f"experiment is what the trial trained?")
        if answer is None:
            panel.message.show_message(f"Did not apply trial {number} of study {study}",
                                       "warning")
            return False
        if answer:
            new = trained
            also = f"; and as the trial trained: {'; '.join(differences)}"
        else:
            kept = worded(new, trained, best["params"], "the trial's")
            also = (f"; the other settings are the experiment's, not the trial's: "
                    f"{'; '.join(kept)}")
    panel._applying = True  # the same experiment, tuned: the table keeps its study
    try:
        panel.current.replace(new, in_place=True)  # the fields list follows
    finally:
        panel._applying = False
    shown = ", ".join(f"{k} = {fmt(v)}" for k, v in best["params"].items())
    epochs = epochs_note(panel.experiment, best)
    if epochs:
        epochs = (f". Note: {epochs}: set Epochs to {trained_epochs(best)} on the Train tab "
                  f"to repeat the trial")
    panel.message.show_message(f"Applied trial {number} of study {study}: {shown}{also}"
                               f"{epochs}", "ok")
    panel.experiment_changed.emit()
    return True
