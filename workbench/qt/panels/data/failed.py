"""The Data tab's scan that failed: what the tab then shows, and what it says.

Another folder typed or chosen that cannot be scanned (a typo) while the experiment's
dataset is shown keeps that dataset shown and used, the field put back to it ("…; still
using /data/pets."). While the experiment's folder is missing (said at start-up, or gone
since its scan) there is nothing to keep using: the typed text stays in the field to be
fixed, and the message says that folder is missing too. The experiment's own folder failing
leaves nothing of it to show.
"""

from __future__ import annotations

from typing import Any

from workbench.qt.panels.data.advice import same_folder
from workbench.qt.panels.data.stats import missing_too_text, still_using_text


def show_failed_scan(panel: Any, message: str) -> str:
    """Update the Data tab ``panel`` (a :class:`~.panel.DataPanel`) for the scan of its
    pending folder that failed with ``message`` (why: "… does not exist: …"); returns the
    message to show."""
    from workbench.qt.panels.train.start_checks import missing_folder_problem

    old, typed = panel.experiment.data.folder, panel._pending_folder
    if not old or same_folder(typed, old):  # its own folder: nothing of it is left to show
        panel.advice.cancel()
        panel.advice.show_chosen("")  # "Chosen for this dataset" spoke of the one before
        panel.index, panel.shown_folder = None, ""
        panel.trainable = panel.checking = False
        panel._show_index(None)
        return message
    shown = panel.index is not None and same_folder(panel.shown_folder, old)
    missing = missing_folder_problem(old)  # one stat, once the scan failed
    if missing or not shown:  # nothing of the experiment's is used: the typo stays to fix
        return missing_too_text(message, missing, last_scan=shown)
    # Another folder (a typo): the experiment keeps its dataset, so the tab shows it.
    panel._pending_folder = old
    panel.folder_edit.setText(old)
    if panel.checking:  # its check was stopped for this
        panel._verify(panel.index)
    return still_using_text(message, old)
