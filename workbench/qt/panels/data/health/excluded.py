"""The images the experiment leaves out (``data.exclude``), listed with the means to bring
them back: the Health view's right-hand column."""

from __future__ import annotations

import os
from typing import Any, Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWidget)

from workbench.core.data.health import saved
from workbench.qt.colours import muted_rows_brush

#: The mark after an entry that names no image of the dataset.
NO_IMAGE = "\n    (matches no image)"  # a line of its own: the column is narrow


def edited(exclude: list[str], entries: list[str], excluded: bool) -> list[str]:
    """``exclude`` (``data.exclude``) with ``entries`` (relative paths) added, or taken out
    however they are written there (``a\\b.png``, ``a/b.png/``)."""
    current, known, named = list(exclude), set(exclude), set(entries)  # 500 rows at once
    if excluded:
        return current + [e for e in dict.fromkeys(entries) if e not in known]
    return [e for e in current if _norm(e) not in named]


def set_excluded(experiment: Any, index: Any, paths: list[str], excluded: bool = True
                 ) -> tuple[list[str], bool]:
    """Exclude ``paths`` (images of ``index``) from training, or include them again,
    through ``experiment.data.exclude`` (the Experiment announces it to every view): the
    Health view's and the thumbnail grid's way. Returns the entries (paths relative to
    the dataset folder) and whether the list changed."""
    from workbench.core.data.split import relative_path

    rels = [relative_path(index, p) for p in paths]
    old = list(experiment.data.exclude)
    new = edited(old, rels, excluded)
    changed = new != old
    if changed:
        # Before the views hear it: the folder's kept check does not go out of date for
        # them, after a restart too (as this session's view shows it).
        saved.keep_excluded_since(index.root, [e for e in new if e not in old])
        experiment.data.exclude = new
    return rels, changed


def excluded_text(entries: Iterable[str], excluded: bool, test: Iterable[str] = ()) -> str:
    """What the views say after :func:`set_excluded`, each image counted once however
    often it is named: ``entries`` are left out of training (or brought back), ``test``
    (images of the test part) out of evaluation on the test part ("Excluded 2 images from
    training and test/cats/a.png from evaluation on the test part")."""
    parts = [(_named(names), use) for names, use in
             ((entries, "training"), (test, "evaluation on the test part"))]
    parts = [(what, use) for what, use in parts if what[1]]
    if not parts:
        return ""
    if excluded:
        return "Excluded " + " and ".join(f"{what} from {use}" for (what, _), use in parts) \
            + "."
    (what, n), use = parts[0]
    return f"{what} {'is' if n == 1 else 'are'} included in {use} again" + "".join(
        f", and {what} in {use}" for (what, _), use in parts[1:]) + "."


def included_text(index: Any, old: list[str], new: list[str]) -> str:
    """What the views say after ``data.exclude`` went from ``old`` to ``new`` by taking
    entries out: the images of ``index`` (None: none known, each entry an image of
    training) that are back, as :func:`excluded_text` says them, and the entries taken out
    that matched no image."""
    from workbench.core.data.split import relative_path
    from workbench.core.data.usage import excluded_images, unmatched_excludes

    gone = [e for e in old if e not in new]
    if index is None:
        return excluded_text(gone, False)
    back = sorted(excluded_images(index, old) - excluded_images(index, new))
    test = {p for p, _ in getattr(index, "test_samples", None) or []}
    text = excluded_text([relative_path(index, p) for p in back if p not in test], False,
                         [relative_path(index, p) for p in back if p in test])
    none = len(unmatched_excludes(index, gone))
    if none:
        text += (f"{' ' if text else ''}Removed {none} entr{'y' if none == 1 else 'ies'} "
                 f"that matched no image from data.exclude.")
    return text


def _named(entries: Iterable[str]) -> tuple[str, int]:
    """``entries`` as the views name them (the image, or "N images") and how many."""
    entries = list(dict.fromkeys(_norm(e) for e in entries))
    return (entries[0] if len(entries) == 1 else f"{len(entries)} images"), len(entries)


def _norm(entry: str) -> str:
    entry = entry.replace("\\", "/")
    return entry if os.path.isabs(entry) else entry.strip("/")


class ExcludedList(QGroupBox):
    """``data.exclude`` as a list (paths relative to the dataset folder).

    Signals
    -------
    include_requested(entries)
        "Include again" (the selected entries) was pressed.
    include_all_requested(entries)
        "Include all" (every entry) was pressed: the view asks first when there are more
        than a few.
    """

    include_requested = Signal(list)
    include_all_requested = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Excluded images (0)", parent)
        self.setToolTip("Images the experiment leaves out of training, validation, "
                        "evaluation and tuning (saved with it as data.exclude)")
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.include_button = QPushButton("Include again")
        self.include_button.setToolTip("Bring the selected images back into training")
        self.include_button.clicked.connect(self._on_include_clicked)
        self.include_all_button = QPushButton("Include all")
        self.include_all_button.setToolTip("Bring every excluded image back into training "
                                           "and evaluation (asks first when there are "
                                           "more than a few)")
        self.include_all_button.clicked.connect(
            lambda: self.include_all_requested.emit(self.entries()))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.list, 1)
        self.note = QLabel("")  # how many images, when some entries match none
        self.note.setWordWrap(True)
        self.note.hide()
        lay.addWidget(self.note)
        row = QHBoxLayout()
        row.addWidget(self.include_button)
        row.addWidget(self.include_all_button)
        lay.addLayout(row)
        self._update_buttons()

    def set_entries(self, entries: list[str], unmatched: Iterable[str] = (),
                    images: int | None = None) -> None:
        """Show ``entries`` (``data.exclude``), keeping the selection where it can.

        ``unmatched``: the entries that name no image of the dataset (marked, and not
        counted); ``images``: how many images the entries exclude (None: no dataset is
        known, each entry counts)."""
        selected = set(self.selected_entries())
        unmatched = set(unmatched)
        self.list.clear()
        grey = muted_rows_brush(self.list)
        for e in entries:
            item = QListWidgetItem(e + (NO_IMAGE if e in unmatched else ""))
            item.setData(Qt.ItemDataRole.UserRole, e)
            if e in unmatched:
                item.setForeground(grey)
                item.setToolTip("This entry names no image of the dataset, so it excludes "
                                "nothing (a typo, or a file renamed or moved since)")
            self.list.addItem(item)
            item.setSelected(e in selected)
        n = len(entries) if images is None else images
        self.setTitle(f"Excluded images ({n})")  # of training, or test/ of evaluation
        none = sum(e in unmatched for e in entries)
        self.note.setText(f"{n} image{'s' if n != 1 else ''} ({none} "
                          f"entr{'y matches' if none == 1 else 'ies match'} none)"
                          if none else "")
        self.note.setVisible(bool(none))
        self._update_buttons()

    def entries(self) -> list[str]:
        """The ``data.exclude`` entries listed (without the marks)."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.list.count())]

    def selected_entries(self) -> list[str]:
        return [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]

    @Slot()
    def _on_include_clicked(self) -> None:
        chosen = self.selected_entries()
        if chosen:
            self.include_requested.emit(chosen)

    def _update_buttons(self) -> None:
        self.include_button.setEnabled(bool(self.list.selectedItems()))
        self.include_all_button.setEnabled(self.list.count() > 0)
