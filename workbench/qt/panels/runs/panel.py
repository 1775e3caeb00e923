"""Runs panel: the history of training runs, their curves side by side, and their upkeep.

The table lists the run folders of :class:`~workbench.core.runs.store.RunStore` (the runs folder
and its SQLite index). Selecting rows overlays their curves (``overlay_requested``, which
the main window sends to the Train tab's plots); the buttons rename, annotate, delete and
export runs, and open a run's bundle on the Predict tab. One selected run's training doctor
findings are listed under the table (:mod:`workbench.qt.panels.train.findings`).

The dialogs this panel opens are attributes (``confirm``, ``ask_notes``, ``ask_save_path``)
so a test, or another front end, can answer them without a person.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import (QItemSelection, QItemSelectionModel, QSortFilterProxyModel, Qt,
                            QTimer, Signal, Slot)
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLineEdit, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.runs.store import RunRecord, RunStore

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, run_standalone, show_error
from workbench.qt.keyboard import tab_leaves
from workbench.qt.workers import TaskRunner, TaskState
from workbench.qt.panels.runs.dialogs import (  # noqa: F401 (NotesDialog: re-exported)
    NotesDialog, ask_notes, ask_save_path, confirm)
from workbench.qt.panels.runs.model import COLUMN, FILTER_ROLE, SORT_ROLE, RunsTableModel
from workbench.qt.panels.runs.share import RunSharing
from workbench.qt.panels.train.findings import FindingsView, run_findings
from workbench.qt.panels.runs.columns import (  # noqa: F401 (re-exported)
    COLUMN_PADDING, NAME_WIDTH, NOTES_ROOM, WindowFit, fit_columns, fit_to_window,
    set_up_columns)

#: More curves than this make an unreadable plot: the first ones selected are overlaid.
MAX_OVERLAYS = 12


class RunsPanel(QWidget):
    """A sortable, filterable table of the training runs under ``root``.

    Parameters
    ----------
    root
        The runs folder (default :func:`workbench.core.io.runs_dir`).

    Signals
    -------
    selection_changed(paths)
        The selected runs' folders changed (in table order).
    overlay_requested(runs)
        Curves to overlay for the selected runs: ``[{"name": str, "history": [epoch
        metrics dicts]}]`` (at most :data:`MAX_OVERLAYS`; ``[]`` clears them).
    open_bundle_requested(path)
        "Open in Predict" on a run with a model: its bundle's path (its last checkpoint's
        when it wrote no bundle).
    continue_requested(run_dir)
        "Continue in Train" on a run with a checkpoint: the run's folder.
    evaluate_requested(path)
        "Open in Evaluate" on a run with a model: as ``open_bundle_requested``.
    refreshed(count)
        The table shows the runs folder as it is now: ``count`` runs.
    runs_deleted(run_dirs)
        Delete… removed these run folders (str paths); the Train tab forgets its last run
        when it is one of them, and the model choosers list the runs again.
    run_renamed(run_dir)
        A run was renamed (the model choosers show the new name).
    """

    selection_changed = Signal(list)
    overlay_requested = Signal(list)
    open_bundle_requested = Signal(str)
    continue_requested = Signal(str)
    evaluate_requested = Signal(str)
    refreshed = Signal(int)
    runs_deleted = Signal(list)
    run_renamed = Signal(str)

    def __init__(self, root: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = RunStore(root)
        # Dialogs, replaceable (tests answer them without a person).
        self.confirm: Callable[[QWidget, str, str], bool] = confirm
        self.ask_notes: Callable[[QWidget, str, str], str | None] = ask_notes
        self.ask_save_path: Callable[[QWidget, str], str] = ask_save_path
        self._shut_down = False
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_listed)
        self._runner.errored.connect(self._on_list_failed)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        self.model = RunsTableModel(self)
        self.model.name_edited.connect(self._on_name_edited)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # the filter matches any column
        self.proxy.setFilterRole(FILTER_ROLE)  # the notes whole, not their first line
        self.table = tab_leaves(QTableView())  # Tab goes on to the buttons
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMN["created"], Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._listing_waits = False
        self.table.itemDelegate().closeEditor.connect(self._list_again_after_editing)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        set_up_columns(self.table)
        self.columns = WindowFit(self.table)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs (name, dataset, status, notes…)")
        self.filter_edit.setClearButtonEnabled(True)
        name_field(None, self.filter_edit, "Filter runs")
        name_field(None, self.table, "Runs")
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Edit the name of the selected run (or double-click it)")
        self.rename_button.clicked.connect(self.start_rename)
        self.notes_button = QPushButton("Notes…")
        self.notes_button.clicked.connect(self.edit_notes)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Write the selected runs' epoch metrics to a CSV file")
        self.export_button.clicked.connect(self.export_selected)
        self.predict_button = QPushButton("Open in Predict")
        self.predict_button.clicked.connect(self.open_selected_bundle)
        self.evaluate_button = QPushButton("Open in Evaluate")
        self.evaluate_button.clicked.connect(self.evaluate_selected_bundle)
        self.continue_button = QPushButton("Continue in Train")
        self.continue_button.clicked.connect(self.continue_selected)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.refresh_button)
        self.sharing = RunSharing(self)  # TensorBoard, Report… (share.py)
        buttons = QHBoxLayout()
        for b in (self.rename_button, self.notes_button, self.delete_button,
                  self.export_button, self.predict_button, self.evaluate_button,
                  self.continue_button, self.sharing.report_button,
                  self.sharing.tensorboard_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.message = MessageLabel("")
        # The selected run's training doctor findings (run.json), while it has some.
        self.findings = FindingsView(with_fixes=False, title="Training doctor")
        self.findings.setMaximumHeight(160)
        self.findings.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.findings)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    # -- listing -------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the runs folder (off the GUI thread); :attr:`refreshed` says when done."""
        if self._shut_down:
            return
        store = self.store

        def list_runs(state: TaskState) -> tuple[list[RunRecord], str]:
            store.refresh()
            return store.runs(), store.index_problem
        self._runner.submit(list_runs)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self.columns.follow_window()  # the Notes column stays in sight

    def showEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().showEvent(event)
        # Listed while the tab was hidden (at start-up), the columns could not see the
        # window: at 1100x706 the Notes column began out of sight.
        self.columns.follow_window()
        self.refresh()  # runs finish (or are written by the CLI) while the tab is hidden

    @Slot(int, object)
    def _on_listed(self, _job: int, result: tuple[list[RunRecord], str]) -> None:
        if self.table.state() == QAbstractItemView.State.EditingState:
            # Resetting the model now would close the name being typed and lose it: the
            # runs are listed again once the editor closes.
            self._listing_waits = True
            return
        records, problem = result
        selected = set(self.selected_paths())
        self.table.selectionModel().blockSignals(True)
        try:
            self.model.set_records(records)
            self._select_paths(selected)
        finally:
            self.table.selectionModel().blockSignals(False)
        if records:
            self.columns.fit()
        count = len(records)
        text = (f"{count} run{'s' if count != 1 else ''} in {self.store.root}" if count else
                f"No runs yet in {self.store.root}: runs appear here when training ends.")
        self.message.show_message(f"{text}. {problem}" if problem else text,
                                  "warning" if problem else "info")
        self._on_selection_changed()  # curves may have grown; deleted runs are gone
        self.refreshed.emit(count)

    @Slot()
    def _list_again_after_editing(self, *_args: Any) -> None:
        # The waiting listing was read before the edit: list again once the view has left
        # its editing state (closeEditor comes just before).
        if self._listing_waits:
            self._listing_waits = False
            QTimer.singleShot(0, self.refresh)

    @Slot(int, str)
    def _on_list_failed(self, _job: int, message: str) -> None:
        self.message.show_message(f"Cannot list the runs: {message}", "error")

    # -- selection -----------------------------------------------------------------------
    def selected_records(self) -> list[RunRecord]:
        """The selected runs, in table order."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.record(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
                for r in rows]

    def selected_paths(self) -> list[str]:
        return [r.path for r in self.selected_records()]

    def select_paths(self, paths: list[str]) -> None:
        """Select the rows of these run folders (and only those)."""
        self._select_paths(set(paths))

    def _select_paths(self, paths: set[str]) -> None:
        selection = QItemSelection()
        for path in paths:
            row = self.model.row_of(path)
            if row is not None:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if index.isValid():
                    selection.select(index, index)
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().select(selection, flags)

    @Slot()
    def _on_selection_changed(self, *_: Any) -> None:
        records = self.selected_records()
        self._update_buttons()
        self.findings.set_findings(run_findings(records[0].path) if len(records) == 1 else [])
        self.findings.setVisible(bool(self.findings.findings))
        self.selection_changed.emit([r.path for r in records])
        overlays = [{"name": r.name, "history": self.store.history(r.path)}
                    for r in records[:MAX_OVERLAYS]]
        if len(records) > MAX_OVERLAYS:
            self.message.show_message(f"{len(records)} runs selected: the curves of the first "
                                      f"{MAX_OVERLAYS} are shown.", "warning")
        self.overlay_requested.emit(overlays)

    def _update_buttons(self) -> None:
        records = self.selected_records()
        one = len(records) == 1
        self.rename_button.setEnabled(one)
        self.notes_button.setEnabled(one)
        self.sharing.update(one)
        self.delete_button.setEnabled(bool(records))
        self.export_button.setEnabled(bool(records))
        # A run that wrote no bundle (killed mid-run) offers its last checkpoint.
        model = records[0] if one and records[0].model_file else None
        which = (f" (its checkpoint of epoch {model.model_epoch}: it saved no bundle)"
                 if model is not None and model.checkpoint_model else "")
        none = "Select one run that saved a model (a bundle or a checkpoint)"
        self.predict_button.setEnabled(model is not None)
        self.predict_button.setToolTip(f"Classify images with this run's model{which}"
                                       if model is not None else none)
        self.evaluate_button.setEnabled(model is not None)
        self.evaluate_button.setToolTip(
            f"Measure this run's model{which}: per-class metrics, confusion matrix, worst "
            f"mistakes" if model is not None else none)
        resumable = one and _has_checkpoint(records[0].path)
        self.continue_button.setEnabled(resumable)
        self.continue_button.setToolTip(
            "Train this run for more epochs on the Train tab, from its last checkpoint"
            if resumable else "Select one run that has a checkpoint (checkpoints/last.pt)")

    # -- actions -------------------------------------------------------------------------
    @Slot()
    def start_rename(self) -> None:
        """Start editing the selected run's name in its cell."""
        rows = self.table.selectionModel().selectedRows(COLUMN["name"])
        if len(rows) == 1:
            self.table.edit(rows[0])

    @Slot(str, str)
    def _on_name_edited(self, path: str, name: str) -> None:
        if self._apply(lambda: self.store.rename(path, name), "Cannot rename the run",
                       "Renamed the run to “{}”."):
            self.run_renamed.emit(str(path))

    @Slot()
    def edit_notes(self) -> None:
        """Edit the selected run's notes in a dialog."""
        records = self.selected_records()
        if len(records) != 1:
            return
        record = records[0]
        notes = self.ask_notes(self, record.name, record.notes)
        if notes is not None and notes != record.notes:
            self._apply(lambda: self.store.annotate(record.path, notes),
                        "Cannot save the notes", "Saved the notes of “{}”.")

    def _apply(self, change: Callable[[], RunRecord], title: str, done: str) -> bool:
        """Make ``change``; the message line says it was made (``done`` with the run's
        name), or ``title`` and why not (an earlier refusal is not left standing)."""
        try:
            record = change()
        except WorkbenchError as e:
            show_error(self, title, str(e))  # the row keeps showing the old value
            self.message.show_message(f"{title}: {e}", "error")
            return False
        self.model.update_record(record)
        self._update_buttons()
        self.message.show_message(done.format(record.name), "ok")
        self._supersede_stale_listing()
        return True

    @Slot()
    def delete_selected(self) -> None:
        """Delete the selected runs' folders, after asking."""
        records = self.selected_records()
        if not records:
            return
        what = (f"the run “{records[0].name}”" if len(records) == 1
                else f"{len(records)} runs")
        if not self.confirm(self, "Delete runs",
                            f"Delete {what}? Their folders (model, checkpoints, metrics) are "
                            f"removed from {self.store.root} for good."):
            return
        deleted, errors = [], []
        for r in records:
            try:
                self.store.delete(r.path)
            except WorkbenchError as e:
                errors.append(str(e))
            else:
                deleted.append(r.path)
        self.model.remove_paths(deleted)
        self._on_selection_changed()
        if deleted:
            self.runs_deleted.emit([str(p) for p in deleted])
        if errors:
            show_error(self, "Some runs were not deleted", "\n".join(errors))
        self.message.show_message(f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''}.",
                                  "warning" if errors else "ok")
        self._supersede_stale_listing()

    @Slot()
    def export_selected(self) -> None:
        """Write the selected runs' epoch metrics to a CSV file the user picks."""
        records = self.selected_records()
        if not records:
            return
        suggested = (f"{records[0].name}.csv" if len(records) == 1 else "runs.csv")
        path = self.ask_save_path(self, os.path.join(str(Path.home()), _safe(suggested)))
        if not path:
            return
        try:
            rows = self.store.export_csv([r.path for r in records], path)
        except WorkbenchError as e:
            show_error(self, "Cannot export the metrics", str(e))
            return
        self.message.show_message(f"Exported {rows} epoch rows to {path}", "ok")

    @Slot()
    def open_selected_bundle(self) -> None:
        """Ask (``open_bundle_requested``) to classify images with the selected run's model."""
        records = self.selected_records()
        if len(records) != 1 or not records[0].model_file:
            return
        bundle = records[0].model_path
        if not os.path.isfile(bundle):
            show_error(self, "No model in this run",
                       f"{bundle} no longer exists; press Refresh to update the list.")
            return
        self.open_bundle_requested.emit(bundle)

    @Slot()
    def evaluate_selected_bundle(self) -> None:
        """Ask (``evaluate_requested``) to evaluate the selected run's model."""
        records = self.selected_records()
        if len(records) == 1 and records[0].model_file and os.path.isfile(records[0].model_path):
            self.evaluate_requested.emit(records[0].model_path)

    @Slot()
    def continue_selected(self) -> None:
        """Ask (``continue_requested``) to train the selected run further."""
        records = self.selected_records()
        if len(records) == 1 and _has_checkpoint(records[0].path):
            self.continue_requested.emit(str(records[0].path))

    def _supersede_stale_listing(self) -> None:
        # A listing read before this change would bring the old values back: read again.
        if self._runner.is_busy():
            self.refresh()

    def shutdown(self) -> None:
        self._shut_down = True
        self._runner.cancel_all()
        self.sharing.launcher.stop_all()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_. " else "_" for c in name)


def _main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else None
    return run_standalone(lambda: RunsPanel(root), "Runs")


if __name__ == "__main__":
    sys.exit(_main())


def _has_checkpoint(run_dir: str | Path) -> bool:
    return (Path(run_dir) / "checkpoints" / "last.pt").is_file()
