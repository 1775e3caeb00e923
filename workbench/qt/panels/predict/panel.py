"""Predict panel: drop images (files or folders), paste or open them, and see each one's
top-5 classes as probability bars.

The model is a saved run's bundle (the combo lists the runs that have one, again as the tab is
shown: :mod:`.follow`), one loaded with "Load bundle…", or the last run's; until the user
chooses one, the newest saved run trained on the dataset's classes (the rows say "Choosing a
model…" until the dataset is scanned). A model file moved or deleted since leaves the rows
with a result as they are; the others wait for another model. Images are
classified off the GUI thread, 64 at a time: rows fill in as batches finish, a progress bar
and Cancel show while work is pending, and an image that cannot be read shows its reason in
its own row while the others are classified. Results can be sorted, filtered by predicted
class and confidence, and exported to CSV (the layout of ``workbench predict ... --csv OUT``).

Images dropped while torch is still being imported at start-up (:mod:`workbench.qt.startup`)
wait in their rows and are classified when it is: the pool threads never import it first.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from workbench.core.events import CurrentExperiment

from workbench.qt.common import UrlDropTarget, image_files, local_paths, run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.keyboard import menu_keys
from workbench.qt.model_classes import ask_bundle, mismatch_warning
from workbench.qt.session_state import exists
from workbench.qt.startup import LOADING_TEXT, torch_loader
from workbench.qt.thumbnails import ThumbnailLoader
from workbench.qt.workers import TaskRunner, TaskState, describe_exception
from workbench.qt.panels.predict.delegate import THUMB
from workbench.qt.panels.predict.filters import FilterActions
from workbench.qt.panels.predict.follow import RunsFollower
from workbench.qt.panels.predict.intake import mark_asked, sort_dropped
from workbench.qt.panels.predict.jobs import (CHOOSING_ROW, CHOOSING_TEXT, NO_MODEL_ROW,
                                              NO_MODEL_TEXT, PredictorCache, cancelled_text,
                                              classify_in_batches, finished_text, images,
                                              model_error, model_gone, pasted_paths)
from workbench.qt.panels.predict.layout import ask_images
from workbench.qt.panels.predict.model import (CANCELLED, DONE, QUEUED, TOP_K, WAITING,
                                               PredictionFilter, PredictionItem,
                                               PredictionModel)


class _BatchSignals(QObject):
    # Emitted from the pool thread; delivered (queued) on the GUI thread.
    batch_ready = Signal(int, int, object)  # group id, start, [(top, error), ...]


class PredictPanel(FilterActions, UrlDropTarget, QWidget):
    """Classifies dropped, pasted or opened images with a trained bundle.

    Signals
    -------
    bundle_changed(path)
        A bundle was set (from training, the run combo or "Load bundle…").
    predictions_finished(paths)
        The images of one request (a drop, a paste, an "Open") got their results or errors,
        or were cancelled.
    explain_requested(bundle_path, image_path)
        "Explain…" was chosen on a row.
    """

    bundle_changed = Signal(str)
    predictions_finished = Signal(list)
    explain_requested = Signal(str, str)

    def __init__(self, bundle: str | None = None, parent: QWidget | None = None,
                 experiment: CurrentExperiment | None = None):
        super().__init__(parent)
        self.bundle_path = ""
        self._auto = True  # the model in use is the panel's own choice, not the user's
        self._cache = PredictorCache()
        self._groups: dict[int, list[PredictionItem]] = {}  # request -> its items
        self._job_group: dict[int, int] = {}
        self._next_group = 0
        self._done = self._total = 0
        self._shut_down = False
        self._drop_note = ""  # "8 already listed…" of the last request, said when it is done
        self._busy_note = ""  # "8 already being classified": said until that work is done
        self._experiment = experiment
        self.ask_images = ask_images  # (parent, start folder) -> paths; tests replace it
        self._image_folders: list[str] = []  # where "Open images…" may start, latest first
        self._runner = TaskRunner(self, supersede=False)
        self._runner.finished.connect(self._on_job_finished)
        self._runner.errored.connect(self._on_job_errored)
        self._signals = _BatchSignals()
        self._signals.batch_ready.connect(self._on_batch_ready)
        self.loader = ThumbnailLoader(self, size=THUMB, threads=1)
        self.model = PredictionModel(self.loader, self)
        self.proxy = PredictionFilter(self)
        self.proxy.setSourceModel(self.model)
        self.setAcceptDrops(True)
        self._build()
        self.follower = RunsFollower(self)  # lists the runs now, again as the tab is shown
        if bundle:
            self.set_bundle(bundle)
        if experiment is not None:  # "Open images…" starts in the dataset's folder
            subscribe(self, experiment.dataset_changed, self._on_dataset_scanned, replay=True)
        self._show_no_model()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        from workbench.qt.panels.predict.layout import build_panel

        build_panel(self)
        menu_keys(self.view)  # Shift+F10 opens a row's menu (Explain…, Copy path)

    # -- bundle ----------------------------------------------------------------------------
    def set_bundle(self, path: str) -> None:
        """Use the bundle at ``path``; images already shown are classified again with it."""
        self._auto = False
        self._use_bundle(path)

    @property
    def model_chosen(self) -> bool:
        """Whether the model in use is the user's choice, not the panel's own."""
        return not self._auto and bool(self.bundle_path)

    def restore_bundle(self, path: str) -> None:
        """Use the last session's model unless the user has chosen one since."""
        if self._auto or not self.bundle_path:
            self.set_bundle(path)

    def _choose_default(self) -> None:
        """While the user has chosen no model, use :meth:`.RunChooser.default_path`'s (the
        newest that fits the dataset): dropped images are then classified at once."""
        path = self.model_combo.default_path() if self._auto else ""
        if path and path != self.bundle_path:
            self._use_bundle(path, " (the newest saved run trained on these classes; choose "
                                   "another above)")
        self._show_no_model()

    def _choosing(self) -> bool:
        """Whether the panel may still choose a model itself: none is in use, runs are
        listed, and the dataset (its folder is there) has not been scanned yet."""
        exp = self._experiment
        if not self._auto or self.bundle_path or exp is None or exp.dataset is not None:
            return False
        folder = exp.experiment.data.folder
        return self.model_combo.has_runs() and bool(folder) and exists(folder)

    def _show_no_model(self) -> None:
        """While no model is in use: say above and in the waiting rows whether the panel is
        still choosing one (:meth:`_choose_default`) or the user has to."""
        if self.bundle_path:
            return
        choosing = self._choosing()
        self.bundle_label.show_message(CHOOSING_TEXT if choosing else NO_MODEL_TEXT)
        self._set_pending([i for i in self.model.items if i.status == WAITING], WAITING,
                          CHOOSING_ROW if choosing else NO_MODEL_ROW)

    def _use_bundle(self, path: str, why: str = "") -> None:
        self.bundle_path, self._drop_note = str(path), ""
        self.bundle_label.show_message(f"Using {self.bundle_path}{why}")  # after "Model:"
        self.model_combo.select(self.bundle_path)
        self._update_classes_warning()
        self.bundle_changed.emit(self.bundle_path)
        if self.model.items:
            self._drop_note = self._unfilter_other_classes()
            self.cancel(quiet=True)
            self._predict(list(self.model.items))

    def _on_dataset_scanned(self, index) -> None:
        self.set_dataset_folder(index.root)
        self.model_combo.set_dataset_classes(index.classes)
        self._update_classes_warning()
        self._choose_default()

    def _update_classes_warning(self) -> None:
        """Say, above the images, when the model's classes are not the loaded dataset's."""
        text = mismatch_warning(self.model_combo.bundle_classes(), self.model_combo.dataset_classes)
        self.classes_warning.show_message(text, "warning")
        self.classes_warning.setVisible(bool(text))

    def refresh_runs(self) -> None:
        """List the saved runs in the model chooser again, off the GUI thread (:mod:`.follow`)."""
        self.follower.refresh()

    @Slot()
    def choose_bundle(self) -> None:
        path = ask_bundle(self, self.bundle_path)
        if path:
            self.set_bundle(path)

    # -- images ----------------------------------------------------------------------------
    @property
    def rows(self) -> list[PredictionItem]:
        """Every image of the panel, in the order added (whatever the sort and filter)."""
        return list(self.model.items)

    def set_dataset_folder(self, path: str) -> None:
        """The current dataset (its folder, or its CSV file): "Open images…" starts there,
        until images are opened from another folder."""
        path = str(path)
        self._remember_folder(os.path.dirname(path) if os.path.isfile(path) else path)

    def _remember_folder(self, folder: str) -> None:
        if folder:
            self._image_folders = [folder] + [f for f in self._image_folders if f != folder][:1]

    def images_start_folder(self) -> str:
        """Where "Open images…" starts: the dataset folder or the folder images were last
        opened from, whichever came last (the other if that one is gone), else home."""
        for folder in self._image_folders:
            if os.path.isdir(folder):
                return folder
        return os.path.expanduser("~")

    @Slot()
    def choose_images(self) -> None:
        paths = self.ask_images(self, self.images_start_folder())
        if paths:
            self._remember_folder(os.path.dirname(os.path.abspath(paths[0])))
            self.add_images(paths)

    def add_images(self, paths: Iterable[str]) -> list[PredictionItem]:
        """Add one row per image (folders expand to their images) and classify them; an
        image already listed keeps its row, classified again only when the model or the
        file changed since (:mod:`.intake`). Returns the rows of the images, new or not."""
        files = image_files([str(p) for p in paths])
        if not files:
            self.status.show_message("No images there: drop image files or folders that "
                                     "hold images.", "warning")
            return []
        self.hint.hide()
        self.view.show()
        dropped = sort_dropped(self.model, files, self.bundle_path)
        self._drop_note, self._busy_note = dropped.note(), dropped.busy_note()
        new = self.model.add(dropped.new)
        if not new and not dropped.again:
            self.status.show_message(dropped.nothing_text(),
                                     "warning" if dropped.model_gone else "info")
        self._predict(dropped.again + new)
        return dropped.kept + dropped.pending + dropped.again + new

    def handle_drop(self, urls: Iterable[QUrl]) -> list[PredictionItem]:
        """What a drop does: classify the local files (and folders) among ``urls``."""
        return self.add_images(local_paths(urls))

    @Slot()
    def paste(self) -> list[PredictionItem]:
        """Classify what the clipboard holds: image data, file URLs or file paths."""
        try:
            paths = pasted_paths(QApplication.clipboard().mimeData())
        except Exception as e:  # noqa: BLE001  (an unwritable cache folder, say)
            self.status.show_message(f"Cannot paste: {describe_exception(e)}", "error")
            return []
        if not paths:
            self.status.show_message("The clipboard holds no image or image files: copy an "
                                     "image or some files, then paste again.", "warning")
            return []
        return self.add_images(paths)

    @Slot()
    def clear(self) -> None:
        self.cancel(quiet=True)
        self.model.clear()
        self._refresh_classes()
        self.view.hide()
        self.hint.show()
        self.status.show_message("")

    # -- prediction ------------------------------------------------------------------------
    def _predict(self, items: list[PredictionItem]) -> None:
        if self._shut_down or not items:
            return
        if not self.bundle_path:
            self._set_pending(items, WAITING, CHOOSING_ROW if self._choosing() else NO_MODEL_ROW)
            return
        if model_gone(self.bundle_path):  # nothing to classify with: the rows wait
            above, in_row = model_error(self.bundle_path, "")
            self._set_pending(items, WAITING, in_row)
            self.bundle_label.show_message(above, "error")
            note = f"; {self._drop_note}" if self._drop_note else ""
            self.status.show_message(f"{images(len(items))} not classified: the model is gone "
                                     f"(choose another above){note}", "warning")
            return
        loader = torch_loader()
        if not loader.is_ready():
            # The pool thread must not be the first to import torch: classify once it is.
            if loader.state == "failed":
                for item in items:
                    item.set_result([], f"PyTorch could not be loaded ({loader.error})")
                self.model.items_changed(items)
                return
            if loader.is_pending():
                self._set_pending(items, "waiting", f"{LOADING_TEXT} This image is "
                                                    f"classified when it has loaded.")
            loader.call_when_ready(
                lambda: self._predict([i for i in items if i in self.model.items]), self)
            return
        self._set_pending(items, QUEUED, "Classifying…")
        mark_asked(items, self.bundle_path)
        self._next_group += 1
        group = self._next_group
        self._groups[group] = list(items)
        self._total += len(items)
        self._show_progress()
        bundle, paths, signals = self.bundle_path, [i.path for i in items], self._signals

        def on_batch(start: int, results: list) -> None:
            try:
                signals.batch_ready.emit(group, start, results)
            except RuntimeError:  # the panel went away while the job ran
                pass

        def job(state: TaskState) -> int:
            return classify_in_batches(self._cache, bundle, paths, TOP_K, state, on_batch)

        self._job_group[self._runner.submit(job)] = group

    def _set_pending(self, items: list[PredictionItem], status: str, message: str) -> None:
        for item in items:
            item.set_pending(status, message)
        self.model.items_changed(items)

    @Slot(int, int, object)
    def _on_batch_ready(self, group: int, start: int, results: list) -> None:
        items = self._groups.get(group)
        if items is None:
            return  # cancelled or cleared meanwhile
        done = items[start:start + len(results)]
        for item, (top, error) in zip(done, results):
            item.set_result(top, error)
        self.model.items_changed(done)
        self._done += len(done)
        self._show_progress()

    @Slot(int, object)
    def _on_job_finished(self, job: int, _count: object) -> None:
        group = self._job_group.pop(job, None)
        if group is not None and group in self._groups:
            self._finish_group(group)

    @Slot(int, str)
    def _on_job_errored(self, job: int, message: str) -> None:
        group = self._job_group.pop(job, None)
        if group is None or group not in self._groups:
            return
        left = [i for i in self._groups[group] if i.status == QUEUED]
        above, in_row = model_error(self.bundle_path, message)
        gone = model_gone(self.bundle_path)
        for item in left:
            if gone:  # the rows wait for another model, as a drop's would
                item.set_pending(WAITING, in_row)
            else:
                item.set_result([], in_row)
            item.classified_with = None  # the model failed, not the image: a drop retries
        self.model.items_changed(left)
        self.bundle_label.show_message(above, "error")
        self._finish_group(group)

    def _finish_group(self, group: int) -> None:
        items = self._groups.pop(group)
        cleared = self._refresh_classes()
        if not self._groups:
            self._done = self._total = 0
            self._busy_note = ""
            self._show_progress()
            note = "; ".join(n for n in (self._drop_note, cleared) if n)
            self.status.show_message(*finished_text(self.model.items, note, self.bundle_path))
        self.predictions_finished.emit([i.path for i in items])
        if not self._groups:
            self.follower.check_model()  # saved again while these were classified?

    @Slot()
    def cancel(self, quiet: bool = False) -> None:
        """Stop the pending work: images not classified yet are marked "cancelled"."""
        self._runner.cancel_all()
        self._job_group.clear()
        groups, self._groups = self._groups, {}
        self._done = self._total = 0
        self._busy_note = ""
        self._show_progress()
        left = [i for items in groups.values() for i in items if i.status == QUEUED]
        for item in left:
            item.set_pending(CANCELLED, "Cancelled: not classified. Drop it again to "
                                        "classify it.")
        self.model.items_changed(left)
        if left and not quiet:
            self.status.show_message(cancelled_text(len(left)), "warning")
        self._refresh_classes()
        for items in groups.values():
            self.predictions_finished.emit([i.path for i in items])

    def _show_progress(self) -> None:
        busy = self._total > 0
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            note = "; ".join(n for n in (self._busy_note, self._drop_note) if n)
            note = f" ({note})" if note else ""
            if self._done < self._total:  # the last results in: the end line says so next
                self.status.show_message(
                    f"Classifying {images(self._total - self._done)}…{note}")
            self.progress.setRange(0, self._total)
            # Last: a slot on valueChanged may cancel, and its message must stand.
            self.progress.setValue(self._done)

    def is_busy(self) -> bool:
        return bool(self._groups)

    # -- explain ---------------------------------------------------------------------------
    def context_menu(self, item: PredictionItem) -> QMenu:
        """The menu of one row: Explain… (needs a model) and Copy path."""
        from workbench.qt.panels.predict.layout import row_menu

        return row_menu(self, item, can_explain=bool(self.bundle_path) and item.status == DONE)

    def request_explain(self, image_path: str) -> None:
        """Ask for an explanation of ``image_path`` by the current model."""
        if self.bundle_path:
            self.explain_requested.emit(self.bundle_path, image_path)

    def shutdown(self) -> None:
        self._shut_down = True  # torch becoming ready later must not start a prediction
        self._runner.cancel_all()
        self.follower.shutdown()
        self.loader.shutdown()


def _main() -> int:
    bundle = sys.argv[1] if len(sys.argv) > 1 else None
    return run_standalone(lambda: PredictPanel(bundle), "Predict")


if __name__ == "__main__":
    sys.exit(_main())
