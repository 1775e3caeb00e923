"""The Predict tab as the user left it: the model they chose and the images listed, kept in
the session file (:mod:`workbench.core.session`) and given back when the app reopens.

The images (the first :data:`~workbench.core.session.MAX_PREDICT_IMAGES` added, so the
file stays small) are listed again after the window's first frame and classified again
once PyTorch has loaded (the panel waits for it: :mod:`workbench.qt.startup`); their
results are not kept, as the model or the files may have changed since. Images deleted
or moved since are left out, and the tab says how many; a model that is gone is said, and
the tab chooses one as it does when none was kept.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QTimer

from workbench.core.session import MAX_PREDICT_IMAGES
from workbench.qt.session_state import exists, gone_bundle_text, saved_bundle
from workbench.qt.startup import after_first_paint


def predict_state(panel: Any) -> dict[str, Any]:
    """``panel``'s (a PredictPanel's) model, when the user chose it, and its images."""
    state: dict[str, Any] = {}
    if panel.model_chosen:
        state["bundle"] = panel.bundle_path
    images = [item.path for item in panel.rows[:MAX_PREDICT_IMAGES]]
    if images:
        state["images"] = images
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
    note = "; ".join(s for s in said if s)
    if note:
        panel.status.show_message(f"{note[:1].upper()}{note[1:]}.", "warning")
        if kept:
            _say_with_results(panel, note)
    if kept:
        after_first_paint(lambda: panel.add_images(kept), panel)


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
