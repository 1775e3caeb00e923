"""What changed in a run's dataset since its split was recorded: :class:`SplitChange`,
made by :func:`~.split_record.resumed_split`, and the note a resume says of it.

Its counts of validation images compare like with like: the record's count of validation
files and today's both include the files that cannot be read (a listing, as ``workbench
evaluate`` and ``workbench train`` make, cannot tell them), and ``val_before``,
``val_now`` and ``kept_val`` all leave out the files today's index knows are unreadable
(the app's, which decoded the folder, counts the images it can read, as its Train tab
does). So a file that cannot be read, or that became unreadable or readable again, is no
change, whichever index made the record (the evaluation counts it unreadable, a run skips
it); a file added to or removed from validation is one, and so is another number of
validation files left out by ``data.exclude``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SplitChange:
    """How a resumed run's images differ from its record (counts of images)."""

    added_train: int = 0
    added_val: int = 0
    removed_train: int = 0
    removed_val: int = 0
    moved: int = 0  # moved to another class folder, kept on their side
    kept_val: int = 0  # validation images of the record still in validation
    val_before: int = 0  # the record's validation files, less those known unreadable now
    val_now: int = 0  # today's validation images (those known unreadable left out)
    folder_split: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added_train or self.added_val or self.removed_train or
                    self.removed_val or self.moved)

    @property
    def val_changed(self) -> bool:
        return bool(self.added_val or self.removed_val or self.val_now != self.val_before)

    def to_dict(self, epoch: int) -> dict[str, Any]:
        return {"epoch": epoch, "added_train": self.added_train, "added_val": self.added_val,
                "removed_train": self.removed_train, "removed_val": self.removed_val,
                "moved": self.moved, "val_images": self.val_now}

    def note(self, epochs_done: int) -> str:
        """What a person is told on resuming after epoch ``epochs_done``; "" if nothing
        changed."""
        if not self.changed:
            return ""
        parts = []
        added = self.added_train + self.added_val
        if added:
            parts.append(f"{images_text(added)} added "
                         f"{_sides(self.added_train, self.added_val, 'to')}")
        removed = self.removed_train + self.removed_val
        if removed:
            parts.append(f"{_count(removed)} removed "
                         f"{_sides(self.removed_train, self.removed_val, 'from')}")
        if self.moved:
            parts.append(f"{_count(self.moved)} moved to another class (each kept on its "
                         f"side of the split)")
        text = f"the dataset changed since epoch {epochs_done}: {', '.join(parts)}."
        first = epochs_done + 1
        if not self.val_changed:
            return f"{text} Validation is unchanged ({images_text(self.val_now)})"
        kept = ("Images trained on before stay in training, and validation keeps its "
                if not self.folder_split else "Validation (the folder's own part) keeps its ")
        return (f"{text} {kept}{_count(self.kept_val)} earlier "
                f"image{'s' * (self.kept_val != 1)}: from epoch {first} on it is measured on "
                f"{images_text(self.val_now)}, not {_count(self.val_before)}, so validation "
                f"scores before and after epoch {first} are not quite comparable")


def _count(n: int) -> str:
    return f"{n:,}"


def images_text(n: int) -> str:
    """``"1 image"``, ``"1,024 images"``."""
    return f"{n:,} image{'s' * (n != 1)}"


def _sides(train: int, val: int, word: str) -> str:
    if not val:
        return f"(all {word} training)" if train > 1 else f"({word} training)"
    if not train:
        return f"(all {word} validation)" if val > 1 else f"({word} validation)"
    return f"({_count(train)} {word} training, {_count(val)} {word} validation)"
