"""The Evaluate tab as the user left it: the model and the data they chose, kept in the
session file (:mod:`workbench.core.session`) and chosen again when the app reopens.

Only the user's own choices are kept: a model or a data choice the tab made by itself (the
last run's model, its dataset's test part) is made again the same way, but the model the
user chose data for is kept with it (the pair is theirs: :mod:`.pairing`). Nothing is
evaluated on reopening, as an evaluation can take minutes: the tab says, once and where the
results will be, that the choices are back and that Evaluate measures them: "you chose"
only of a pair the user chose (``by_user``: :mod:`.pairing`), else naming the model and
data. A model or a folder that is no longer there is said on the tab's message line, and
the tab chooses as it does when nothing was kept.

The k of the top-k accuracy the user set for a model (:class:`~.layout.TopKBox`) is kept
too, for each model still there (``"top_k"``: ``{bundle: k}``), and comes back with it.
"""

from __future__ import annotations

import os
from typing import Any

from workbench.qt.panels.evaluate.data_choice import AUTO, FOLDER, VAL
from workbench.qt.panels.evaluate.layout import RESTORED_TEXT
from workbench.qt.panels.evaluate.pairing import model_name
from workbench.qt.session_state import exists, gone_bundle_text, saved_bundle



def evaluate_state(panel: Any) -> dict[str, Any]:
    """The choices of ``panel`` (an EvaluatePanel) the user made, as JSON values."""
    state: dict[str, Any] = {}
    # Data the user chose makes the model theirs too: the pair reopens as theirs.
    if panel.chooser.user_chose or (panel.pairing.by_user and panel.bundle_path()):
        state["bundle"] = panel.bundle_path()
        if panel.pairing.by_user:  # not a model a run trained set beside the data
            state["by_user"] = True
    if panel.data_combo.chosen_by_user:
        state["data"] = panel.data_combo.key()
    if panel.folder:
        state["folder"] = panel.folder
    top_k = {path: k for path, k in panel.top_k.user_k().items()
             if exists(path, os.path.isfile)}  # of models still there
    if top_k:
        state["top_k"] = top_k
    return state


def _kept_top_k(state: dict[str, Any]) -> dict[str, int]:
    """The k set per model in ``state``; entries of the wrong kind are left out."""
    kept = state.get("top_k")
    if not isinstance(kept, dict):
        return {}
    return {path: k for path, k in kept.items() if isinstance(path, str) and path
            and isinstance(k, int) and not isinstance(k, bool) and k >= 1}


def restore_evaluate_state(panel: Any, state: dict[str, Any]) -> None:
    """Choose again on ``panel`` what ``state`` (from :func:`evaluate_state`) kept;
    values of the wrong kind are ignored."""
    said = [gone_bundle_text(state)]
    restored = False
    panel.top_k.restore_user_k(_kept_top_k(state), panel.bundle_path(),
                               panel.chooser.bundle_classes())
    if saved_bundle(state):
        panel.set_bundle(state["bundle"])
        restored = True
    folder = state.get("folder")
    key = state.get("data")
    if isinstance(folder, str) and folder:
        if exists(folder):  # a folder, or a CSV file of labels
            panel.set_folder(folder)
            restored = True
        else:
            said.append(f"the folder chosen last time, {folder}, is no longer there "
                        f"(deleted or moved)")
            key = None if key == FOLDER else key
    if key in (AUTO, VAL) or (key == FOLDER and panel.folder):
        panel.data_combo.choose(key)
        restored = True
    panel.pairing.by_user = state.get("by_user") is True and bool(saved_bundle(state))
    said = [s for s in said if s]
    if said:
        text = "; ".join(said)
        panel.message.show_message(f"{text[:1].upper()}{text[1:]}. Choose "
                                   f"{'them' if len(said) > 1 else 'another'} above, then "
                                   f"press Evaluate.", "warning")
    elif restored:
        # Said once, where the results will be (not again on the message line); another
        # choice puts the usual "No result…" line back.
        panel.message.show_message("")
        panel.no_result.setText(RESTORED_TEXT if panel.pairing.by_user else (
            f"Chosen again as the tab was left: {model_name(panel)} on "
            f"{panel.data_combo.described()}. Press Evaluate to see the results."))
    panel.pairing.check()  # a folder left from another model: its validation split

