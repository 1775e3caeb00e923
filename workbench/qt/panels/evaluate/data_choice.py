"""The Evaluate panel's data choice: the model's own dataset's test part, its validation
split, or every image of a folder.

"Its dataset's test part" is offered where the model's dataset has one (a ``test/`` folder
beside ``train/``), and is then the default; else "Its validation split" (the images the
run validated on, the Runs tab's "val" score) is. Where it cannot be told (an archive, a
CSV file, the demo dataset, a dataset not found) the first choice is "Its dataset's test
part (or validation split)": the test part when the evaluation finds one.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

#: The choices' keys (their item data): evaluate's split "auto" and "val", or a folder.
AUTO, VAL, FOLDER = "auto", "val", "folder"
TEST_TEXT = "Its dataset's test part"
AUTO_TEXT = "Its dataset's test part (or validation split)"
VAL_TEXT = "Its validation split"
FOLDER_TEXT = "All images of a folder…"
_TOOLTIP = Qt.ItemDataRole.ToolTipRole


def dataset_has_test_part(folder: str | None) -> bool | None:
    """Whether the dataset ``folder`` (a bundle's ``data.folder``) has a test part beside
    its training part; None when it cannot be told without scanning it."""
    from workbench.core.data.layouts import find_splits, unwrap
    from workbench.core.errors import DataError

    if not folder:
        return None
    folder = os.path.expanduser(folder)
    if not os.path.isdir(folder):
        return None
    try:
        splits = find_splits(unwrap(folder)[0])
    except (DataError, OSError):
        return None
    return bool(splits and splits.get("test"))


class DataChoice(QComboBox):
    """The combo box of what to evaluate on; :meth:`key` is the choice (:data:`AUTO`,
    :data:`VAL` or :data:`FOLDER`), :attr:`folder` the folder chosen."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.folder = ""
        self.has_test: bool | None = None
        self._chosen_by_user = False
        self.activated.connect(self._on_activated)
        self._fill(None)
        self._settle()
        self._undo = self._before

    def key(self) -> str:
        return self.currentData() or VAL

    @property
    def chosen_by_user(self) -> bool:
        """Whether the choice is the user's (else the default for the model's dataset)."""
        return self._chosen_by_user

    def described(self) -> str:
        """The choice as said in a sentence ("its validation split", "the folder F")."""
        key = self.key()
        if key == FOLDER:
            return f"the folder {self.folder}" if self.folder else "a folder not chosen yet"
        return "its validation split" if key == VAL else "its dataset's test part" + (
            "" if self.has_test else " (its validation split if it has none)")

    def choose(self, key: str) -> None:
        """Choose ``key`` (the user's choice from now on)."""
        self._chosen_by_user = True
        i = self.findData(key)
        self.setCurrentIndex(i if i >= 0 else self.findData(VAL))
        self._settle()

    def choose_default(self) -> None:
        """The test part where offered, else the validation split."""
        i = self.findData(AUTO)
        self.setCurrentIndex(i if i >= 0 else self.findData(VAL))
        self._settle()

    def undo_pick(self) -> None:
        """Back to the choice before the user's last pick in the list, and whose it was:
        the pick is no choice of theirs (its folder dialog was cancelled)."""
        key, self._chosen_by_user = self._undo
        i = self.findData(key)
        self.setCurrentIndex(i if i >= 0 else self.findData(VAL))
        self._settle()

    def set_folder(self, path: str) -> None:
        self.folder = str(path)
        i = self.findData(FOLDER)
        self.setItemText(i, f"Folder: {self.folder}")
        self.setItemData(i, self.folder, _TOOLTIP)
        self.choose(FOLDER)

    def set_has_test(self, has_test: bool | None) -> None:
        """The chosen model's dataset has a test part (True), has none (False), or it
        cannot be told (None): offer the choices that fit, keeping the one made."""
        if has_test is self.has_test and self.count():
            return
        key = self.key()
        self.blockSignals(True)
        try:
            self._fill(has_test)
            if self._chosen_by_user and self.findData(key) >= 0:
                self.setCurrentIndex(self.findData(key))
            else:
                self.choose_default()
        finally:
            self.blockSignals(False)
        self._settle()

    def _fill(self, has_test: bool | None) -> None:
        self.has_test = has_test
        self.clear()
        if has_test is not False:
            self.addItem(TEST_TEXT if has_test else AUTO_TEXT, AUTO)
            self.setItemData(0, "The images of the model's dataset in its test/ folder: "
                                "never trained on nor used to choose the model"
                             + ("" if has_test else "; its validation split when it has "
                                                    "no test part"), _TOOLTIP)
        self.addItem(VAL_TEXT, VAL)
        self.setItemData(self.count() - 1, "The images the run validated on (its "
                                           "\"val\" score on the Runs tab)", _TOOLTIP)
        self.addItem(f"Folder: {self.folder}" if self.folder else FOLDER_TEXT, FOLDER)
        if self.folder:
            self.setItemData(self.count() - 1, self.folder, _TOOLTIP)

    def _settle(self) -> None:
        """The choice as it is now, and whose: what the user's next pick replaces."""
        self._before = (self.key(), self._chosen_by_user)

    def _on_activated(self, _index: int) -> None:
        self._undo = self._before  # (the index is the pick's already)
        self._chosen_by_user = True
        self._settle()
