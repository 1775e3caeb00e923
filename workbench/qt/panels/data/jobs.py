"""Background jobs of the Data panel: plain functions run by a TaskRunner off the GUI thread.

Opening a folder is two jobs so that a large one opens at once: :func:`list_dataset` only
lists files (hundreds of thousands a second), then :func:`verify_dataset` decodes every
image to find the unreadable ones while the user already browses the classes.
"""

from __future__ import annotations

import copy
from typing import Any

from workbench.qt.workers import TaskState


def list_dataset(folder: str, state: TaskState) -> Any:
    """Scan ``folder`` (or a CSV dataset) without decoding any image."""
    from workbench.core.data.scan import scan_folder

    return scan_folder(folder, verify=False, progress=state.set_progress,
                       is_cancelled=state.is_cancelled)


def verify_dataset(index: Any, state: TaskState) -> Any:
    """A copy of ``index`` whose undecodable samples moved to ``unreadable``.

    The copy keeps the GUI's index untouched while this runs in another thread.
    """
    from workbench.core.data.index import verify_samples

    checked = copy.deepcopy(index)
    verify_samples(checked, progress=state.set_progress, is_cancelled=state.is_cancelled)
    return checked

