"""The main window: owns the current Experiment and composes the panels.

Building it imports neither torch nor torchvision: the panels fill the parts that need them
once :mod:`workbench.qt.startup` has imported them in the background. Nor does it build
the tabs it does not show: they are built after the first frame (:mod:`.lazy_tabs`).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QUrl, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from workbench.core.data.archives import SUFFIXES as ARCHIVE_SUFFIXES
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment

from workbench.qt.closing import ask_stop_work, may_close
from workbench.qt.common import ElidedStatusBar, UrlDropTarget, local_paths, show_error
from workbench.qt.defaults import default_experiment as _default_experiment, saved_folder
from workbench.qt.evented import subscribe
from workbench.qt.experiment_files import ExperimentFiles
from workbench.qt.lazy_tabs import LazyTabs, Page, page_factory
from workbench.qt.missing_dataset import MissingDataset
from workbench.qt.session import size_to_screen
from workbench.qt.startup import after_first_paint, torch_loader
from workbench.qt.workers import await_workers

#: The tabs, in order: name (``window.<name>_panel``, ``workbench.qt.panels.<name>.panel``),
#: title, the panel's class, and whether the panel is built from the current Experiment.
TABS = (("data", "Data", "DataPanel", True),
        ("augment", "Augment", "AugmentPanel", True),
        ("model", "Model", "ModelPanel", True),
        ("train", "Train", "TrainPanel", True),
        ("tune", "Tune", "TunePanel", True),
        ("runs", "Runs", "RunsPanel", False),
        ("evaluate", "Evaluate", "EvaluatePanel", True),
        ("predict", "Predict", "PredictPanel", True))


class MainWindow(ExperimentFiles, UrlDropTarget, QMainWindow):
    """Tabs Data, Augment, Model, Train, Tune, Runs, Evaluate and Predict over one
    :class:`Experiment`.

    The window owns ``self.current``, the :class:`~workbench.core.events.CurrentExperiment`
    every Experiment panel is built from: a panel's edit is announced by the Experiment and
    heard by the others (the Data tab shows the input size the Model tab set); opening,
    resetting or tuning the experiment is one ``replaced`` event every panel hears. What a
    tab works out from the Experiment (the Data tab's scan, the Model tab's shapes) is
    published on ``self.current`` too, and the tabs that show it subscribe. The window
    connects only what happens beyond the Experiment: a run's bundle saved (for Evaluate
    and Predict), the runs list to refresh, and requests to change tab.

    Dropping a folder anywhere on the window loads it as the dataset; dropping image files,
    or a folder of images with no class folder, classifies them on the Predict tab.

    Signals
    -------
    experiment_replaced()
        A different Experiment was opened (or the current one replaced in place: tuned).
    """

    experiment_replaced = Signal()
    #: ``confirm_close(window) -> bool``: asked before closing mid-work (tests replace it).
    confirm_close = staticmethod(ask_stop_work)
    # ``window.train_panel``: the Train tab's panel, built when first asked for.
    data_panel, augment_panel, model_panel, train_panel = (Page(), Page(), Page(), Page())
    tune_panel, runs_panel, evaluate_panel, predict_panel = (Page(), Page(), Page(), Page())

    def __init__(self, experiment: Experiment | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment(experiment if experiment is not None
                                         else _default_experiment())
        self._shut_down = False
        self.tabs = LazyTabs()
        for name, title, cls, from_experiment in TABS:
            kwargs = {"experiment": self.current} if from_experiment else {}
            self.tabs.add_page(name, title, page_factory(
                f"workbench.qt.panels.{name}.panel", cls, **kwargs))
        self.tabs.page_built.connect(self._on_page_built)
        self.setCentralWidget(self.tabs)
        self.setStatusBar(ElidedStatusBar(self))  # a long message ends in "…", not mid-word
        self.setAcceptDrops(True)
        size_to_screen(self)  # a saved geometry, if any, replaces it (qt.session)

        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)
        subscribe(self, self.current.dataset_changed, self._on_dataset_loaded)
        self.missing_dataset = MissingDataset(self)  # (after: its line outlasts the above)
        torch_loader().failed.connect(self._on_torch_failed)
        self._init_files()  # the experiment file: Save's, the title's (qt.experiment_files)
        self._build_menus()
        self._update_title()
        self.tabs.activate()  # the tab shown now; the others after the first frame:
        for name, *_ in TABS:
            after_first_paint(lambda _name=name: self.tabs.page(_name), self)

    # -- the tabs' news ----------------------------------------------------------------------
    def _on_page_built(self, name: str, panel: QWidget) -> None:
        wire = getattr(self, f"_wire_{name}", None)
        if wire is not None:
            wire(panel)

    def _wire_data(self, panel: Any) -> None:
        panel.scan_failed.connect(self._on_scan_failed)
        panel.dataset_listed.connect(self.missing_dataset.on_listed)
        panel.relist.folder_gone.connect(self.missing_dataset.arm)  # gone while open

    def _wire_model(self, panel: Any) -> None:
        panel.model_changed.connect(self._on_model_changed)

    def _wire_train(self, panel: Any) -> None:
        panel.training_started.connect(self._on_training_started)
        panel.training_finished.connect(self._on_training_finished)
        panel.training_errored.connect(self._on_training_errored)
        panel.training_not_started.connect(lambda _message: self.statusBar().showMessage(
            "Training not started (the Train tab says why and what to do)"))
        panel.folder_missing.connect(lambda folder: self.statusBar().showMessage(
            f"Dataset folder missing: {folder}"))  # not the dataset line of before
        panel.bundle_saved.connect(self._on_bundle_saved)
        # A training doctor's fix that asks for the Augment or Model tab.
        panel.findings.open_requested.connect(
            lambda name: self.tabs.setCurrentWidget(getattr(self, f"{name}_panel")))

    def _wire_tune(self, panel: Any) -> None:
        # Every trial of a study is a run: a new row of the history.
        panel.trial_finished.connect(lambda _trial: self._refresh_runs())
        panel.experiment_changed.connect(self._on_tuned)
        from workbench.qt.panels.tune.study_link import show_run_in_runs  # a row's run
        panel.run_requested.connect(lambda path: show_run_in_runs(self, path))

    def _wire_runs(self, panel: Any) -> None:
        panel.open_bundle_requested.connect(lambda path: self._show_model("predict", path))
        panel.continue_requested.connect(self._continue_run)
        panel.evaluate_requested.connect(lambda path: self._show_model("evaluate", path))
        panel.runs_deleted.connect(self._on_runs_changed)
        panel.run_renamed.connect(lambda _run_dir: self._on_runs_changed([]))
        # Selected runs' curves go over the live plots (not the Train tab's own run).
        panel.overlay_requested.connect(lambda runs: self.train_panel.follower.set_overlays(
            runs, panel.selected_paths()))

    def _on_runs_changed(self, deleted: list) -> None:
        # Runs deleted (their folders) or one renamed ([]): the Train tab forgets a deleted
        # last run; Evaluate and Predict list the runs again (a tab built later lists them).
        for name in ("train", "evaluate", "predict"):
            panel = self.tabs.built_page(name)
            if panel is not None:
                panel.forget_runs(deleted) if name == "train" else panel.refresh_runs()

    def _wire_predict(self, panel: Any) -> None:
        panel.explain_requested.connect(self.explain_image)

    _wire_evaluate = _wire_predict  # from a mistake on the Evaluate tab to its explanation

    def _on_bundle_saved(self, path: str) -> None:
        # The run just trained is the model to measure and to try next.
        self.predict_panel.set_bundle(path)
        self.evaluate_panel.set_bundle(path)

    def _refresh_runs(self) -> None:
        runs = self.tabs.built_page("runs")  # one not built yet lists the runs when it is
        if runs is not None:
            runs.refresh()

    def is_training(self) -> bool:
        """Whether the Train tab's run is going on (closing asks about more: qt.closing)."""
        train = self.tabs.built_page("train")
        return train is not None and train.is_running()

    # -- menus ---------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, shortcut, slot in (
                ("&New experiment", QKeySequence.StandardKey.New, self.new_experiment),
                ("Open dataset &folder…", QKeySequence.StandardKey.Open,
                 lambda: self.data_panel.choose_folder()),
                ("Open &experiment…", None, self.open_experiment),
                ("Open recen&t", None, self._fill_recent),
                ("&Save experiment", QKeySequence.StandardKey.Save, self.save_experiment),
                ("Save experiment &as…", QKeySequence("Ctrl+Shift+S"),  # (Windows has none)
                 self.save_experiment_as),
                ("Load &bundle…", None, self._load_bundle),
                ("E&xport model…", None, self.export_model),
                ("Export &report…", None, self.export_report),
                (None, None, None),
                ("&Quit", QKeySequence.StandardKey.Quit, self.close)):
            if text is None:
                file_menu.addSeparator()
                continue
            if slot == self._fill_recent:  # a submenu, filled as it opens
                recent = file_menu.addMenu(text)
                recent.setToolTipsVisible(True)
                recent.aboutToShow.connect(lambda menu=recent: self._fill_recent(menu))
                continue
            action = QAction(text, self)
            if shortcut is not None:
                action.setShortcut(shortcut)
            action.triggered.connect(slot)
            file_menu.addAction(action)

    def export_report(self) -> int | None:
        """The run selected on the Runs tab (else the last one trained) as an HTML report."""
        selected = self.runs_panel.selected_records()
        run_dir = str(selected[0].path) if len(selected) == 1 else self.train_panel.last_run_dir
        if not run_dir:
            show_error(self, "No run", "Train a run, or select one on the Runs tab, first.")
            return None
        return self.runs_panel.sharing.export_report(run_dir)

    @property
    def experiment(self) -> Experiment:
        """The current Experiment (``self.current``'s)."""
        return self.current.experiment

    def _update_title(self) -> None:
        # "Workbench · expA.json* · seed-cnn · shapes": the file ("*" while it has changes),
        # the experiment's name and the dataset.
        folder = self.experiment.data.folder
        where = f" · {os.path.basename(folder.rstrip(os.sep))}" if folder else ""
        name = self.experiment.name.replace("[*]", "[ * ]")  # Qt's placeholder: one only
        first = f"{os.path.basename(self.file.path)}[*] · {name}" if self.file.path \
            else f"{name}[*]"
        self.setWindowTitle(f"Workbench · {first}{where}")
        self.setWindowModified(self.is_modified())

    # -- experiment ------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment,
                       source: str = "the experiment file") -> None:
        """Show ``experiment`` in every panel and scan its dataset folder; a folder that is
        missing (not the demo's: that is made again) is said, as the dataset of ``source``,
        and the folder then chosen replaces it, the settings kept (as at start-up)."""
        if self.is_training():
            show_error(self, "Training in progress",
                       "Stop the current training run before opening another experiment.")
            return
        self.current.replace(experiment)  # every panel hears it
        folder, missing = saved_folder(experiment.data.folder)
        if missing:
            self.show_missing_dataset(missing, source)
        elif folder:
            # Shown exactly as it was saved: its own folder adopts nothing from the data.
            self.scan_dataset(folder, adopt_defaults=False)

    def load_folder(self, folder: str) -> None:
        """Scan ``folder`` as the dataset (in the background) and show the Data tab."""
        self.tabs.setCurrentWidget(self.data_panel)
        self.data_panel.load_folder(folder)

    def scan_dataset(self, folder: str, adopt_defaults: bool) -> None:
        """Scan ``folder`` as the dataset without changing tabs; ``adopt_defaults``: a new
        dataset whose input size, channels and flip follow the data (see
        :meth:`DataPanel.load_folder`), else the experiment's settings stay as they are."""
        self.data_panel.load_folder(folder, adopt_defaults=adopt_defaults)

    def show_missing_dataset(self, folder: str, source: str = "the last session") -> None:
        """Say that ``folder`` (the dataset of ``source``) is gone; the folder the user
        then opens replaces it, the settings kept (:mod:`workbench.qt.missing_dataset`)."""
        self.missing_dataset.show(folder, source)

    def _show_model(self, name: str, path: str) -> None:
        """Show the ``evaluate`` or ``predict`` tab with the model at ``path`` chosen."""
        getattr(self, f"{name}_panel").set_bundle(path)
        self.tabs.setCurrentWidget(getattr(self, f"{name}_panel"))

    def _continue_run(self, run_dir: str) -> None:
        self.tabs.setCurrentWidget(self.train_panel)
        self.train_panel.continue_run(run_dir)

    @Slot()
    def export_model(self):
        """Open the Export dialog for the Predict tab's bundle (asking for one when there is
        none yet); returns the dialog."""
        from workbench.qt.export_dialog import open_export_dialog

        return open_export_dialog(self, self.predict_panel.bundle_path)

    @Slot(str, str)
    def explain_image(self, bundle_path: str, image_path: str):
        """Open the Explain dialog for one image and bundle; returns the dialog."""
        from workbench.qt.panels.explain.panel import ExplainDialog

        dialog = ExplainDialog(bundle_path, image_path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    @Slot()
    def _load_bundle(self) -> None:
        self.tabs.setCurrentWidget(self.predict_panel)
        self.predict_panel.choose_bundle()

    # -- panel news ------------------------------------------------------------------------
    @Slot(object)
    def _on_dataset_loaded(self, index) -> None:
        # The tabs hear the scan from self.current as this does: only the status is ours.
        self._update_title()
        # The Data tab's total: its test part counted in (index.unreadable holds its files
        # too), and each part's images, as the Total line says them.
        from workbench.qt.panels.data.stats import parts_text

        total = sum(index.counts().values()) + len(index.test_samples or [])
        n = index.num_classes
        self.statusBar().showMessage(f"Dataset {index.root}: {n} class{'es' if n != 1 else ''}, "
                                     f"{total:,} images{parts_text(index)}, "
                                     f"{len(index.unreadable):,} unreadable")

    @Slot(str)
    def _on_torch_failed(self, message: str) -> None:
        show_error(self, "PyTorch could not be loaded",
                   f"Training, previews and prediction are unavailable: {message}. "
                   f"Reinstall the app (scripts/run) and start it again.")

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self.statusBar().showMessage(message)

    @Slot()
    def _on_model_changed(self) -> None:
        n = len(self.experiment.model.layers)
        self.statusBar().showMessage(f"Network: {n} layer{'s' if n != 1 else ''}", 5000)

    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        self._update_title()
        self.experiment_replaced.emit()

    def _on_experiment_changed(self, _section: str, _field: str | None) -> None:
        self._update_title()  # the folder's or the name's, and "*": changed since saved

    @Slot()
    def _on_tuned(self) -> None:
        # Every tab heard the tuned experiment from it ("replaced"): only the status is ours.
        self.statusBar().showMessage("Applied the best trial's parameters", 10000)

    @Slot()
    def _on_training_started(self) -> None:
        self.statusBar().showMessage("Training…")

    @Slot(object)
    def _on_training_finished(self, summary: dict) -> None:
        self.statusBar().showMessage("Training stopped" if summary.get("stopped")
                                     else "Training finished", 10000)
        self._refresh_runs()  # a finished run is a new row of the history

    @Slot(str)
    def _on_training_errored(self, message: str) -> None:
        # One short line: the Train tab says the whole of it (a diverged run's message
        # used to be said a third time here, in full, as "Training failed: ...").
        what = message.split(":", 1)[0].strip() if ":" in message[:80] else ""
        what = what.removeprefix("training ").removeprefix("Training ")
        self.statusBar().showMessage(f"Training stopped: {what or 'failed'} (the Train tab "
                                     f"says why and what to do)")

    # -- drops -----------------------------------------------------------------------------
    def handle_drop(self, urls: list[QUrl]) -> bool:
        """One folder (or CSV file, or archive of one): the new dataset. Image files, or one
        folder of images with no class folder (new photos): classify them on the Predict
        tab, the dataset kept open, and say so."""
        from workbench.core.data.scan import unsorted_images  # (not at start: it needs PIL)

        paths = local_paths(urls)
        if not paths:
            return False
        one = paths[0] if len(paths) == 1 else ""
        photos = unsorted_images(one) if one else []  # the scan would find no class folder
        if one and not photos and (os.path.isdir(one) or  # a CSV dataset, an archive
                                   one.lower().endswith((".csv", ".tsv", *ARCHIVE_SUFFIXES))):
            self.load_folder(one)
            return True
        self.tabs.setCurrentWidget(self.predict_panel)
        self.predict_panel.add_images(paths)
        if photos:
            n, name = len(photos), os.path.basename(one.rstrip(os.sep))
            kept = os.path.basename(self.experiment.data.folder.rstrip(os.sep))
            # Listed, not classified, until a model is chosen (the rows say so too).
            doing = "classifying" if self.predict_panel.bundle_path else "listing"
            self.statusBar().showMessage(
                f"{name}/ has no class folders: {doing} its {n} image"
                f"{'s' if n != 1 else ''} on the Predict tab"
                f"{f' (the dataset {kept} stays open)' if kept else ''}. To train on them, "
                f"sort them into a sub-folder per class and open {name}/ on the Data tab."
                + ("" if self.predict_panel.bundle_path else
                   " Choose a model there to classify them."))
        return True

    # -- closing ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop training cooperatively, cancel scans and wait for every worker thread."""
        if self._shut_down:
            return
        self._shut_down = True
        for name in ("data", "augment", "predict", "evaluate", "runs", "train", "tune"):
            panel = self.tabs.built_page(name)  # a tab never built has nothing to stop
            if panel is not None:
                panel.shutdown()
        await_workers()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not may_close(self):
            return event.ignore()  # "Keep training"
        if self.is_training():
            self.statusBar().showMessage("Stopping the training run…")
        self.shutdown()
        super().closeEvent(event)
