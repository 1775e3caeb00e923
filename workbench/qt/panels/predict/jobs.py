"""The Predict panel's work off the GUI thread, what a paste brings in, and what the panel
says of its model and of the work done (the rows' and the status line's texts).

:func:`classify_in_batches` runs in a pool thread: it classifies a list of paths a batch at
a time, hands each batch's plain results (class names and floats) to a callback, and stops
between batches when the job is cancelled. Torch is imported only inside it, once
:mod:`workbench.qt.startup` has loaded it.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImage

from workbench.qt.workers import TaskState
from workbench.qt.panels.predict.model import DONE, FAILED, WAITING

#: Images per batch: big enough for the network to run efficiently, small enough that the
#: rows fill in (and a cancel takes effect) within a fraction of a second.
BATCH = 64
_paste_counter = itertools.count(1)


class PredictorCache:
    """One :class:`~workbench.core.predict.Predictor` at a time, shared by the jobs.

    It is kept by the bundle's path and file stamp (:func:`~workbench.core.io.file_stamp`):
    a bundle saved again at the same path (a run continued in the app, or ``workbench
    resume``) is loaded again, so its images are classified by the new weights.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._predictors: dict[tuple, Any] = {}

    def get(self, bundle: str) -> Any:
        from workbench.core.io import file_stamp
        from workbench.core.predict import Predictor

        key = (bundle, file_stamp(bundle))  # stamped before loading: never newer than it
        with self._lock:
            if key not in self._predictors:
                self._predictors.clear()  # one model in memory at a time
                self._predictors[key] = Predictor(bundle)
            return self._predictors[key]


def classify_in_batches(cache: PredictorCache, bundle: str, paths: list[str], top_k: int,
                        state: TaskState,
                        on_batch: Callable[[int, list[tuple[list, str | None]]], None],
                        batch: int = BATCH) -> int:
    """Classify ``paths`` ``batch`` at a time; returns how many were done.

    ``on_batch(start, results)`` gets, for ``paths[start:start + len(results)]``, one
    ``(top, error)`` pair each. Stops before the next batch once ``state`` is cancelled.
    """
    predictor = cache.get(bundle)
    done = 0
    for start in range(0, len(paths), batch):
        if state.is_cancelled():
            break
        chunk = paths[start:start + batch]
        predictions = predictor.predict(chunk, top_k=top_k, batch_size=batch)
        on_batch(start, [([(str(c), float(p)) for c, p in pr.top], pr.error)
                         for pr in predictions])
        done += len(chunk)
        state.set_progress(done, len(paths))
    return done


# -- paste -----------------------------------------------------------------------------------
def pasted_paths(mime: QMimeData | None) -> list[str]:
    """The files a clipboard's contents stand for.

    Local file URLs (files copied in a file manager) or lines of text that name existing
    files or folders are used as they are; image data (a screenshot, "Copy image" in a
    browser) is saved as a PNG under the Workbench cache folder and that file is used.
    """
    if mime is None:
        return []
    if mime.hasUrls():
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
        if paths:
            return paths
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return [save_pasted_image(image)]
    if mime.hasText():
        lines = [ln.strip().strip('"') for ln in mime.text().splitlines()]
        paths = [os.path.expanduser(ln) for ln in lines if ln]
        if paths and all(os.path.exists(p) for p in paths):
            return paths
    return []


def save_pasted_image(image: QImage) -> str:
    """Write ``image`` as a new PNG in ``<cache>/pasted``; returns its path."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.io import cache_home

    folder = Path(cache_home()) / "pasted"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbenchError(f"cannot create {folder} for the pasted image ({e}): check that "
                             f"the folder is writable") from e
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"pasted-{stamp}-{os.getpid()}-{next(_paste_counter)}.png"
    if not image.save(str(path), "PNG"):
        raise WorkbenchError(f"cannot write the pasted image to {path}: check that the folder "
                             f"is writable and the disk is not full")
    return str(path)


def images(n: int) -> str:
    """``"1 image"``, ``"3 images"``: the panel's counts in its messages."""
    return f"{n} image{'' if n == 1 else 's'}"


def cancelled_text(n: int) -> str:
    """The status line after Cancel left ``n`` images not classified."""
    return f"Cancelled: {images(n)} {'was' if n == 1 else 'were'} not classified."


#: The model line while no model is in use, and the rows' text meanwhile.
NO_MODEL_TEXT = ("No model yet: train one on the Train tab, choose a saved run, or load a "
                 "bundle file.")
NO_MODEL_ROW = ("Waiting for a model: choose a saved run, train one on the Train tab, or use "
                "Load bundle…")
#: The same while the panel may still choose one itself (the dataset not scanned yet).
CHOOSING_TEXT = ("Choosing a model: the newest saved run trained on the dataset's classes, "
                 "once the dataset is scanned…")
CHOOSING_ROW = "Choosing a model…"
#: The rows' text while the model in use is gone (its file moved or deleted).
GONE_ROW = "Waiting for a model: the model was moved or deleted; choose another above."


def model_gone(bundle_path: str) -> bool:
    """Whether ``bundle_path`` (a model in use) is no longer there (moved or deleted)."""
    return bool(bundle_path) and not os.path.exists(bundle_path)


def model_error(bundle_path: str, message: str) -> tuple[str, str]:
    """What the panel says when its model cannot be used: (above the images, in each row).
    A model file that is gone is named once, with what to do next."""
    if model_gone(bundle_path):
        return (f"The model {bundle_path} was moved or deleted: choose another model in the "
                f"list or Load bundle…", GONE_ROW)
    return f"Cannot use the model {bundle_path}: {message}", message


def finished_text(items: list[Any], note: str, bundle_path: str) -> tuple[str, str]:
    """The status line (text, level) once nothing is left to classify: "330 classified, 4
    could not be read" (``items``: the panel's rows), then ``note``. Rows the model failed
    (:attr:`~.model.PredictionItem.classified_with` None) are counted apart from the
    images that could not be read, as are rows waiting for a model."""
    done = sum(1 for i in items if i.status == DONE)
    unread = sum(1 for i in items if i.status == FAILED and i.classified_with is not None)
    unused = sum(1 for i in items if i.status == FAILED and i.classified_with is None)
    gone = model_gone(bundle_path)
    waiting = sum(1 for i in items if i.status == WAITING) if gone else 0
    why = ("the model is gone (choose another above)" if gone else
           "the model could not be used (see above)")
    parts = [f"{done} classified"]
    parts += [f"{unread} could not be read"] if unread else []
    parts += [f"{unused + waiting} not classified: {why}"] if unused + waiting else []
    text = ", ".join(parts) + (f"; {note}" if note else "")
    return text, "warning" if len(parts) > 1 else "ok"
