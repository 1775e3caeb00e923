"""Keeping a run's validation set across resumes: :class:`SplitKeeper`.

A new run makes today's split (:func:`~workbench.core.data.split.split_for`) and records
it in its folder when its first epoch ends; a resumed run makes its split from that record
(:func:`~workbench.core.data.split_record.resumed_split`), so the images it validated on
stay in validation and those it trained on stay in training however the folder changed,
says what changed in a note, marks the first epoch measured on another validation set in
the history (``"val_changed"``) and records the new split. A run of an older Workbench,
which has no record, resumes with today's split and is recorded from then on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.data.split_record import (SPLIT_FILE, SplitChange, SplitRecord,
                                              SplitRecordError, read_split_record,
                                              record_of_split, resumed_split,
                                              write_split_record)
from workbench.core.errors import WorkbenchError
from workbench.core.train.callbacks.base import Callback


def checkpoint_run_dir(checkpoint: Any) -> Path | None:
    """The run folder a checkpoint was saved in (``RUN/checkpoints/last.pt``), or None."""
    path = Path(str(getattr(checkpoint, "path", "") or ""))
    return path.parent.parent if path.parent.name == "checkpoints" else None


class SplitKeeper(Callback):
    """The split of a run (``train``, ``val``: ``(path, label)`` lists), the ``note`` to
    show when the dataset changed since the checkpoint ("" otherwise), and the writer of
    the run folder's record. Made by :meth:`for_run`."""

    def __init__(self, index: Any, data: Any, train: list, val: list, *,
                 record: SplitRecord | None = None, change: SplitChange | None = None,
                 source: Path | None = None, note: str = ""):
        self.index, self.data = index, data
        self.train, self.val = train, val
        self.record = record  # the record to keep (None: make it from today's split)
        self.change = change  # what changed since the record (None: no record was read)
        self.source = source  # the folder the record was read from
        self.note = note
        self._done = False

    @classmethod
    def for_run(cls, index: Any, data: Any, checkpoint: Any = None) -> SplitKeeper:
        """The split of a new run (``checkpoint`` None) or of one resumed from
        ``checkpoint``, from its run folder's record when it has one."""
        from workbench.core.data.split import split_for

        source = checkpoint_run_dir(checkpoint) if checkpoint is not None else None
        note, record = "", None
        if source is not None:
            try:
                record = read_split_record(source)
            except SplitRecordError as e:
                note = (f"the run's record of its split, {source / SPLIT_FILE}, is damaged "
                        f"({e}): the split is made afresh, as for a new run, and recorded "
                        f"again; the validation images may not be those of the earlier "
                        f"epochs")
        if record is None:
            train, val = split_for(index, data)
            return cls(index, data, train, val, source=source, note=note)
        train, val, kept, change = resumed_split(index, data, record)
        return cls(index, data, train, val, record=kept, change=change, source=source,
                   note=change.note(int(checkpoint.epoch)))

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        if self._done:  # once, when the first epoch measured on this split has ended
            return
        self._done = True
        change = self.change
        if change is not None and change.changed and change.val_changed and trainer.history:
            # Where a plot, the doctor or a reader of metrics.json can see the set change.
            trainer.history[-1]["val_changed"] = {
                "added": change.added_val, "removed": change.removed_val,
                "images": change.val_now}
        run_dir = getattr(trainer, "run_dir", None)
        if run_dir is None:
            return  # no run folder (or not the process that writes it)
        run_dir = Path(run_dir)
        record = self.record
        if record is None:
            record = record_of_split(self.index, self.data)  # with its counts
        elif change.changed:
            record.changes.append(change.to_dict(epoch))
        elif self.source == run_dir and (run_dir / SPLIT_FILE).is_file() and \
                change.val_now == change.val_before:
            return  # the record there says it all
        try:
            write_split_record(run_dir, record)
        except OSError as e:
            from workbench.core.train.disk import describe_write_failure

            what, advice = describe_write_failure(e, run_dir)
            raise WorkbenchError(f"cannot write {run_dir / SPLIT_FILE}, the record of the "
                                 f"run's split: {what}; {advice}") from None
