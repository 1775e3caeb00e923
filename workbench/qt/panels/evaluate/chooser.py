"""The Evaluate panel's model chooser: saved runs with a bundle, plus any bundle loaded.

The runs folder is listed off the GUI thread (:class:`~workbench.core.runs.store.RunStore`);
bundles chosen by hand or saved by a training run stay listed when it is listed again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QWidget

from workbench.qt.workers import TaskRunner, TaskState
from workbench.qt.panels.runs.model import bundle_choice_text, model_choice_text

_TOOLTIP = Qt.ItemDataRole.ToolTipRole


def ask_bundle(parent: QWidget, start: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Load a trained bundle", start,
                                          "Workbench bundles (*.pt);;All files (*)")
    return path


class ModelChooser(QWidget):
    """A combo box of bundles and a "Load bundle…" button.

    Parameters
    ----------
    runs_root
        The runs folder listed (default: the app's runs folder).

    Signals
    -------
    bundle_changed(path)
        Another bundle was chosen ("" when none is).
    runs_listed()
        The runs folder was listed into the combo box.
    """

    bundle_changed = Signal(str)
    runs_listed = Signal()

    def __init__(self, runs_root: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_root = runs_root
        # The file dialog, replaceable (tests answer it without a person).
        self.ask_bundle: Callable[[QWidget, str], str] = ask_bundle
        self._loaded: list[str] = []  # bundles set by hand or by training, kept on relisting
        self._shut_down = False
        self._lister = TaskRunner(self, supersede=True)
        self._lister.finished.connect(self._on_runs_listed)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(30)
        self.combo.setPlaceholderText("No saved model yet: train one, or Load bundle…")
        self.combo.currentIndexChanged.connect(self._on_chosen)
        self.load_button = QPushButton("Load bundle…")
        self.load_button.clicked.connect(self.choose_bundle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.load_button)

    def bundle_path(self) -> str:
        """The chosen bundle's path ("" when none)."""
        return self.combo.currentData() or ""

    def bundle_paths(self) -> list[str]:
        """Every bundle offered, in the combo box's order."""
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def set_bundle(self, path: str) -> None:
        """Choose the bundle at ``path`` (added when it is not listed yet)."""
        path = str(path)
        if path not in self._loaded:
            self._loaded.append(path)
        i = self._find(path)
        if i < 0:
            i = self._add(bundle_choice_text(path), path)
        else:  # a run continued since: its bundle (same path) is of a later epoch now
            self.combo.setItemText(i, bundle_choice_text(path))
        self.combo.setCurrentIndex(i)

    @Slot()
    def choose_bundle(self) -> None:
        from workbench.core.io import runs_dir

        current = self.bundle_path()
        path = self.ask_bundle(self, os.path.dirname(current) if current else str(runs_dir()))
        if path:
            self.set_bundle(path)

    @Slot()
    def refresh_runs(self) -> None:
        """List the saved runs that have a bundle (off the GUI thread)."""
        if self._shut_down:
            return
        from workbench.core.runs.store import RunStore

        store = RunStore(self.runs_root)

        def list_runs(state: TaskState) -> list[tuple[str, str]]:
            store.refresh()
            return [(model_choice_text(r), r.bundle_path) for r in store.runs()
                    if r.has_bundle]
        self._lister.submit(list_runs)

    def shutdown(self) -> None:
        self._shut_down = True
        self._lister.cancel_all()

    def _find(self, path: str) -> int:
        key = os.path.normcase(os.path.abspath(path))
        for i, p in enumerate(self.bundle_paths()):
            if os.path.normcase(os.path.abspath(p)) == key:
                return i
        return -1

    def _add(self, text: str, path: str) -> int:
        self.combo.addItem(text, path)
        i = self.combo.count() - 1
        self.combo.setItemData(i, path, _TOOLTIP)
        return i

    @Slot(int, object)
    def _on_runs_listed(self, _job: int, runs: list[tuple[str, str]]) -> None:
        current = self.bundle_path()
        self.combo.blockSignals(True)
        try:
            self.combo.clear()
            for text, path in runs:
                self._add(text, path)
            for path in self._loaded:
                if self._find(path) < 0:
                    self._add(bundle_choice_text(path), path)
            i = self._find(current) if current else -1
            self.combo.setCurrentIndex(i if i >= 0 else (0 if runs else -1))
        finally:
            self.combo.blockSignals(False)
        if self.bundle_path() != current:
            self._on_chosen()
        self.runs_listed.emit()

    def _on_chosen(self, *_: Any) -> None:
        self.bundle_changed.emit(self.bundle_path())

