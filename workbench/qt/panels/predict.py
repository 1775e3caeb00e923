"""Predict panel: drop images and see each one's top-5 classes as probability bars.

Uses the bundle of the last training run, or one loaded with "Load bundle…". Loading the
bundle, decoding, thumbnails and the forward pass all happen off the GUI thread; an image
that cannot be read shows its reason in its row while the others are still classified.

Images dropped while torch is still being imported at start-up (:mod:`workbench.qt.startup`)
wait in their rows and are classified when it is: the pool threads never import it first.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Iterable

from PySide6.QtCore import QUrl, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from ..common import MessageLabel, UrlDropTarget, image_files, local_paths, run_standalone
from ..startup import LOADING_TEXT, torch_loader
from ..workers import TaskRunner, TaskState

TOP_K = 5
THUMB = 72
_BAR_STYLE = ("QProgressBar {{ border: 1px solid #bbb; border-radius: 3px; background: #f4f4f4; }}"
              " QProgressBar::chunk {{ background: {color}; border-radius: 2px; }}")


class PredictionRow(QFrame):
    """One image: thumbnail, file name and its top classes (or why it failed)."""

    def __init__(self, path: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = path
        self.top: list[tuple[str, float]] = []
        self.error: str | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setStyleSheet("background: #eee; color: #888;")
        self.name = QLabel(f"<b>{os.path.basename(path)}</b>")
        self.name.setToolTip(path)
        self.state = MessageLabel("")
        self.bars = QGridLayout()
        self.bars.setHorizontalSpacing(8)
        self.bars.setVerticalSpacing(2)
        right = QVBoxLayout()
        right.addWidget(self.name)
        right.addWidget(self.state)
        right.addLayout(self.bars)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(right, 1)
        self.bar_widgets: list[tuple[QLabel, QProgressBar, QLabel]] = []

    def set_waiting(self, text: str) -> None:
        self._clear_bars()
        self._show_state(text)

    def _show_state(self, text: str, level: str = "info") -> None:
        self.state.show_message(text, level)
        self.state.setVisible(bool(text))

    def set_thumbnail(self, thumb: tuple[int, int, bytes] | None) -> None:
        if thumb is None:
            self.thumb.setText("no\npreview")
            return
        w, h, data = thumb
        image = QImage(data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.thumb.setPixmap(QPixmap.fromImage(image))

    def set_result(self, top: list[tuple[str, float]], error: str | None) -> None:
        self._clear_bars()
        self.top, self.error = list(top), error
        if error:
            self._show_state(f"Cannot classify this file: {error}", "error")
            return
        self._show_state("")
        for r, (cls, prob) in enumerate(top):
            label = QLabel(cls)
            label.setMinimumWidth(90)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(prob * 1000))
            bar.setFormat(f"{prob * 100:.1f}%")
            # The percentage goes in its own label: text drawn over a full dark bar is unreadable.
            bar.setTextVisible(False)
            bar.setFixedSize(360, 14)
            bar.setStyleSheet(_BAR_STYLE.format(color="#2e7d32" if r == 0 else "#90a4ae"))
            pct = QLabel(bar.format())
            pct.setMinimumWidth(50)
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.bars.addWidget(label, r, 0)
            self.bars.addWidget(bar, r, 1)
            self.bars.addWidget(pct, r, 2)
            self.bar_widgets.append((label, bar, pct))
        self.bars.setColumnStretch(3, 1)

    def _clear_bars(self) -> None:
        for widgets in self.bar_widgets:
            for w in widgets:
                w.deleteLater()
        self.bar_widgets = []


class PredictPanel(UrlDropTarget, QWidget):
    """Classifies dropped or opened images with a trained bundle.

    Signals
    -------
    bundle_changed(path)
        A bundle was set (from training or "Load bundle…").
    predictions_finished(paths)
        Rows for these paths got their results (or errors).
    """

    bundle_changed = Signal(str)
    predictions_finished = Signal(list)

    def __init__(self, bundle: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bundle_path = ""
        self.rows: list[PredictionRow] = []
        self._job_rows: dict[int, list[PredictionRow]] = {}
        self._predictors: dict[str, Any] = {}
        self._predictors_lock = threading.Lock()
        self._shut_down = False
        self._runner = TaskRunner(self, supersede=False)
        self._runner.finished.connect(self._on_predicted)
        self._runner.errored.connect(self._on_prediction_errored)
        self.setAcceptDrops(True)
        self._build()
        if bundle:
            self.set_bundle(bundle)

    def _build(self) -> None:
        self.open_button = QPushButton("Open images…")
        self.open_button.clicked.connect(self.choose_images)
        self.load_button = QPushButton("Load bundle…")
        self.load_button.clicked.connect(self.choose_bundle)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.bundle_label = MessageLabel("No model yet: train one on the Train tab, or load a "
                                         "saved bundle.")
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.load_button)
        row.addWidget(self.clear_button)
        row.addWidget(self.bundle_label, 1)

        self.hint = QLabel("Drop image files or folders here to classify them.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #777; font-size: 14pt; padding: 40px;"
                                "border: 2px dashed #bbb; border-radius: 8px;")
        self.rows_widget = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_widget)
        self.rows_layout.addWidget(self.hint)
        self.rows_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.rows_widget)
        self.scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.scroll, 1)

    # -- bundle --------------------------------------------------------------------------
    def set_bundle(self, path: str) -> None:
        """Use the bundle at ``path``; rows already shown are classified again with it."""
        self.bundle_path = str(path)
        self.bundle_label.show_message(f"Model: {self.bundle_path}")
        self.bundle_changed.emit(self.bundle_path)
        if self.rows:
            self._predict(self.rows)

    @Slot()
    def choose_bundle(self) -> None:
        from workbench.core.io import runs_dir

        start = os.path.dirname(self.bundle_path) if self.bundle_path else str(runs_dir())
        path, _ = QFileDialog.getOpenFileName(self, "Load a trained bundle", start,
                                              "Workbench bundles (*.pt);;All files (*)")
        if path:
            self.set_bundle(path)

    # -- images --------------------------------------------------------------------------
    @Slot()
    def choose_images(self) -> None:
        from workbench.core.data.images import ACCEPTED_EXTENSIONS

        pattern = " ".join(f"*{e}" for e in ACCEPTED_EXTENSIONS)
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "",
                                                f"Images ({pattern});;All files (*)")
        if paths:
            self.add_images(paths)

    def add_images(self, paths: Iterable[str]) -> list[PredictionRow]:
        """Add one row per image (folders expand to their images) and classify them."""
        files = image_files(paths)
        if not files:
            return []
        self.hint.hide()
        new = []
        for path in files:
            row = PredictionRow(path)
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
            self.rows.append(row)
            new.append(row)
        self._predict(new)
        return new

    def handle_drop(self, urls: Iterable[QUrl]) -> list[PredictionRow]:
        """What a drop does: classify the local files (and folders) among ``urls``."""
        return self.add_images(local_paths(urls))

    @Slot()
    def clear(self) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        self._job_rows.clear()
        self.hint.show()

    # -- prediction ----------------------------------------------------------------------
    def _predict(self, rows: list[PredictionRow]) -> None:
        if self._shut_down:
            return
        if not self.bundle_path:
            for row in rows:
                row.set_waiting("Waiting for a model: train one on the Train tab, or use "
                                "Load bundle…")
            return
        loader = torch_loader()
        if not loader.is_ready():
            # The pool thread must not be the first to import torch: classify once it is.
            if loader.is_pending():
                for row in rows:
                    row.set_waiting(f"{LOADING_TEXT} This image is classified when it has "
                                    f"loaded.")
            loader.call_when_ready(lambda: self._predict([r for r in rows if r in self.rows]),
                                   self)
            if loader.state == "failed":
                for row in rows:
                    row.set_result([], f"PyTorch could not be loaded ({loader.error})")
            return
        for row in rows:
            row.set_waiting("Classifying…")
        bundle, paths = self.bundle_path, [r.path for r in rows]
        job = self._runner.submit(lambda state: self._classify(bundle, paths, state))
        self._job_rows[job] = list(rows)

    def _predictor(self, bundle: str) -> Any:
        from workbench.core.predict import Predictor

        with self._predictors_lock:
            if bundle not in self._predictors:
                self._predictors.clear()  # one model in memory at a time
                self._predictors[bundle] = Predictor(bundle)
            return self._predictors[bundle]

    def _classify(self, bundle: str, paths: list[str], state: TaskState) -> list[dict]:
        """Runs in a pool thread: plain results (class names, floats, RGB bytes) only."""
        predictor = self._predictor(bundle)
        predictions = predictor.predict(paths, top_k=TOP_K)
        return [{"path": p.path, "top": [(str(c), float(v)) for c, v in p.top],
                 "error": p.error, "thumb": _thumbnail(path)}
                for path, p in zip(paths, predictions)]

    @Slot(int, object)
    def _on_predicted(self, job: int, results: list[dict]) -> None:
        rows = self._job_rows.pop(job, [])
        for row, res in zip(rows, results):
            if row not in self.rows:
                continue  # cleared meanwhile
            row.set_thumbnail(res["thumb"])
            row.set_result(res["top"], res["error"])
        self.predictions_finished.emit([r.path for r in rows])

    @Slot(int, str)
    def _on_prediction_errored(self, job: int, message: str) -> None:
        rows = self._job_rows.pop(job, [])
        for row in rows:
            if row in self.rows:
                row.set_result([], message)
        self.bundle_label.show_message(f"Cannot use the model {self.bundle_path}: {message}",
                                       "error")
        self.predictions_finished.emit([r.path for r in rows])

    def shutdown(self) -> None:
        self._shut_down = True  # torch becoming ready later must not start a prediction
        self._runner.cancel_all()


def _thumbnail(path: str) -> tuple[int, int, bytes] | None:
    from workbench.core.data.images import load_image
    from workbench.core.errors import WorkbenchError

    try:
        img = load_image(path, 3)
    except (WorkbenchError, OSError, ValueError):
        return None
    img.thumbnail((THUMB, THUMB))
    if img.width < THUMB // 2:  # tiny images (16x16 datasets): enlarge, pixelated
        scale = max(1, THUMB // max(img.width, img.height))
        img = img.resize((img.width * scale, img.height * scale), resample=0)
    return img.width, img.height, img.convert("RGB").tobytes()


def _main() -> int:
    bundle = sys.argv[1] if len(sys.argv) > 1 else None
    return run_standalone(lambda: PredictPanel(bundle), "Predict")


if __name__ == "__main__":
    sys.exit(_main())
