"""The experiment's dataset folder is missing: saying so, and what choosing a folder then
means.

At start-up (or opening an experiment) whose dataset folder is gone (moved, renamed, on a
drive that is not connected), or when the Data tab finds it gone while the app is open
(:meth:`MissingDataset.arm`), the window says so on the Data tab and keeps the experiment
as it was. The folder the user then opens, however (File → Open dataset folder…, the Data
tab's own buttons, a drop), is where the data went, not a new dataset: the experiment's
input size, channels and augmentation stay as they were, rather than the new folder's
defaults being adopted (:meth:`~workbench.qt.panels.data.panel.DataPanel.load_folder`
adopts them for a folder other than the experiment's). :class:`MissingDataset` holds the
missing folder until a folder is listed, and then tells the Data tab's advice to adopt
nothing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from workbench.qt.evented import subscribe
from workbench.qt.panels.data.health.findings import same_path


class MissingDataset(QObject):
    """The missing dataset folder of ``window`` (a
    :class:`~workbench.qt.main_window.MainWindow`), while its message stands.

    Attributes
    ----------
    folder
        The missing folder (``""``: none is missing, or a folder has replaced it).
    """

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.folder = ""
        self._replaced = ""  # what to say once the folder that replaced it is loaded
        subscribe(self, window.current.dataset_changed, self._on_dataset_loaded)
        # Another experiment (opened, new, reset) has a dataset of its own.
        subscribe(self, window.current.replaced, lambda _experiment: self.clear())

    def show(self, folder: str, source: str) -> None:
        """Say, on the Data tab and in the status bar, that ``folder`` (the dataset of
        ``source``) is gone; the experiment keeps it, and everything else, as it was."""
        window = self.window
        window.tabs.setCurrentWidget(window.data_panel)
        window.data_panel.message.show_message(
            f"The dataset folder of {source}, {folder}, is missing (moved, renamed, or on a "
            f"drive that is not connected). Choose it again with File → Open dataset "
            f"folder… (or connect the drive and press Rescan). The network, optimizer, "
            f"augmentation and other settings are kept as they were.", "error")
        window.statusBar().showMessage(f"Dataset folder missing: {folder}")
        self.folder = folder

    def arm(self, folder: str) -> None:
        """``folder`` went missing while the app was open (the Data tab says so itself): the
        folder opened next replaces it, as at start-up; the folder back in its place is
        just itself again."""
        self.folder = folder

    def clear(self) -> None:
        self.folder = self._replaced = ""

    def on_listed(self, index: Any) -> None:
        """The Data tab listed a folder (``index``): while the message stands, that folder
        replaces the missing one, and the experiment's settings stay as they were."""
        if not self.folder:
            return
        missing, self.folder = self.folder, ""
        if same_path(getattr(index, "root", "") or "", missing):
            return  # back where it was (the drive connected again)
        self.window.data_panel.advice.cancel()  # before the header summary would adopt
        root = getattr(index, "root", "") or self.window.experiment.data.folder
        self._replaced = (f"Dataset {root} replaces the missing {missing}: the input size, "
                          f"augmentation and other settings are kept as they were.")
        self.window.statusBar().showMessage(self._replaced, 15000)

    def _on_dataset_loaded(self, index: Any) -> None:
        # After the window's own "Dataset …: N classes" line, which would hide it.
        if self._replaced and index is not None:
            self.window.statusBar().showMessage(self._replaced, 15000)
        self._replaced = ""
