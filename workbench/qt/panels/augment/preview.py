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
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment

from workbench.qt.common import MessageLabel
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.workers import TaskRunner

TILES = 16
TILE_PX = 112
DEBOUNCE_MS = 30
SAMPLE = "(built-in sample image)"


def to_pixmap(arr: np.ndarray, px: int = TILE_PX) -> QPixmap:
    """uint8 (H, W, C) array -> pixmap scaled to fit ``px`` (sharp pixels when enlarged)."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2 or arr.shape[2] == 1:
        img = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        img = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    img = img.copy()  # own the pixels: the array goes away
    mode = Qt.TransformationMode.FastTransformation if max(h, w) * 2 <= px else \
        Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(img).scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio, mode)


def sample_image(size: int = 224):
    """A built-in picture whose flips and rotations are easy to see (an "F" on a
    gradient with a red corner), used until a dataset is loaded."""
    from PIL import Image, ImageDraw

    y, x = np.mgrid[0:size, 0:size]
    arr = np.stack([x * 200 // size + 30, y * 180 // size + 40,
                    np.full_like(x, 150)], -1).astype(np.uint8)
    img = Image.fromarray(arr)
    d = ImageDraw.Draw(img)
    s = size / 224
    d.rectangle([0, 0, 40 * s, 40 * s], fill=(220, 30, 30))
    for box in ([70, 40, 100, 190], [70, 40, 170, 70], [70, 100, 150, 128]):
        d.rectangle([v * s for v in box], fill=(250, 250, 250))
    return img


class TileCaption(QLabel):
    """A batch tile's label: one line per part of a mix ("0.50 Zürich café +" over
    "0.50 dog"), each cut with "…" to the label's width; :meth:`text` and the tooltip keep
    the whole label."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setMinimumWidth(TILE_PX)

    def setText(self, text: str) -> None:  # noqa: N802  (Qt override)
        super().setText(text)
        self.setToolTip(text)
        self.updateGeometry()

    def shown_lines(self) -> list[str]:
        """The lines drawn: the label split at " + ", each elided to the width."""
        parts = self.text().split(" + ") if self.text() else []
        width = max(1, self.contentsRect().width())
        fm = self.fontMetrics()
        return [fm.elidedText(p + (" +" if i < len(parts) - 1 else ""),
                              Qt.TextElideMode.ElideRight, width)
                for i, p in enumerate(parts)]

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        lines = max(1, len(self.text().split(" + ")))
        return QSize(TILE_PX, self.fontMetrics().lineSpacing() * lines + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(TILE_PX, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(), int(Qt.AlignmentFlag.AlignHCenter |
                                                  Qt.AlignmentFlag.AlignTop),
                         "\n".join(self.shown_lines()))


def _tile_label() -> QLabel:
    lab = QLabel()
    lab.setFixedSize(TILE_PX + 4, TILE_PX + 4)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setStyleSheet("background: #202020; border: 1px solid #555;")
    return lab


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
        #: The file's own ``((width, height), mode)``, when the image came from a file.
        self.file_header: tuple[tuple[int, int], str] | None = None
        self.seed = 0
        self._rng = random.Random(0)
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
        for w in (QLabel("Image:"), self.class_combo, self.random_button, self.open_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.reroll_button)

        self.original = _tile_label()
        self.eval_tile = _tile_label()
        self.tiles = [_tile_label() for _ in range(TILES)]
        side = QVBoxLayout()
        for text, lab in (("Original", self.original), ("Evaluation view", self.eval_tile)):
            side.addWidget(QLabel(text))
            side.addWidget(lab)
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

        self.batch_tiles = [_tile_label() for _ in range(TILES)]
        self.batch_texts = [TileCaption() for _ in range(TILES)]
        batch_grid = QGridLayout()
        batch_grid.setSpacing(2)
        for i, (lab, text) in enumerate(zip(self.batch_tiles, self.batch_texts)):
            text.setMaximumWidth(TILE_PX + 40)
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
                  header: tuple[tuple[int, int], str] | None = None) -> None:
        """Preview ``image`` (a PIL image); ``header`` is the file's own ``((width,
        height), mode)`` when it was decoded from a file at a reduced size."""
        self.image, self.image_name, self.file_header = image, name, header
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
        want = self.class_combo.currentIndex() - 1  # 0 is "any class"
        pool = [s for s in self.index.samples if want < 0 or s[1] == want] or \
            self.index.samples
        self.open_path(self._rng.choice(pool)[0])

    def open_path(self, path: str) -> bool:
        """Preview the image file ``path``; False when it cannot be read (the message line
        says why) or, while torch is still loading, when it opens later, once it has."""
        if not self._torch:
            when_torch_ready(lambda: self.open_path(path), self)
            return False
        from workbench.core.data.augment.preview import open_preview_image
        from workbench.core.data.summary import image_header

        try:
            img = open_preview_image(path, self.experiment)
        except WorkbenchError as e:
            self.message.show_message(str(e), "error")
            return False
        self.set_image(img, path, image_header(path))
        return True

    @Slot()
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Preview an image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp "
                                              "*.tif *.tiff);;All files (*)")
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
            from workbench.core.data.augment.preview import batch_preview

            samples, classes = list(index.samples), list(index.classes)
            self.runner.submit(_named(exp, lambda: ("batch", batch_preview(
                exp, samples, classes, n=min(TILES, exp.data.batch_size), seed=seed))))
        else:
            from workbench.core.data.augment.preview import augment_tiles, eval_view

            self.runner.submit(_named(exp, lambda: (
                "draws", augment_tiles(exp, image, TILES, seed), eval_view(exp, image))))

    def _show_original(self) -> None:
        arr = np.asarray(self.image)
        self.original.setPixmap(to_pixmap(arr))
        w, h = self.image.size
        if self.file_header is None or self.file_header[0] == (w, h):
            self.original.setToolTip(f"{self.image_name} ({w}x{h}, {self.image.mode})")
        else:  # a large JPEG is decoded at a fraction of its size (draft mode)
            (fw, fh), mode = self.file_header
            self.original.setToolTip(f"{self.image_name} ({fw}x{fh}, {mode}; decoded at "
                                     f"{w}x{h} for the preview)")

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        self.message.show_message("")
        if result[0] == "draws":
            _, tiles, ev = result
            for lab, arr in zip(self.tiles, tiles):
                lab.setPixmap(to_pixmap(arr))
            self.eval_tile.setPixmap(to_pixmap(ev))
        else:
            items = result[1]
            self.batch_note.setText(
                f"One training batch ({len(items)} of {self.experiment.data.batch_size} "
                f"images) as the model sees it, after batch-level mixing; labels show "
                f"the mix.")
            for i, (lab, text) in enumerate(zip(self.batch_tiles, self.batch_texts)):
                lab.setPixmap(to_pixmap(items[i][0]) if i < len(items) else QPixmap())
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
            lab.setPixmap(QPixmap())
        for text in self.batch_texts:
            text.setText("")
        self.batch_note.setText("")

    def shutdown(self) -> None:
        self._shut_down = True  # torch becoming ready later must not start a preview
        self._timer.stop()
        self.runner.cancel_all()
