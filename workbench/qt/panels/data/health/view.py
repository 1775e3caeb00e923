"""The Health view of the Data tab: check the dataset, see what is wrong, fix it.

*Check* runs the fast checks (:mod:`workbench.core.data.health`: copies, conflicting
labels, train/validation leaks, blank, tiny and oddly shaped images; seconds) and *Check
labels* adds the cross-validated label check (the network trained 5 times: minutes), both
off the GUI thread, with progress and Cancel. Each finding is a row with its images side by
side (:mod:`.table`); clicking an image chooses it for the actions:

- **Exclude from training** adds the image to the experiment's ``data.exclude`` (every
  tab hears it; the list on the right, or *Include again*, takes it back); with several
  rows selected (Shift/Ctrl-click, Shift+arrows), **Exclude N chosen** adds the chosen
  image of each in one edit (:mod:`.chosen`);
- **Move to suggested class** (likely mislabelled images) moves the file after a
  confirmation, offers *Undo move*, and has the folder scanned again (:mod:`.moves`); it
  is off when the label check's network was too weak to trust;
- **Reveal in file manager**.

A check started from a button (Check, Check labels, Check again) puts the focus on Cancel
while it runs and, when it ends, on the findings' first row (on the button when there are
none): the buttons are off meanwhile, and Qt would leave the focus anywhere. A field the
user moved to in the meantime keeps it.

A move, an undo or a change of the split settings makes the findings shown out of date: a
bar says why, with *Check again* (:class:`~.controls.StaleBar`). The last check of a folder
and its moves are kept (:mod:`workbench.core.data.health.saved`) and shown again when the
folder is opened in a later session, marked out of date when the folder changed since.

The dialog is an attribute (``confirm``) so a test can answer it without a person.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from workbench.core.data.health import saved
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.common import MessageLabel, run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.keyboard import menu_keys
from workbench.qt.panels.data.health import jobs
from workbench.qt.panels.data.health.chosen import ChosenImage
from workbench.qt.panels.data.health.controls import ActionBar, CheckBar, StaleBar, confirm
from workbench.qt.panels.data.health.excluded import ExcludedList
from workbench.qt.panels.data.health.folder_change import FolderChange, listing_key
from workbench.qt.panels.data.health.moves import MoveActions
from workbench.qt.panels.data.health.findings import (KINDS, Finding, counts_of, empty_text,
                                                      findings_of, same_path, summary_of)
from workbench.qt.panels.data.health.table import (IMAGES, THUMB, FindingsModel,
                                                   FindingsTable)
from workbench.qt.panels.data.views import reveal_in_file_manager
from workbench.qt.thumbnails import ThumbnailLoader
from workbench.qt.workers import TaskRunner

#: Fields of ``data`` whose change makes a report's split (its leaks) stale.
_SPLIT_FIELDS = {"val_fraction", "seed", "stratified", "use_folder_split", "folder"}
_BEFORE = ("Check the dataset for copies filed under two classes, copies on both sides of "
           "the train/validation split, and blank, tiny or oddly shaped images (seconds).\n\n"
           "Check labels also finds images whose label looks wrong: it trains the network "
           "5 times on parts of the data (minutes on a large dataset).")


class HealthView(ChosenImage, MoveActions, FolderChange, QWidget):
    """The findings of the dataset of ``experiment`` and the actions on them.

    Signals
    -------
    checked(report)
        A check finished; its rows (or the empty state) are shown.
    check_failed(message)
        A check could not be done (the message is shown too).
    rescan_requested()
        Files were moved (or moved back): the dataset should be scanned again.
    experiment_changed()
        ``data.exclude`` was changed here (the Experiment announced it to every view).
    title_changed(text)
        What the view's tab should say ("Health (12)").
    """

    checked = Signal(object)
    check_failed = Signal(str)
    rescan_requested = Signal()
    experiment_changed = Signal()
    title_changed = Signal(str)

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.report: Any = None
        self.index: Any = None  # the scan the report was made on, kept current by rescans
        self.listed: Any = None  # the files of the folder when the report shown was made
        self.moves: list[Any] = []  # the files moved here, last last (Undo takes it back)
        self.sizes: dict[str, tuple[int, int]] = {}  # pixel sizes of the copies shown
        self._labels = False  # whether the running check includes the label check
        # The dialog, replaceable (tests answer it without a person).
        self.confirm: Callable[[QWidget, str, str], bool] = confirm
        self._checking = ""  # the folder of the running check
        self._refocus = False  # the running check was started from a button with the focus
        self._runner = TaskRunner(self, supersede=True)
        self._runner.yielded.connect(lambda _job, v: self.bar.show_progress(*v))
        self._runner.finished.connect(self._on_checked)
        self._runner.errored.connect(self._on_errored)
        self.loader = ThumbnailLoader(self, size=THUMB)
        self.model = FindingsModel(self.loader, self)
        self._build()
        subscribe(self, self.current.replaced, lambda _exp: self._show_excluded())
        subscribe(self, self.current.changed, self._on_experiment_changed)
        subscribe(self, self.current.dataset_changed, self._on_dataset_changed, replay=True)
        self._show_excluded()

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.bar = CheckBar()
        self.bar.check_requested.connect(self.check)
        self.bar.cancel_requested.connect(self.cancel)
        self.bar.kind_combo.currentIndexChanged.connect(self._on_kind_chosen)
        self.summary = MessageLabel("")
        self.stale = StaleBar()
        self.stale.check_requested.connect(lambda: self.check(False))

        self.table = FindingsTable(self.model)
        self.table.image_pressed.connect(self.model.choose)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.dataChanged.connect(self._update_actions)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_menu_requested)
        menu_keys(self.table)  # Shift+F10 opens a row's menu
        self.empty = QLabel(_BEFORE)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        self.excluded = ExcludedList()
        self.excluded.include_requested.connect(self.include_entries)
        self.excluded.include_all_requested.connect(self.include_all)
        split = QSplitter(Qt.Orientation.Horizontal, objectName="data.health_excluded")
        split.addWidget(self.stack)
        split.addWidget(self.excluded)
        split.setStretchFactor(0, 1)
        split.setSizes([1000, 250])

        self.actions = ActionBar()
        self.actions.exclude_button.clicked.connect(self.toggle_exclude)
        self.actions.move_button.clicked.connect(self.move_to_suggested)
        self.actions.undo_button.clicked.connect(self.undo_move)
        self.actions.reveal_button.clicked.connect(
            lambda: self.chosen_path() and reveal_in_file_manager(self.chosen_path(), self))
        # Shortcuts to the parts tests and the panel use.
        self.check_button, self.labels_button = self.bar.check_button, self.bar.labels_button
        self.cancel_button, self.progress = self.bar.cancel_button, self.bar.progress
        self.kind_combo, self.status = self.bar.kind_combo, self.actions.status
        (self.exclude_button, self.move_button, self.undo_button,
         self.reveal_button) = self.actions.buttons()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.stale)
        layout.addWidget(split, 1)
        layout.addWidget(self.actions)
        self._fill_kinds([])
        self._update_actions()

    # -- checking --------------------------------------------------------------------------
    @Slot(bool)
    def check(self, labels: bool = False) -> None:
        """Check the experiment's dataset in the background (``labels``: the label check
        too); a check already running is superseded."""
        exp, index = self.experiment.copy(), self._scanned_index()
        self._checking, self._labels = exp.data.folder, labels
        self._refocus = self._focus_on_buttons()
        self.bar.start(labels)
        if self._refocus:  # the button pressed is off until the check ends
            self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._runner.submit(lambda state: jobs.check(exp, index, labels, state))

    def _focus_on_buttons(self) -> bool:
        """Whether the window's focus is on a button that starts or cancels a check."""
        return self.window().focusWidget() in (self.check_button, self.labels_button,
                                               self.cancel_button, self.stale.button)

    def _end_check(self) -> bool:
        """The buttons back as before the check; whether the focus should then go to the
        results (:meth:`_focus_results`): the check was started from a button and the
        focus is still on the bar's buttons, not on a field the user moved to."""
        refocus = self._refocus and self._focus_on_buttons()
        self._refocus = False
        self.bar.end()
        return refocus

    def _focus_results(self, results: bool = True) -> None:
        """The focus on the findings' current (first) row, else (none, or ``results``
        False: a check cancelled or failed) on the button pressed."""
        if results and self.stack.currentWidget() is self.table:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            (self.labels_button if self._labels else self.check_button).setFocus(
                Qt.FocusReason.OtherFocusReason)

    def _scanned_index(self) -> Any:
        """The Data tab's scan, when it is of the experiment's folder (else None: the job
        scans it)."""
        index, folder = self.current.dataset, self.experiment.data.folder
        return index if index is not None and folder and same_path(index.root, folder) else None

    def is_checking(self, labels: bool = False) -> bool:
        """Whether a check runs (``labels``: one with the label check, minutes long)."""
        return self._runner.is_busy() and (self._labels or not labels)

    @Slot()
    def cancel(self) -> None:
        """Stop the running check (the label check stops at its next batch)."""
        if not self._runner.is_busy():
            return
        self._runner.cancel_all()
        if self._end_check():
            self._focus_results(results=False)
        if self.report is None:
            text = "no labels were checked" if self._labels else "nothing was checked"
        elif self._labels and not self.report.labels_checked:
            text = ("no labels were checked; the findings shown are those of the last "
                    "check, without the label check")
        else:
            text = "the findings shown are those of the last check"
        self._say(f"Cancelled: {text}.", "warning")

    @Slot(int, object)
    def _on_checked(self, _job: int, result: Any) -> None:
        refocus = self._end_check()
        report, self.index, self.sizes = result
        saved.keep_labels(self.report, report)  # a fast check keeps the label findings
        self.report, self.listed = report, listing_key(self.index)
        saved.save_report(self.index, self.experiment.data, report, self.sizes)
        self._show_report()
        self._say("")
        if refocus:
            self._focus_results()
        self.checked.emit(self.report)

    def _show_report(self, stale: str = "", level: str = "warning") -> None:
        """Show the rows of ``self.report``; ``stale``: why they may be out of date."""
        findings = findings_of(self.report, tuple(self.experiment.data.input_size),
                               self.sizes)
        self.model.set_findings(findings, self.report.classes)
        self.show_moves()
        self.table.fit_images_column()
        self._fill_kinds(findings)
        self.stale.show_stale(stale, level)
        self._show_excluded()  # and the summary, the findings the exclusions settle apart
        if findings:
            self.stack.setCurrentWidget(self.table)
            self.table.selectRow(0)
        else:
            self.empty.setText(empty_text(self.report))
            self.stack.setCurrentWidget(self.empty)
        self._update_actions()

    def mark_stale(self, text: str) -> None:
        """Say why the findings shown are out of date (with *Check again*)."""
        if self.report is not None:
            self.stale.show_stale(text)

    @Slot(int, str)
    def _on_errored(self, _job: int, message: str) -> None:
        if self._end_check():
            self._focus_results(results=False)
        self._say(f"The check could not be done: {message}", "error")
        self.check_failed.emit(message)

    def _fill_kinds(self, findings: list[Finding]) -> None:
        combo = self.bar.kind_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(f"All findings ({len(findings)})", None)
        for kind, n in counts_of(findings).items():
            combo.addItem(f"{KINDS[kind][0]} ({n})", kind)
        combo.blockSignals(False)
        combo.setEnabled(bool(findings))
        self.table.proxy.set_kind(None)

    @Slot()
    def _on_kind_chosen(self) -> None:
        self.table.proxy.set_kind(self.bar.kind_combo.currentData())
        self.table.fit_images_column()
        rows = self.table.selectionModel().selectedRows()
        if rows:  # the selected row is still shown
            self.table.scrollTo(rows[0], self.table.ScrollHint.PositionAtCenter)
        elif self.table.proxy.rowCount():
            self.table.selectRow(0)
            self.table.scrollToTop()
        self._update_actions()

    # -- the experiment's news -------------------------------------------------------------
    def _on_experiment_changed(self, section: str, field: str | None) -> None:
        if section != "data":
            return
        if field in ("exclude", None):
            self._show_excluded()
        if field in _SPLIT_FIELDS:
            self.mark_stale("The split changed since the check: Check again to see its "
                            "leaks.")

    def _on_dataset_changed(self, index: Any) -> None:
        if index is not None and self.is_checking() and self._checking and \
                not same_path(index.root, self._checking):
            self.cancel()  # another dataset was opened: the running check is of the old one
        opened = index is not None and (self.index is None
                                        or not same_path(index.root, self.index.root))
        if self.report is not None and index is not None and \
                not same_path(index.root, self.report.root):
            self.report, self.sizes = None, {}
            self.model.set_findings([])
            self._fill_kinds([])
            self.summary.show_message("")
            self.stale.show_stale("")
            self.empty.setText(_BEFORE)
            self.stack.setCurrentWidget(self.empty)
            self.title_changed.emit("Health")
        self.index = index
        if opened:
            self._say("")  # what the last action did was to the dataset before
            self._restore(index)
        self.show_folder_change(index)  # a rescan of the folder checked: out of date?
        self._show_excluded()

    def _restore(self, index: Any) -> None:
        """Show what was kept of ``index``'s folder: its moves (for Undo) and, when no
        check of it is shown, its last check, marked out of date if the folder changed."""
        kept = saved.load(index, self.experiment.data)
        self.moves = kept.moves
        if kept.report is not None and (self.report is None or not same_path(
                self.report.root, index.root)) and not self.is_checking():
            self.report, self.sizes, self.listed = kept.report, kept.sizes, listing_key(index)
            when = time.strftime("%d %b %Y %H:%M", time.localtime(kept.checked_at))
            self._show_report(kept.stale or f"Shown: the check of {when}, kept from an "
                              f"earlier session.", "warning" if kept.stale else "info")
        self._update_actions()

    def _show_excluded(self) -> None:
        from workbench.core.data.usage import excluded_images, unmatched_excludes

        exclude, index = list(self.experiment.data.exclude), self.index
        paths = excluded_images(index, exclude) if index is not None else set()
        self.excluded.set_entries(exclude, unmatched_excludes(index, exclude) if index
                                  is not None else (), None if index is None else len(paths))
        self.model.set_excluded(paths)
        if self.report is not None:  # a leak's copy excluded settles it (a check would)
            self._show_exclusions_stale()
            self.summary.show_message(*summary_of(self.report, self.model.findings, paths))
            self.show_title()

    def _show_exclusions_stale(self) -> None:
        """Mark the findings out of date when ``data.exclude`` changed since the check as
        the check kept for a restart would be (images included again were not checked:
        :func:`~workbench.core.data.health.saved.exclusions_stale`), or no longer so; a
        folder or split change said already says more."""
        said, index = self.stale.text(), self.index
        mine = said.startswith(saved.EXCLUSIONS_CHANGED)
        if index is None or not same_path(index.root, self.report.root) or not same_path(
                self.experiment.data.folder or index.root, index.root) or (
                said and not mine and self.stale.label.level != "info"):
            return
        text = saved.exclusions_stale(index, self.experiment.data, self.report)
        if text or mine:
            self.stale.show_stale(text)

    # -- actions (:mod:`.chosen`, :mod:`.moves`) ----------------------------------------------
    include_entries = Slot(list)(ChosenImage.include_entries)
    include_all = Slot(list)(ChosenImage.include_all)
    toggle_exclude = Slot()(ChosenImage.toggle_exclude)
    _update_actions = Slot()(ChosenImage._update_actions)
    move_to_suggested = Slot()(MoveActions.move_to_suggested)
    undo_move = Slot()(MoveActions.undo_move)

    def _say(self, text: str, level: str = "info") -> None:
        self.actions.say(text, level)

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() == IMAGES and self.chosen_path():
            reveal_in_file_manager(self.chosen_path(), self)

    @Slot(QPoint)
    def _on_menu_requested(self, pos: QPoint) -> None:
        hit = self.table.image_at(pos)  # off the images (Shift+F10): the row's chosen one
        source = hit[0] if hit is not None else self.table.source_row(self.table.indexAt(pos))
        if source is None:
            return
        if hit is not None:
            self.model.choose(*hit)
        row = self.table.proxy.mapFromSource(self.model.index(source, 0)).row()
        if not self.table.selectionModel().isRowSelected(row):  # else: the rows selected
            self.table.selectRow(row)
        self.actions.menu(self).exec(self.table.viewport().mapToGlobal(pos))

    def shutdown(self) -> None:
        self._runner.cancel_all()
        self.bar.end()
        self.loader.shutdown()


def _main() -> int:
    def make() -> HealthView:
        from workbench.core.data.demo import ensure_demo_dataset

        exp = Experiment()
        exp.data.folder = sys.argv[1] if len(sys.argv) > 1 else str(ensure_demo_dataset())
        view = HealthView(exp)
        view.check()
        return view

    return run_standalone(make, "Data health")


if __name__ == "__main__":
    sys.exit(_main())
