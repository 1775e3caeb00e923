"""The Predict panel's model chooser: saved runs that have a bundle, plus any bundle file."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QWidget

from workbench.qt.workers import describe_exception
from workbench.qt.panels.runs.model import bundle_choice_text, model_choice_text

OTHER_BUNDLE = "Other bundle file…"


class RunChooser(QComboBox):
    """A combo of the saved runs with a bundle (by name), then "Other bundle file…".

    Signals
    -------
    bundle_chosen(path)
        The user picked a run (or a bundle file listed earlier).
    other_requested()
        The user picked "Other bundle file…": the owner opens its file dialog.
    """

    bundle_chosen = Signal(str)
    other_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.setToolTip("Saved runs that have a trained bundle")
        self.current_path = ""
        self.activated.connect(self._on_activated)

    def refresh(self) -> str:
        """List the runs again; returns why they could not be listed ("" when they were)."""
        from workbench.core.runs.store import RunStore

        problem = ""
        try:
            store = RunStore()
            store.refresh()
            runs = [r for r in store.runs() if r.has_bundle]
        except Exception as e:  # noqa: BLE001  (a damaged runs folder must not break the tab)
            runs, problem = [], f"Cannot list the saved runs: {describe_exception(e)}"
        self.blockSignals(True)
        self.clear()
        self.addItem("(choose a saved run)", "")
        for rec in runs:
            self.addItem(model_choice_text(rec), rec.bundle_path)
            self.setItemData(self.count() - 1, rec.bundle_path, Qt.ItemDataRole.ToolTipRole)
        self.addItem(OTHER_BUNDLE, None)
        self.blockSignals(False)
        self.select(self.current_path)
        return problem

    def select(self, path: str) -> None:
        """Show ``path`` as the current model (a file outside the runs is listed as itself)."""
        self.current_path = path
        index = self.findData(path) if path else 0
        if index < 0:
            self.insertItem(self.count() - 1, bundle_choice_text(path), path)
            self.setItemData(self.count() - 2, path, Qt.ItemDataRole.ToolTipRole)
            index = self.count() - 2
        elif path:  # a run continued since: its bundle (same path) is of a later epoch now
            self.setItemText(index, bundle_choice_text(path))
        self.blockSignals(True)
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        path = self.itemData(index)
        if path is None:
            self.other_requested.emit()
            self.select(self.current_path)  # the dialog may be cancelled: show what is used
        elif path and path != self.current_path:
            self.bundle_chosen.emit(path)
