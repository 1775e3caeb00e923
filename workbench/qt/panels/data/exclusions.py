"""What the Data panel says about ``data.exclude`` when it does not fit the dataset shown.

Exclusions name images by their path relative to the dataset folder, and one experiment
has one dataset: exclusions made for a folder must not quietly drop the images of another
folder that happen to share a relative name. So when the user opens a *different* dataset
folder, :class:`ExclusionNotice` clears them and says how many and for which folder they
were made, with *Keep them* for a folder that is the same dataset moved. When the folder
they were made for is gone (moved, renamed: the window says it is missing), the folder
opened is taken for it and they are kept, said too, with *Clear them*. An experiment
opened with its own folder keeps its list, and so does opening the same folder again.
The exclusions cleared are kept for their folder
(:func:`workbench.core.data.health.saved.save_exclusions`): opening it again puts them
back, said, with *Clear them*.

It also names the entries that match no image of the dataset (they exclude nothing: a
typo, a file renamed since, or an entry kept for another folder), as ``workbench train``
and ``check`` do, with *Remove them*.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.common import MessageLabel
from workbench.qt.evented import subscribe
from workbench.qt.panels.data.advice import same_folder

#: How many unmatched entries the line names before "and N more".
SHOWN = 3


def cleared_text(n: int, old_folder: str, named: int | None = None) -> str:
    """The line saying that ``n`` exclusions made for ``old_folder`` were cleared;
    ``named``: how many of them named an image of that folder (None: not known)."""
    what = f"{n} exclusion{'s' if n != 1 else ''}"
    old = old_folder or "the built-in demo dataset"
    if named is None:
        why = "they were made for that folder, not for this one"
        why = "it was made for that folder, not for this one" if n == 1 else why
    elif named >= n:
        why = (f"{'it named an image' if n == 1 else 'they named images'} of that folder, "
               f"not of this one")
    elif named == 0:
        why = (f"{'it named no image' if n == 1 else 'none of them named an image'} of "
               f"that folder either")
    else:
        why = (f"{named} of them named images of that folder, not of this one "
               f"({n - named} named no image at all)")
    them = 'it' if n == 1 else 'them'
    back = f" Opening that folder again brings {them} back." if old_folder else ""
    return (f"Cleared {what} made for the previous dataset, {old}: {why}. If this folder "
            f"is the same dataset (moved or copied), keep {them}.{back}")


def restored_text(n: int) -> str:
    """The line saying that the ``n`` exclusions made for this folder, cleared when
    another folder was opened, were put back."""
    what = f"{n} exclusion{'s' if n != 1 else ''}"
    return (f"Restored the {what} made for this folder, cleared when another folder was "
            f"opened.")


def kept_text(n: int, old_folder: str) -> str:
    """The line saying that ``n`` exclusions made for the missing ``old_folder`` were kept."""
    what = f"{n} exclusion{'s' if n != 1 else ''}"
    return (f"Kept the {what} made for {old_folder}, which is missing: this folder is taken "
            f"for that dataset, moved. If it is another dataset, clear "
            f"{'it' if n == 1 else 'them'}.")


def unmatched_text(entries: list[str]) -> str:
    """The line naming the ``data.exclude`` entries that match no image."""
    n = len(entries)
    shown = ", ".join(repr(e) for e in entries[:SHOWN])
    if n > SHOWN:
        shown += f" and {n - SHOWN} more"
    return (f"{n} data.exclude entr{'y matches' if n == 1 else 'ies match'} no image of "
            f"this dataset, so {'it excludes' if n == 1 else 'they exclude'} nothing: "
            f"{shown}.")


def _named(index: Any, folder: str, exclude: list[str]) -> int | None:
    """How many ``exclude`` entries name an image of ``index``, the scan of ``folder``
    (None: ``index`` is not of that folder)."""
    if index is None or not folder or not same_folder(str(index.root), folder):
        return None
    from workbench.core.data.usage import unmatched_excludes

    return len(exclude) - len(unmatched_excludes(index, exclude))


class ExclusionNotice(QWidget):
    """Two lines under the Data panel's message, each with its button; hidden while empty.

    Signals
    -------
    experiment_changed()
        It changed ``experiment.data.exclude`` (cleared it, kept the cleared entries after
        all, or removed entries that match nothing); the Experiment announced it too.
    """

    experiment_changed = Signal()

    def __init__(self, current: CurrentExperiment, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = current
        self.index: Any = None  # the dataset shown
        self.dropped: list[str] = []  # the entries cleared (Keep them puts them back)
        self.kept: list[str] = []  # the entries kept for a missing folder (Clear them)
        self._pending: tuple[str, str] | None = None  # (folder before, folder scanned)
        self.cleared = MessageLabel("")
        self.keep_button = QPushButton("Keep them")
        self.keep_button.clicked.connect(self._on_keep_clicked)
        self.unmatched = MessageLabel("")
        self.remove_button = QPushButton("Remove them")
        self.remove_button.setToolTip("Take the entries that match no image out of "
                                      "data.exclude")
        self.remove_button.clicked.connect(self.remove_unmatched)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._rows = []
        for label, button in ((self.cleared, self.keep_button),
                              (self.unmatched, self.remove_button)):
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(label, 1)
            lay.addWidget(button)
            layout.addWidget(row)
            self._rows.append(row)
        self._show_cleared(None)
        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)
        self._update_unmatched()

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- opening another dataset -----------------------------------------------------------
    def expect(self, folder: str, current_folder: str) -> None:
        """A scan of ``folder`` starts; ``current_folder`` is ``experiment.data.folder``
        before it. Another folder's listing will clear the exclusions
        (:meth:`dataset_opened`); the same folder's keeps them."""
        self._pending = None if same_folder(folder, current_folder) else \
            (current_folder, folder)

    def cancel(self) -> None:
        """The scan failed: the experiment keeps its folder and its exclusions."""
        self._pending = None

    def dataset_opened(self, folder: str, index: Any) -> bool:
        """The listing of ``folder`` is shown (``index``) and becomes the experiment's
        dataset: when it is another folder than the experiment's before, its exclusions
        are cleared, and said. Returns whether ``data.exclude`` changed."""
        from workbench.core.data.health import saved

        pending, self._pending = self._pending, None
        before, self.index = self.index, index
        changed = False
        if pending is not None and pending[1] == folder:
            exclude, old = list(self.experiment.data.exclude), pending[0]
            self.dropped, self.kept = [], []
            text = None
            if exclude and old and not os.path.exists(old):  # where the dataset went
                self.kept = exclude
                text = kept_text(len(exclude), old)
            elif exclude:
                self.dropped = exclude
                if old:  # given back when that folder is opened again
                    saved.save_exclusions(old, exclude)
                text = cleared_text(len(exclude), old, _named(before, old, exclude))
                self.experiment.data.exclude = []
                changed = True
            # The exclusions cleared when this folder was left for another come back.
            back = [e for e in saved.take_exclusions(folder)
                    if e not in self.experiment.data.exclude]
            if back:
                self.experiment.data.exclude = list(self.experiment.data.exclude) + back
                if not self.dropped:  # "Clear them" takes them out again
                    self.kept = self.kept + back
                text = " ".join(filter(None, (text, restored_text(len(back)))))
                changed = True
            self._show_cleared(text)
            if changed:
                self.experiment_changed.emit()
        self._update_unmatched()
        return changed

    def set_index(self, index: Any) -> None:
        """The dataset shown changed (its images checked, or none)."""
        self.index = index
        self._update_unmatched()

    @Slot()
    def _on_keep_clicked(self) -> None:
        if self.kept:
            self.clear_kept()
        else:
            self.keep()

    def clear_kept(self) -> None:
        """Clear the exclusions kept for a missing folder (this is another dataset)."""
        gone = set(self.kept)
        self.kept = []
        self._show_cleared(None)
        current = list(self.experiment.data.exclude)
        if gone & set(current):
            self.experiment.data.exclude = [e for e in current if e not in gone]
            self.experiment_changed.emit()

    @Slot()
    def keep(self) -> None:
        """Put the cleared exclusions back (this folder is the same dataset)."""
        current = list(self.experiment.data.exclude)
        back = current + [e for e in self.dropped if e not in current]
        self.dropped = []
        self._show_cleared(None)
        if back != current:
            self.experiment.data.exclude = back
            self.experiment_changed.emit()

    @Slot()
    def remove_unmatched(self) -> None:
        """Take the entries that match no image out of ``data.exclude``."""
        gone = set(self.unmatched_entries())
        if gone:
            self.experiment.data.exclude = [e for e in self.experiment.data.exclude
                                            if e not in gone]
            self.experiment_changed.emit()

    def unmatched_entries(self) -> list[str]:
        """The ``data.exclude`` entries that name no image of the dataset shown."""
        if self.index is None or not self.experiment.data.exclude:
            return []
        from workbench.core.data.usage import unmatched_excludes

        return unmatched_excludes(self.index, list(self.experiment.data.exclude))

    # -- the experiment's news -------------------------------------------------------------
    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        # Another experiment, with its own folder and exclusions: nothing was cleared.
        self._pending = None
        self.dropped, self.kept = [], []
        self._show_cleared(None)
        self._update_unmatched()

    def _on_experiment_changed(self, section: str, field: str | None) -> None:
        if section == "data" and field in ("exclude", None):
            self._update_unmatched()

    # -- showing ---------------------------------------------------------------------------
    def _show_cleared(self, text: str | None) -> None:
        self.cleared.show_message(text or "", "warning")
        entries = self.kept or self.dropped
        verb = "Clear" if self.kept else "Keep"
        self.keep_button.setText(f"{verb} {'it' if len(entries) == 1 else 'them'}")
        self.keep_button.setToolTip(
            "Take these exclusions out of the experiment" if self.kept else
            "Put the cleared exclusions back into this experiment")
        self._rows[0].setVisible(bool(text))
        self._update_visible()

    def _update_unmatched(self) -> None:
        entries = self.unmatched_entries()
        self.unmatched.show_message(unmatched_text(entries) if entries else "", "warning")
        self.remove_button.setText("Remove it" if len(entries) == 1 else "Remove them")
        self._rows[1].setVisible(bool(entries))
        self._update_visible()

    def _update_visible(self) -> None:
        self.setVisible(bool(self.cleared.text()) or bool(self.unmatched.text()))
