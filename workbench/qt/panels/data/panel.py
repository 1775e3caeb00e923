"""Data panel: choose a dataset (folder or CSV file) and see what is in it.

Classes with their counts and split, a bar chart of images per class, a lazy thumbnail grid
of the selected class, a summary of image sizes and colour modes, the unreadable files, and
the settings of ``experiment.data`` (:mod:`.settings`). Opening another dataset folder
clears the exclusions made for the previous one, and says so (:mod:`.exclusions`).

The scan (listing plus a full decode of every file) and the image summary run off the GUI
thread; choosing another folder while one is being scanned supersedes the stale scan. A NEW
dataset fits the experiment to its images (:mod:`.advice`). Another folder that cannot be
scanned (a typo) leaves the experiment's dataset shown, the field put back to it, or, while
the experiment's folder is missing, the typed text to fix (:mod:`.failed`); a path pasted
in quotes or as a file:// URL is read as the path (:mod:`.typed`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from workbench.core.errors import DataError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, run_standalone, stop_busy
from workbench.qt.evented import subscribe
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.data.advice import DataAdvice, HeaderSummary
from workbench.qt.panels.data.column import SettingsColumn
from workbench.qt.panels.data.exclusions import ExclusionNotice
from workbench.qt.panels.data.settings import DataSettings
from workbench.qt.panels.data.health.view import HealthView
from workbench.qt.panels.data.marks import ExcludedMarks
from workbench.qt.panels.data.failed import show_failed_scan
from workbench.qt.panels.data.stats import (blocked_text, counted, gone_text, ready_text,
                                             split_counts, total_text)
from workbench.qt.panels.data.typed import typed_path
from workbench.qt.panels.data.jobs import list_dataset, verify_dataset
from workbench.qt.panels.data.progress import ScanProgress
from workbench.qt.panels.data.relist import FolderRelist
from workbench.qt.panels.data.thumbs import ClassImages
from workbench.qt.panels.data.chart import ClassBarChart
from workbench.qt.panels.data.views import ClassTable, DatasetDetails


class DataPanel(QWidget):
    """Shows the dataset of ``experiment.data.folder`` and lets the user choose another.

    Signals
    -------
    dataset_listed(index)
        The folder's files are listed (no image decoded yet): classes, counts and
        thumbnails are shown at once, and checking every image for readability begins.
    dataset_loaded(index)
        A scan finished (every image checked); ``experiment.data.folder`` now names the scanned folder. ``index``
        is the :class:`~workbench.core.data.index.DatasetIndex` (it may still be unusable for
        training: the message line says why).
    scan_failed(message)
        The folder could not be scanned (missing, not a folder...); the message says
        which dataset is still used when it was not the experiment's own (or that the
        experiment's folder is missing too).
    experiment_changed()
        A setting changed ``experiment.data`` (split, size, channels, normalisation...), or
        a new dataset's defaults changed it and ``experiment.augment`` (a flip left out).
        The other tabs hear those edits from the Experiment's events; edits made elsewhere
        (the Model tab's backbone preprocessing) are shown here the same way.
    summary_finished(lines)
        The image size and mode summary of the loaded dataset is shown.
    defaults_adopted(text)
        A new dataset's defaults were applied (after ``summary_finished``); ``text`` says
        what was chosen and why (the advice line shows it too).
    """

    dataset_listed = Signal(object)
    dataset_loaded = Signal(object)
    scan_failed = Signal(str)
    experiment_changed = Signal()
    summary_finished = Signal(list)
    defaults_adopted = Signal(str)

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.index: Any = None
        self.shown_folder = ""  # the folder (or file) ``index`` is the scan of
        self.trainable = False
        self.checking = False  # the index shown is listed, its images not all checked yet
        self._pending_folder = ""
        self._adopt: bool | None = None  # load_folder's adopt_defaults, used once listed
        self.image_summary: Any = None  # ImageSummary of the loaded dataset's headers
        self._runner = TaskRunner(self, supersede=True)
        self._runner.progressed.connect(self._on_scan_progressed)
        self._runner.finished.connect(self._on_scan_finished)
        self._runner.errored.connect(self._on_scan_errored)
        self._verify_runner = TaskRunner(self, supersede=True)
        self._verify_runner.progressed.connect(self._on_scan_progressed)
        self._verify_runner.finished.connect(self._on_verify_finished)
        self._verify_runner.errored.connect(self._on_scan_errored)
        self._build()
        self.headers = HeaderSummary(self.summary_label, self)
        self.headers.finished.connect(self._on_summary_finished)
        self.relist = FolderRelist(self)  # the folder changed meanwhile: rescanned, and said
        self.relist.folder_gone.connect(  # gone since: said, its last scan still shown
            lambda folder: self.message.show_message(gone_text(folder), "error"))
        self.folder_edit.setText(self.experiment.data.folder)
        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("A folder with one sub-folder of images per class, "
                                            "a CSV file of path,label rows, or a .zip of them")
        self.folder_edit.returnPressed.connect(
            lambda: self.load_folder(self.folder_edit.text().strip()))
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.csv_button = QPushButton("Open file…")
        self.csv_button.setToolTip("A CSV file of path,label rows (paths relative to the "
                                   "file), or a .zip or .tar(.gz) of a dataset folder")
        self.csv_button.clicked.connect(self.choose_csv)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Scan the folder again (after adding or fixing images)")
        self.rescan_button.clicked.connect(
            lambda: self.load_folder(self.folder_edit.text().strip()))
        label = QLabel("Dataset:")
        name_field(label, self.folder_edit, "Dataset folder")
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.folder_edit, 1)
        for button in (self.choose_button, self.csv_button, self.rescan_button):
            row.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setFormat("Checking images… %v / %m")
        self.progress.hide()
        self.scan_progress = ScanProgress(self.progress, self)  # ~10 redraws a second
        self.message = MessageLabel("Choose a dataset folder, or drop one on the window. "
                                    "Layout: one sub-folder of images per class "
                                    "(or train/ and val/ folders holding those), or a CSV file "
                                    "of path,label rows.")
        self.advice = DataAdvice()
        self.advice.use_one_channel_clicked.connect(lambda: self.settings.set_channels(1))
        self.exclusions = ExclusionNotice(self.current)  # of another dataset, or matching none
        self.exclusions.experiment_changed.connect(self.experiment_changed)

        # Left: classes (with the split) over the bar chart.
        self.class_table = ClassTable()
        self.class_table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.total_label = QLabel("")
        self.total_label.setWordWrap(True)
        classes_box = QGroupBox("Classes")
        lay = QVBoxLayout(classes_box)
        lay.addWidget(self.class_table)
        lay.addWidget(self.total_label)
        self.chart = ClassBarChart()
        chart_box = QGroupBox("Images per class")
        QVBoxLayout(chart_box).addWidget(self.chart)
        left = QSplitter(Qt.Orientation.Vertical, objectName="data.classes_chart")
        left.addWidget(classes_box)
        left.addWidget(chart_box)
        left.setStretchFactor(0, 1)  # four rows of the table show at the default window
        left.setStretchFactor(1, 1)  # size, and the chart has room for turned names
        left.setSizes([270, 250])

        # Middle: thumbnails over the unreadable files and the image summary.
        self.images = thumbs_box = ClassImages()
        self.class_combo, self.grid_label = self.images.class_combo, self.images.grid_label
        self.loader, self.thumb_model = self.images.loader, self.images.thumb_model
        self.thumbs = self.images.thumbs
        # Excluded images greyed in the grid, and its menu to exclude or include them.
        self.marks = ExcludedMarks(self.thumbs, self.current, lambda: self.images.index)

        self.details = DatasetDetails()
        # Shortcuts to the parts tests and the window use.
        self.unreadable_list = self.details.unreadable_list
        self.unreadable_box = self.details.unreadable_box
        self.reveal_button = self.details.reveal_button
        self.summary_label = self.details.summary_label
        middle = QSplitter(Qt.Orientation.Vertical, objectName="data.images_details")
        middle.addWidget(thumbs_box)
        middle.addWidget(self.details)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 1)
        middle.setSizes([480, 130])

        # Right: the settings of experiment.data.
        self.settings = DataSettings(self.current)
        self.settings.experiment_changed.connect(self.experiment_changed)
        self.settings.split_changed.connect(self._show_split)
        settings_box = QGroupBox("Settings")
        QVBoxLayout(settings_box).addWidget(self.settings)
        scroll = SettingsColumn(settings_box)

        # The settings get their width first (a large font or 125% scaling cut them at the
        # right, out of reach); the thumbnails give way.
        split = QSplitter(Qt.Orientation.Horizontal, objectName="data.columns")
        for widget, stretch in ((left, 2), (middle, 4), (scroll, 1)):
            split.addWidget(widget)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([280, 470, max(350, scroll.minimumSizeHint().width())])

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.advice)
        layout.addWidget(self.exclusions)
        self.health = HealthView(self.current)  # the Health tab: findings and fixes
        self.health.rescan_requested.connect(self.rescan_button.click)
        self.views = QTabWidget()
        self.views.addTab(split, "Dataset")
        self.views.addTab(self.health, "Health")
        self.health.title_changed.connect(lambda text: self.views.setTabText(1, text))
        layout.addWidget(self.views, 1)

    # -- actions ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def _on_experiment_replaced(self, experiment: Experiment) -> None:
        self.folder_edit.setText(experiment.data.folder)
        self.advice.cancel()
        self._show_split()
        self._update_suggestion()

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        if section == "data":  # e.g. the Model tab set a backbone's channels and size
            self._update_suggestion()
        if section == "data" and _field in ("exclude", None):  # the Health tab's exclusions
            self._show_split()

    @Slot()
    def choose_folder(self) -> None:
        start = self.folder_edit.text() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", start)
        if folder:
            self.load_folder(folder)

    @Slot()
    def choose_csv(self) -> None:
        start = os.path.dirname(self.folder_edit.text()) or os.path.expanduser("~")
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a CSV dataset or an archive of a dataset folder", start,
            "Datasets (*.csv *.tsv *.zip *.tar *.tar.gz *.tgz *.tar.bz2 *.tar.xz);;All files (*)")
        if path:
            self.load_folder(path)

    def load_folder(self, folder: str, adopt_defaults: bool | None = None) -> None:
        """Scan ``folder`` (or a CSV dataset file) in the background; a scan already running
        is superseded.

        ``adopt_defaults``: fit the experiment to the data once the images' headers are read
        (input size, channels, no flip for digits or letters) and say so. None: only for a
        new dataset, a folder other than ``experiment.data.folder`` (opening the same one
        again, e.g. restoring the last session, changes nothing); True/False: always, never.
        """
        folder = typed_path(folder)  # quotes, a file:// URL pasted
        if not folder:
            self.message.show_message("Enter or choose a dataset folder first.", "warning")
            return
        self._adopt = adopt_defaults  # (said once listed: a typo keeps the advice shown)
        self.exclusions.expect(folder, self.experiment.data.folder)
        self._pending_folder = folder
        self.folder_edit.setText(folder)
        self.scan_progress.show_now(0, 0)  # busy until the scan reports a total
        self.progress.show()
        self.message.show_message(f"Scanning {folder}…")
        self._verify_runner.cancel_all()
        self._runner.submit(lambda state: list_dataset(folder, state))

    def is_scanning(self) -> bool:
        return self._runner.is_busy() or self._verify_runner.is_busy()

    def shutdown(self) -> None:
        self._runner.cancel_all()
        self._verify_runner.cancel_all()
        self.relist.shutdown()
        self.headers.cancel_all()
        self.settings.shutdown()
        self.health.shutdown()
        self.loader.shutdown()
        self.scan_progress.stop()
        stop_busy(self.progress)

    def show_class(self, name: str | None) -> None:
        """Show the thumbnails of class ``name`` (None: every class)."""
        self.images.show_class(name)

    # -- results ---------------------------------------------------------------------------
    @Slot(int, int, int)
    def _on_scan_progressed(self, job: int, done: int, total: int) -> None:
        self.scan_progress.report(done, total)

    @Slot(int, object)
    def _on_scan_finished(self, job: int, index: Any) -> None:
        """The listing is ready: show it now, check every image in the background."""
        self.index, self.checking = index, True  # (the Total line says it is checked)
        self.shown_folder = self._pending_folder
        self.advice.expect(self._pending_folder, self._adopt, self.experiment.data.folder)
        self.experiment.data.folder = self._pending_folder
        # Another folder: the exclusions made for the one before are cleared (and said).
        self.exclusions.dataset_opened(self._pending_folder, index)
        self.loader.clear_cache()  # a rescan may follow edits of the files
        self._show_index(index)
        n = len(index.samples) + len(index.val_samples or [])
        self.message.show_message(f"{counted(index.num_classes, 'class')}, {n:,} images listed; "
                                  f"checking that every image can be read…")
        self.dataset_listed.emit(index)
        self._verify(index)

    def _verify(self, index: Any) -> None:
        """Check every image of the listed ``index`` for readability, in the background."""
        n = len(index.samples) + len(index.val_samples or [])
        self.scan_progress.show_now(0, max(n, 1))
        self.progress.show()
        self._verify_runner.submit(lambda state: verify_dataset(index, state))

    @Slot(int, object)
    def _on_verify_finished(self, job: int, index: Any) -> None:
        self.scan_progress.stop()
        self.progress.hide()
        changed = bool(index.unreadable) or self.index is None
        self.index, self.checking = index, False
        if changed:  # counts, split and the grid change only when files were left out
            self._show_index(index)
        else:  # the Total line counted files: now they are images
            self.total_label.setText(total_text(index, self.experiment.data))
        try:
            index.check_trainable()
        except DataError as e:
            self.trainable = False
            self.message.show_message(blocked_text(index, e, self.experiment.data.folder),
                                      "warning")
        else:
            self.trainable = True
            self.message.show_message(*ready_text(index, self.current.experiment.data))
        self.current.set_dataset(index)  # the other tabs hear it from the Experiment's holder
        self.dataset_loaded.emit(index)

    @Slot(int, str)
    def _on_scan_errored(self, job: int, message: str) -> None:
        self.scan_progress.stop()
        self.progress.hide()
        self.exclusions.cancel()
        message = show_failed_scan(self, message)  # what stays shown (:mod:`.failed`)
        self.message.show_message(message, "error")
        self.scan_failed.emit(message)

    def _show_index(self, index: Any) -> None:
        counts = index.counts() if index is not None else {}
        empty = list(getattr(index, "empty_classes", []) or []) if index is not None else []
        self.class_table.set_rows(counts, empty)
        self.chart.set_counts(counts)
        self.images.set_index(index)
        self.exclusions.set_index(index)
        self.details.set_unreadable(index)
        self._show_split()
        self._start_summary(index)

    @Slot()
    def _on_table_selection_changed(self) -> None:
        rows = {i.row() for i in self.class_table.selectedIndexes()}
        if len(rows) == 1:
            self.show_class(self.class_table.item(rows.pop(), 0).text())

    @Slot()
    def _show_split(self) -> None:
        """Fill the Train/Val columns and the total and imbalance lines from the split."""
        self.total_label.setText(total_text(self.index, self.experiment.data, self.checking))
        split = split_counts(self.index, self.experiment.data)
        if split is None:
            self.class_table.set_split(None, None)
            self.settings.set_dataset(self.index, None, None)
            return
        train, train_counts, val_counts = split
        self.class_table.set_split(train_counts, val_counts)
        self.settings.set_dataset(self.index, train, train_counts)

    # -- image summary ---------------------------------------------------------------------
    def _start_summary(self, index: Any) -> None:
        paths = [p for p, _ in self.images.samples()] if index is not None else []
        self.image_summary = None
        self._update_suggestion()
        if not paths:
            self.advice.cancel()
        self.headers.start(self.experiment.data.folder, paths)

    @Slot(str, list, object)
    def _on_summary_finished(self, folder: str, lines: list, summary: Any) -> None:
        # Of the dataset shown before: dropped (a folder still being scanned is not yet the
        # experiment's, and may fail: a typo's scan keeps the one it would have replaced).
        if folder != self.experiment.data.folder:
            return
        self.image_summary = summary
        self.current.set_images_summary(folder, summary)  # (the Model tab's presets)
        adopted = self.advice.summary_ready(self.experiment, self.index, folder, summary)
        self.summary_finished.emit(list(lines))
        if adopted:
            if adopted[0]:  # (the tabs showing them heard the Experiment's events)
                self.experiment_changed.emit()
            self.defaults_adopted.emit(adopted[1])

    @Slot()
    def _update_suggestion(self) -> None:
        self.advice.update_suggestion(self.experiment, self.image_summary)

    # -- for tests and scripts -------------------------------------------------------------
    def class_counts(self) -> dict[str, int]:
        """What the table shows: class name -> number of images."""
        return self.class_table.column_values(1)

    def split_counts(self) -> tuple[dict[str, int | None], dict[str, int | None]]:
        """What the table shows of the split: (train counts, validation counts)."""
        return self.class_table.column_values(2), self.class_table.column_values(3)


def _main() -> int:
    def make() -> DataPanel:
        from workbench.core.data.demo import ensure_demo_dataset

        exp = Experiment()
        panel = DataPanel(exp)
        panel.load_folder(sys.argv[1] if len(sys.argv) > 1 else str(ensure_demo_dataset()))
        return panel

    return run_standalone(make, "Data")


if __name__ == "__main__":
    sys.exit(_main())
