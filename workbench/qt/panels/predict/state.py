"""The Predict tab as the user left it: the model they chose and the images listed, kept in
the session file (:mod:`workbench.core.session`) and given back when the app reopens.

The images (the first :data:`~workbench.core.session.MAX_PREDICT_IMAGES` added, so the
file stays small) are listed again after the window's first frame and classified again
once PyTorch has loaded (the panel waits for it: :mod:`workbench.qt.startup`); their
results are not kept, as the model or the files may have changed since. The images past
the first 500 are counted, with the first folders they are in, and the tab says how many
were not kept and where to drop them from again. Images deleted or moved since are left
out, and the tab says how many; a model that is gone is said, and the tab chooses one as
it does when none was kept.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QTimer

from workbench.core.session import MAX_PREDICT_IMAGES
from workbench.qt.session_state import exists, gone_bundle_text, saved_bundle
from workbench.qt.startup import after_first_paint

#: How many of the folders of the images not kept the tab names.
FOLDERS_NAMED = 3


def predict_state(panel: Any) -> dict[str, Any]:
    """``panel``'s (a PredictPanel's) model, when the user chose it, and its images."""
    state: dict[str, Any] = {}
    if panel.model_chosen:
        state["bundle"] = panel.bundle_path
    rows = panel.rows
    images = [item.path for item in rows[:MAX_PREDICT_IMAGES]]
    if images:
        state["images"] = images
    if len(rows) > MAX_PREDICT_IMAGES:  # said after a restart: they are not listed again
        left = rows[MAX_PREDICT_IMAGES:]
        folders = list(dict.fromkeys(os.path.dirname(item.path) for item in left))
        state["left_out"] = {"images": len(left), "folders": folders[:FOLDERS_NAMED],
                             "more_folders": max(0, len(folders) - FOLDERS_NAMED)}
    return state


def restore_predict_state(panel: Any, state: dict[str, Any]) -> None:
    """Give ``panel`` back what ``state`` (from :func:`predict_state`) kept; values of
    the wrong kind are ignored."""
    said = [gone_bundle_text(state)]
    if saved_bundle(state):
        panel.set_bundle(state["bundle"])
    listed = state.get("images")
    paths = [p for p in listed if isinstance(p, str) and p] if isinstance(listed, list) else []
    kept = [p for p in paths if exists(p, os.path.isfile)]
    if len(kept) < len(paths):
        gone = len(paths) - len(kept)
        said.append(f"{'all ' if not kept and gone > 1 else ''}{gone} of the images listed "
                    f"last time {'are' if gone > 1 else 'is'} no longer there (deleted or "
                    f"moved) and {'were' if gone > 1 else 'was'} left out")
    said.append(left_out_text(state.get("left_out")))
    note = "; ".join(s for s in said if s)
    if note:
        panel.status.show_message(f"{note[:1].upper()}{note[1:]}.", "warning")
        if kept:
            _say_with_results(panel, note)
    if kept:
        after_first_paint(lambda: panel.add_images(kept), panel)


def left_out_text(left_out: Any) -> str:
    """"143 more images listed last time were not kept (a session keeps the first 500):
    drop them again, from FOLDER, …" for :func:`predict_state`'s ``left_out``; "" for none
    (or a value of the wrong kind)."""
    if not isinstance(left_out, dict):
        return ""
    n, folders = left_out.get("images"), left_out.get("folders")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return ""
    folders = [f for f in folders if isinstance(f, str) and f] if isinstance(folders, list) \
        else []
    more = left_out.get("more_folders")
    if isinstance(more, int) and not isinstance(more, bool) and more > 0:
        folders.append(f"{more} more folder{'s' if more > 1 else ''}")
    where = ", ".join(folders[:-1]) + f" and {folders[-1]}" if len(folders) > 1 else \
        "".join(folders)
    return (f"{n} more image{'s' if n > 1 else ''} listed last time {'were' if n > 1 else 'was'} "
            f"not kept (a session keeps the first {MAX_PREDICT_IMAGES}): drop "
            f"{'them' if n > 1 else 'it'} again" + (f", from {where}" if where else ""))


def _say_with_results(panel: Any, note: str) -> None:
    """Say ``note`` again after the line the results replace it with ("5 classified")."""
    def said() -> None:
        if panel.is_busy():
            return  # more to come (the images classified again with another model)
        panel.predictions_finished.disconnect(finished)
        panel.status.show_message(f"{panel.status.text()}; {note}", "warning")

    def finished(_paths: list) -> None:
        QTimer.singleShot(0, panel, said)  # after a model chosen meanwhile has begun
    panel.predictions_finished.connect(finished)
