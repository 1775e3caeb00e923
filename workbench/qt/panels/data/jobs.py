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

    The copy keeps the GUI's index untouched while this runs in another thread; the files
    are decoded by :func:`verify_workers` threads at a time.
    """
    from workbench.core.data.index import verify_samples

    checked = copy.deepcopy(index)
    verify_samples(checked, progress=state.set_progress, is_cancelled=state.is_cancelled,
                   workers=verify_workers)
    return checked


def verify_workers() -> int:
    """How many threads check images for the Data tab now: a core is kept for the event
    loop, and one more while torch is imported in the background (the import holds the
    interpreter lock for long stretches; every decoding thread lengthens the event loop's
    wait for it). Asked before each batch of files."""
    from workbench.core.data.index import decode_workers
    from workbench.qt.startup import torch_importing

    return decode_workers(spare=2 if torch_importing() else 1)

