"""Images dropped (pasted, opened) on the Predict panel that are already listed.

A user who drops a folder again expects its rows refreshed, not listed twice (a CSV export
then held every image twice). So a path gets one row: dropped again, it is classified again
only when its result may have changed (another model, or the model file or the image file
changed since), or when it has no result (cancelled, waiting for a model, or the model
could not be used); otherwise its row stays as it is and the panel says how many were
already listed. A row still being classified is left to that work ("already being
classified"), and while the model file is gone (moved or deleted) every row with a result
keeps it: nothing could classify it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from workbench.core.io import file_stamp as _stamp
from workbench.qt.panels.predict.jobs import images, model_gone
from workbench.qt.panels.predict.model import DONE, FAILED, QUEUED, PredictionItem


def signature(bundle_path: str, image_path: str, bundle_stamp: tuple | None = None) -> tuple:
    """What a result depends on: the model file (path and stamp) and the image file (its
    stamp: :func:`~workbench.core.io.file_stamp`, as the panel's model cache keys it).
    ``bundle_stamp`` saves one stat per image of a large drop."""
    return (bundle_path, bundle_stamp if bundle_stamp is not None else _stamp(bundle_path),
            _stamp(image_path))


def mark_asked(items: Iterable[PredictionItem], bundle_path: str) -> None:
    """Record on each item what its result is being asked with (:func:`signature`)."""
    stamp = _stamp(bundle_path)
    for item in items:
        item.classified_with = signature(bundle_path, item.path, stamp)


@dataclass
class Dropped:
    """A request's paths sorted against the rows listed."""

    new: list[str] = field(default_factory=list)                # not listed: add rows
    again: list[PredictionItem] = field(default_factory=list)   # listed: classify again
    kept: list[PredictionItem] = field(default_factory=list)    # listed, result still good
    pending: list[PredictionItem] = field(default_factory=list)  # listed, being classified
    model_gone: bool = False  # the model file is gone: ``kept`` holds every result

    def note(self) -> str:
        """What became of the rows with a result: "8 already listed (same model, unchanged
        files): not classified again" (or, the model gone, "8 already listed keep their
        results"); "" when there are none."""
        n = len(self.kept)
        if not n:
            return ""
        if self.model_gone:
            return f"{n} already listed keep{'s its result' if n == 1 else ' their results'}"
        return (f"{n} already listed (same model, unchanged file{'' if n == 1 else 's'}): "
                f"not classified again")

    def busy_note(self) -> str:
        """"60 already being classified" (rows dropped again before their result came);
        "" when there are none. Said while they are classified, not after."""
        return f"{len(self.pending)} already being classified" if self.pending else ""

    def nothing_text(self) -> str:
        """The status line when the request adds and classifies nothing."""
        n = len(self.kept) + len(self.pending)
        if not self.pending and not self.model_gone:
            return (f"All {images(n)} already listed (same model, unchanged files): nothing "
                    f"to classify again.")
        if not self.kept:
            return f"All {images(n)} are being classified already."
        parts = "; ".join(p for p in (self.busy_note(), self.note()) if p)
        gone = " (the model is gone: choose another above)" if self.model_gone else ""
        return f"All {images(n)} already listed: {parts}{gone}."


def sort_dropped(model: Any, paths: Iterable[str], bundle_path: str) -> Dropped:
    """Sort ``paths`` (duplicates among them count once) into new paths, listed rows to
    classify again, listed rows whose result still holds and listed rows being classified
    (see the module's docstring)."""
    stamp = _stamp(bundle_path) if bundle_path else None
    out = Dropped(model_gone=model_gone(bundle_path))
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            continue
        seen.add(path)
        item = model.find(path)
        if item is None:
            out.new.append(path)
        elif item.status == QUEUED:
            out.pending.append(item)  # being classified now
        elif item.status in (DONE, FAILED) and item.classified_with is not None and (
                out.model_gone or item.classified_with == signature(bundle_path, path, stamp)):
            out.kept.append(item)  # its result still holds, or nothing could replace it
        else:
            out.again.append(item)
    return out


__all__ = ["Dropped", "mark_asked", "signature", "sort_dropped"]
