"""The Evaluate panel's evaluation, as the job its task runner runs off the GUI thread
(:func:`evaluation_job`): :func:`workbench.core.evaluate.evaluation.evaluate` with progress
and Cancel, its confusion matrix computed there too.
"""

from __future__ import annotations

import threading
from typing import Any, Callable


def evaluation_job(bundle: str, folder: str | None, split: str | None, top_k: int,
                   stop: threading.Event, current: Any, moved: tuple[str, str] | None = None
                   ) -> Callable[[Any], Any]:
    """The job evaluating ``bundle`` on ``folder`` (None: its own dataset) and ``split``;
    ``current``: the app's experiment's data section (its exclusions since training);
    ``moved``: ``(was, root)`` when ``folder`` is the Data tab's dataset in place of the
    model's own folder ``was``, gone (:mod:`.moved_data`), said in a first note."""
    def job(state: Any) -> Any:
        from workbench.core.evaluate.evaluation import evaluate
        from workbench.qt.panels.evaluate.moved_data import moved_note

        def progress(done: int, total: int) -> None:
            state.set_progress(done, total)
            if state.is_cancelled():
                stop.set()
        result = evaluate(bundle, folder, split=split, top_k=top_k, progress=progress,
                          stop_event=stop, current=current)
        if moved:
            result.notes.insert(0, moved_note(*moved, result.split))
        result.confusion  # noqa: B018  (computed here, not on the GUI thread)
        return result
    return job
