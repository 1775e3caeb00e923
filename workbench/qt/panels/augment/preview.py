"""The Augment panel's live preview: 16 independent draws of the training pipeline next to
the original and the evaluation view, and one training batch as the model sees it.

The work (:mod:`workbench.core.data.augment.preview`) runs off the GUI thread through a
superseding :class:`~workbench.qt.workers.TaskRunner`: a new request cancels the stale one,
whose result is dropped. Requests are debounced (~30 ms) so dragging a spin box does not
queue work.

The preview needs torch and torchvision, imported in the background at start-up
(:mod:`workbench.qt.startup`): until then the original image is shown, requests wait, and
the first preview is drawn when the import is done. The pool threads never import torch
themselves: jobs are submitted only once it is loaded.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, image_file_filter
from workbench.qt.panels.augment.tiles import (ImageCaption, TileCaption, batch_note,
                                               sample_image, tile_label)
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.workers import TaskRunner

TILES = 16
DEBOUNCE_MS = 30
SAMPLE = "(built-in sample image)"


def _named(exp: Any, job: Any) -> Any:
    """``job`` as a task whose invalid-step error names the step as the list shows it
    ("RandomResizedCrop (step 1) → scale"), not by its path in the experiment."""
    def run(_state: Any) -> Any:
        from workbench.core.data.augment.naming import describe_spec_error
        from workbench.core.errors import SpecError

        try:
            return job()
        except SpecError as e:
            raise WorkbenchError(describe_spec_error(e, exp.augment.transforms)) from None
    return run


class AugmentPreview(QWidget):
    """Live preview of an experiment's augmentation.

    Signals
    -------
    preview_updated()
        New tiles are shown (draws tab) or a new batch (batch tab).
    """

    preview_updated = Signal()

    def __init__(self, experiment: Any, parent: QWidget | None = None):
        super().__init__(parent)
        # The holder of the current Experiment (the Augment panel's): read anew each time.
        self.current = CurrentExperiment.of(experiment)
        self._torch = False  # torch is imported: previews may be computed
        self._shut_down = False
        self.index: Any = None
        self.image = sample_image()
        self.image_name = "built-in sample"
        self.image_class = ""  # the image's class, when it came from the dataset
        #: The file's own ``((width, height), mode)``, when the image came from a file.
        self.file_header: tuple[tuple[int, int], str] | None = None
        self.seed = 0
        self._rng = random.Random(0)
        #: ``(class name, image path)`` the last session left chosen (:mod:`.state`): taken
        #: by the first pick of a dataset image, where that class and image are still there.
        self.wanted: tuple[str, str] | None = None
        self.runner = TaskRunner(self, supersede=True)
        self.runner.finished.connect(self._on_finished)
        self.runner.errored.connect(self._on_errored)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit)

        self.class_combo = QComboBox()
        self.class_combo.addItem(SAMPLE)
        self.class_combo.setToolTip("Class to draw the preview image from.")
        self.class_combo.activated.connect(lambda _: self.pick_random())
        self.random_button = QPushButton("Random image")
        self.random_button.setToolTip("Show another image of the chosen class.")
        self.random_button.clicked.connect(self.pick_random)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._choose_file)
        self.reroll_button = QPushButton("Re-roll")
        self.reroll_button.setToolTip("New random draws of the same image.")
        self.reroll_button.clicked.connect(self.reroll)
        top = QHBoxLayout()
        image_label = QLabel("Image:")
        name_field(image_label, self.class_combo, "Image class")  # not its value alone
        for w in (image_label, self.class_combo, self.random_button, self.open_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.reroll_button)

        self.original = tile_label()
        self.eval_tile = tile_label()
        self.tiles = [tile_label() for _ in range(TILES)]
        # Which image the draws are made of ("any class" picks one at random).
        self.original_caption = ImageCaption()
        side = QVBoxLayout()
        for text, lab in (("Original", self.original), ("Evaluation view", self.eval_tile)):
            side.addWidget(QLabel(text))
            side.addWidget(lab)
            if lab is self.original:
                side.addWidget(self.original_caption)
        side.addStretch(1)
        grid = QGridLayout()
        grid.setSpacing(3)
        grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        for i, lab in enumerate(self.tiles):
            grid.addWidget(lab, i // 4, i % 4)
        draws = QWidget()
        row = QHBoxLayout(draws)
        row.addLayout(side)
        row.addSpacing(8)
        row.addLayout(grid)
        row.addStretch(1)

        self.batch_tiles = [tile_label() for _ in range(TILES)]
        self.batch_texts = [TileCaption() for _ in range(TILES)]
        batch_grid = QGridLayout()
        batch_grid.setSpacing(2)
        for i, (lab, text) in enumerate(zip(self.batch_tiles, self.batch_texts)):
            text.setStyleSheet("font-size: 9pt;")
            batch_grid.addWidget(lab, (i // 4) * 2, i % 4, Qt.AlignmentFlag.AlignCenter)
            batch_grid.addWidget(text, (i // 4) * 2 + 1, i % 4)
        self.batch_note = QLabel("")
        self.batch_note.setWordWrap(True)
        batch = QWidget()
        bl = QVBoxLayout(batch)
        bl.addWidget(self.batch_note)
        bl.addLayout(batch_grid)
        bl.addStretch(1)

        self.tabs = QTabWidget()
        # The tiles keep their size; on a short screen the grids scroll rather than making
        # the window taller than the screen.
        for page, title in ((draws, f"{TILES} draws"), (batch, "Batch")):
            scroll = QScrollArea()
            scroll.setWidget(page)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it shows no focus: no Tab stop
            self.tabs.addTab(scroll, title)
        self.tabs.currentChanged.connect(lambda _: self.schedule())
        self.message = MessageLabel("")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self._show_original()
        # Never import torch first in a pool thread: a first import of torchvision there
        # fails half-way (torch's lazy submodules are not thread-safe). Jobs wait for it.
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.message.show_message(f"{LOADING_TEXT} The preview appears when it has "
                                      f"loaded.")

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.message.show_message("")
        if self.index is not None and self.index.samples:
            self.pick_random()
        else:
            self.schedule()

    @property
    def experiment(self) -> Any:
        return self.current.experiment

    # -- inputs ----------------------------------------------------------------------------

    def set_index(self, index: Any) -> None:
        """The loaded dataset (``classes``, ``samples``): preview images come from it."""
        self.index = index
        self.class_combo.clear()
        self.class_combo.addItem("any class")
        for name in getattr(index, "classes", []) or []:
            self.class_combo.addItem(name)
        if index is None or not index.samples:
            self.class_combo.clear()
            self.class_combo.addItem(SAMPLE)
        self.pick_random()

    def set_image(self, image: Any, name: str = "",
                  header: tuple[tuple[int, int], str] | None = None,
                  class_name: str = "") -> None:
        """Preview ``image`` (a PIL image); ``header`` is the file's own ``((width,
        height), mode)`` when it was decoded from a file (perhaps at a reduced size, in
        another mode); ``class_name`` its class when it came from the dataset."""
        self.image, self.image_name, self.file_header = image, name, header
        self.image_class = class_name
        self._show_original()
        self.schedule()

    @Slot()
    def pick_random(self) -> None:
        """A random training image of the chosen class (the built-in one without data)."""
        if self.index is None or not self.index.samples:
            self.set_image(sample_image(), "built-in sample")
            return
        if not self._torch:
            return  # _on_torch_ready picks one
        if self._take_wanted():
            return
        want = self.class_combo.currentIndex() - 1  # 0 is "any class"
        pool = [s for s in self.index.samples if want < 0 or s[1] == want] or \
            self.index.samples
        path, label = self._rng.choice(pool)
        classes = list(getattr(self.index, "classes", []) or [])
        self.open_path(path, classes[label] if 0 <= label < len(classes) else "")

    def _take_wanted(self) -> bool:
        """Choose the class and open the image of :attr:`wanted` (then forgotten); False
        when none is wanted or the image is no longer in the dataset."""
        wanted, self.wanted = self.wanted, None
        if not wanted:
            return False
        class_name, path = wanted
        i = self.class_combo.findText(class_name) if class_name else -1
        if i > 0:
            self.class_combo.setCurrentIndex(i)
        classes = list(getattr(self.index, "classes", []) or [])
        label = next((lbl for p, lbl in self.index.samples if p == path), None)
        return label is not None and self.open_path(
            path, classes[label] if 0 <= label < len(classes) else "")

    def open_path(self, path: str, class_name: str = "") -> bool:
        """Preview the image file ``path`` (of class ``class_name`` when it came from the
        dataset); False when it cannot be read (the message line says why) or, while torch
        is still loading, when it opens later, once it has."""
        if not self._torch:
            when_torch_ready(lambda: self.open_path(path, class_name), self)
            return False
        from workbench.core.data.augment.preview import open_preview_image
        from workbench.core.data.summary import image_header

        try:
            img = open_preview_image(path, self.experiment)
        except WorkbenchError as e:
            self.message.show_message(str(e), "error")
            return False
        self.set_image(img, path, image_header(path), class_name)
        return True

    @Slot()
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Preview an image", "",
                                              image_file_filter())
        if path:
            self.open_path(path)

    @Slot()
    def reroll(self) -> None:
        self.seed += 1
        self.schedule()

    # -- work ------------------------------------------------------------------------------
    def schedule(self) -> None:
        """Refresh after a short pause (edits in quick succession make one request)."""
        self._timer.start()

    def _submit(self) -> None:
        if not self._torch or self._shut_down:
            return  # _on_torch_ready schedules the first preview
        exp = self.experiment.copy()
        seed, image = self.seed, self.image
        if self.tabs.currentIndex() == 1:
            index = self.index
            if index is None or not index.samples:
                self.batch_note.setText("Open a dataset to see a training batch.")
                return
            from workbench.core.data.augment.preview import training_batch

            # Drawn as training draws it: its split, and its sampler when balancing.
            self.runner.submit(_named(exp, lambda: ("batch", exp.data.balance, training_batch(
                exp, index, n=min(TILES, exp.data.batch_size), seed=seed))))
        else:
            from workbench.core.data.augment.preview import augment_tiles, eval_view

            self.runner.submit(_named(exp, lambda: (
                "draws", augment_tiles(exp, image, TILES, seed), eval_view(exp, image))))

    def _show_original(self) -> None:
        arr = np.asarray(self.image)
        self.original.show_array(arr)
        self.original_caption.show_image(self.image_name, self.image_class)
        # The file's own size and mode (a 16-bit, CMYK or palette file is converted to
        # RGB or L), and the size a large image is decoded at (JPEG draft mode).
        (w, h), mode = self.image.size, self.image.mode
        (fw, fh), file_mode = self.file_header or ((w, h), mode)
        text = f"{fw}x{fh}, {file_mode}"
        if file_mode != mode:
            text += f", converted to {mode}"
        if (fw, fh) != (w, h):
            text += f"; decoded at {w}x{h} for the preview"
        self.original.setToolTip(f"{self.image_name} ({text})")

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        self.message.show_message("")
        if result[0] == "draws":
            _, tiles, ev = result
            for lab, arr in zip(self.tiles, tiles):
                lab.show_array(arr)
            self.eval_tile.show_array(ev)
        else:
            _, balance, items = result
            note, tip = batch_note(len(items), self.experiment.data.batch_size, balance)
            self.batch_note.setText(note)
            self.batch_note.setToolTip(tip)
            for i, (lab, text) in enumerate(zip(self.batch_tiles, self.batch_texts)):
                lab.show_array(items[i][0] if i < len(items) else None)
                text.setText(items[i][1] if i < len(items) else "")
                text.setToolTip(text.text())
        self.preview_updated.emit()

    @Slot(int, str)
    def _on_errored(self, job_id: int, message: str) -> None:
        self._clear_tiles()
        self.message.show_message(f"Cannot preview: {message}", "error")

    def mark_stale(self, reason: str) -> None:
        """The pipeline cannot be built (``reason``): clear the draws and the batch, which
        show an earlier pipeline, and say why until the next preview."""
        self._timer.stop()
        self.runner.cancel_all()
        self._clear_tiles()
        self.message.show_message(f"No preview until the pipeline is fixed: {reason}",
                                  "error")

    def _clear_tiles(self) -> None:
        for lab in [*self.tiles, self.eval_tile, *self.batch_tiles]:
            lab.show_array(None)
        for text in self.batch_texts:
            text.setText("")
        self.batch_note.setText("")

    def shutdown(self) -> None:
        self._shut_down = True  # torch becoming ready later must not start a preview
        self._timer.stop()
        self.runner.cancel_all()
