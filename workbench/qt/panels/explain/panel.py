"""Explain dialog: why a trained network classified an image as it did.

Three views of one bundle's network: Grad-CAM (where in the image the evidence for the
predicted or a chosen class lies, drawn over the image), the feature maps of a chosen layer,
and the first convolution's filters. Works for networks from the builder and for pretrained
backbones (whose inner stages are offered as layers). Loading the bundle and every
computation run off the GUI thread; what cannot be shown (an MLP has no spatial layer, an
unreadable image) is said in the dialog.

``python -m workbench.qt.panels.explain.panel BUNDLE [IMAGE]`` opens it alone.
"""

from __future__ import annotations

import html
import os
import sys
from typing import Any

from PySide6.QtCore import QUrl, Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from workbench.qt.common import (UrlDropTarget, image_file_filter, local_paths, run_standalone,
                                 stop_busy)
from workbench.qt.fitted import FittedLabel, FittedMessageLabel
from workbench.qt.screen_fit import fit_to_screen
from workbench.qt.startup import LOADING_TEXT, torch_loader
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.explain.cam_tab import DEFAULT_OPACITY, NO_IMAGE, CamTab
from workbench.qt.panels.explain.jobs import MAX_MAPS, ExplainSession, Explanation, Setup
from workbench.qt.panels.explain.texts import model_names
from workbench.qt.panels.explain.views import ImageView, enlarged, page as _page


class ExplainDialog(UrlDropTarget, QDialog):
    """Grad-CAM, feature maps and first-layer filters of a bundle's network for one image.

    Parameters
    ----------
    bundle_path
        The trained bundle (``bundle.pt``) whose network is explained.
    image_path
        The image to explain first (optional: open or drop one later).

    Signals
    -------
    ready()
        The bundle is loaded: the class and layer choices and the filters are shown.
    explained(result)
        A Grad-CAM view was shown; ``result`` is its
        :class:`~workbench.core.explain.methods.GradCamResult`.
    updated(explanation)
        Every view for the current image was refreshed (an
        :class:`~.jobs.Explanation`, Grad-CAM or not).
    failed(message)
        Something could not be shown; the message is in the dialog too.
    """

    ready = Signal()
    explained = Signal(object)
    updated = Signal(object)
    failed = Signal(str)

    def __init__(self, bundle_path: str, image_path: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.bundle_path = str(bundle_path)
        self.image_path = ""
        self.setup: Setup | None = None
        self.explanation: Explanation | None = None
        self._session = ExplainSession(self.bundle_path)
        self._setup_runner = TaskRunner(self)
        self._setup_runner.finished.connect(self._on_setup_finished)
        self._setup_runner.errored.connect(self._on_setup_errored)
        self._runner = TaskRunner(self)  # a new choice supersedes the stale explanation
        self._runner.finished.connect(self._on_explained)
        self._runner.errored.connect(self._on_explain_errored)
        self.setAcceptDrops(True)
        self._build()
        self._name_model()
        fit_to_screen(self, 900, 640)
        self._show_message(LOADING_TEXT if not torch_loader().is_ready()
                           else f"Loading the model {self.bundle_path}…")
        torch_loader().call_when_ready(self._start_setup, self)
        if image_path:
            self.set_image(image_path)

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_label = FittedLabel("")
        self.model_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_label.setToolTip(self.bundle_path)
        self.open_button = QPushButton("Open image…")
        self.open_button.setAutoDefault(False)  # Enter closes (the default), never a picker
        self.open_button.clicked.connect(self.choose_image)
        self.image_label = QLabel("No image")
        self.image_label.setTextFormat(Qt.TextFormat.PlainText)  # a file named "<b>x<.png"
        self.image_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.class_combo = QComboBox()
        self.class_combo.addItem("Predicted class", None)
        self.class_combo.setToolTip("The class whose evidence Grad-CAM shows")
        self.class_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("The layer Grad-CAM and the feature maps are taken at. "
                                    "The default, the last convolution, is usually the most "
                                    "class-specific one that still shows where")
        self.layer_combo.setMinimumContentsLength(16)
        self.layer_combo.currentIndexChanged.connect(self._on_choice_changed)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.image_label, 1)
        top.addWidget(QLabel("Class:"))
        top.addWidget(self.class_combo)
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer_combo)

        self.message = FittedMessageLabel()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        status = QHBoxLayout()
        status.addWidget(self.message, 1)
        status.addWidget(self.busy)

        self.cam_tab = CamTab()
        # The tab's parts, as the dialog's (what it shows is the dialog's).
        self.image_view, self.overlay_view = self.cam_tab.image_view, self.cam_tab.overlay_view
        self.cam_info, self.opacity = self.cam_tab.cam_info, self.cam_tab.opacity
        self.tabs = QTabWidget()
        self.tabs.addTab(self.cam_tab, "Grad-CAM")
        self.maps_note = FittedLabel("")
        self.maps_view = ImageView(NO_IMAGE)
        self.tabs.addTab(_page(self.maps_note, self.maps_view), "Feature maps")
        self.filters_note = FittedLabel("")
        self.filters_view = ImageView("Loading the filters…")
        self.tabs.addTab(_page(self.filters_note, self.filters_view), "Filters")

        self.save_button = QPushButton("Save PNG…")
        self.save_button.setToolTip("Save the picture of the current tab")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save_png)
        close = QPushButton("Close")
        # No default button: Enter on the class box (to see another class's map) must not
        # close the dialog; Escape closes it.
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_button)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.model_label)
        layout.addLayout(top)
        layout.addLayout(status)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self.class_combo.setFocus()  # not "Open image…"

    # -- inputs ------------------------------------------------------------------------------
    def set_image(self, path: str) -> None:
        """Explain the image at ``path`` (in the background)."""
        self.image_path = str(path)
        self.image_label.setText(os.path.basename(self.image_path))
        self.image_label.setToolTip(self.image_path)
        self._explain()

    @Slot()
    def choose_image(self) -> None:
        start = os.path.dirname(self.image_path) if self.image_path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open an image to explain", start,
                                              image_file_filter())
        if path:
            self.set_image(path)

    def handle_drop(self, urls: list[QUrl]) -> bool:
        """A dropped image file is explained (the first one, when several are dropped)."""
        files = [p for p in local_paths(urls) if os.path.isfile(p)]
        if not files:
            self._show_message("Drop an image file, not a folder.", "warning")
            return False
        self.set_image(files[0])
        return True

    def target_class(self) -> int | None:
        """The chosen class index, None for "Predicted class"."""
        return self.class_combo.currentData()

    def layer_path(self) -> str | None:
        """The chosen layer (its module path), None before the layers are known."""
        return self.layer_combo.currentData()

    @Slot()
    def _on_choice_changed(self) -> None:
        if self.image_path:
            self._explain()

    # -- background work ---------------------------------------------------------------------
    def _start_setup(self) -> None:
        session = self._session
        self._set_busy(True)
        self._setup_runner.submit(lambda state: session.setup())

    def _explain(self) -> None:
        loader = torch_loader()
        if not loader.is_ready():
            if loader.state == "failed":
                self._fail(f"PyTorch could not be loaded ({loader.error}): nothing can be "
                           f"explained. Reinstall the app and start it again.")
            return  # _on_setup_finished explains the image once torch (and the model) is in
        session, path = self._session, self.image_path
        target, layer = self.target_class(), self.layer_path()
        self._set_busy(True)
        self._runner.submit(lambda state: session.explain(path, target, layer))

    @Slot(int, object)
    def _on_setup_finished(self, _job: int, setup: Setup) -> None:
        self.setup = setup
        self._set_busy(self._runner.is_busy())
        for combo in (self.class_combo, self.layer_combo):
            combo.blockSignals(True)
        for i, name in enumerate(setup.classes):
            self.class_combo.addItem(name, i)
        for choice in setup.layers:
            self.layer_combo.addItem(choice.label, choice.path)
            shape = "×".join(str(s) for s in choice.output_shape)
            self.layer_combo.setItemData(self.layer_combo.count() - 1,
                                         f"output {shape} (channels × height × width)",
                                         Qt.ItemDataRole.ToolTipRole)
        default = self.layer_combo.findData(setup.default_layer)
        self.layer_combo.setCurrentIndex(default if default >= 0
                                         else self.layer_combo.count() - 1)
        self.layer_combo.setEnabled(bool(setup.layers))
        if not setup.layers:
            self.layer_combo.setPlaceholderText("none (no convolution)")
            self.class_combo.setToolTip("The class whose probability is shown (Grad-CAM "
                                        "needs a convolutional layer)")
        for combo in (self.class_combo, self.layer_combo):
            combo.blockSignals(False)
        if setup.filters is not None:
            self.filters_view.show_array(setup.filters)
            self.filters_note.setText(f"The {setup.filters_count} filters of the first "
                                      f"convolution layer, each scaled to its own range "
                                      f"(enlarged, one square per weight).")
        else:
            self.filters_view.show_text(setup.filters_error or "", error=True)
            self.filters_note.setText("")
        if not setup.layers:
            self._fail("This network has no convolutional layer (one whose output is an "
                       "image-like map), so there is no Grad-CAM or feature map to show: "
                       "add a Conv2d layer, or use a pretrained Backbone.")
        elif not self.message.level == "error":
            self._show_message(f"Model: {self.bundle_path}")
        self.ready.emit()
        if self.image_path:
            self._explain()  # with the chosen layer, now that it is known

    @Slot(int, str)
    def _on_setup_errored(self, _job: int, message: str) -> None:
        self._set_busy(False)
        self.filters_view.show_text("")
        self._fail(f"Cannot load the model {self.bundle_path}: {message}")

    @Slot(int, object)
    def _on_explained(self, _job: int, ex: Explanation) -> None:
        self._set_busy(False)
        self.explanation = ex
        self._name_model()  # the run may have been continued since: its epoch now
        self.cam_tab.show_explanation(ex, self.class_combo.currentText(), self.target_class())
        if ex.maps is not None:
            self.maps_view.show_array(ex.maps)
            capped = (f" (the first {ex.maps_shown} of {ex.maps_total})"
                      if ex.maps_total > ex.maps_shown else "")
            self.maps_note.setText(f"{ex.maps_total} feature maps of layer "
                                   f"{self.layer_combo.currentText()}{capped}; each scaled to "
                                   f"its own range, white: strongest.")
        else:
            self.maps_view.show_text(ex.maps_error or "", error=True)
            self.maps_note.setText("")
        error = ex.cam_error or ex.maps_error
        if error:
            self._fail(error)
        elif ex.cam is not None and ex.cam.flat is not None:
            self._show_message(f"Explained {ex.path}, but the Grad-CAM map at layer "
                               f"{ex.cam.layer} shows no place: choose another layer "
                               f"(see below the picture).", "warning")
        else:
            self._show_message(f"Explained {ex.path}", "ok")
        if ex.cam is not None:
            self.explained.emit(ex.cam)
        self.updated.emit(ex)

    @Slot(int, str)
    def _on_explain_errored(self, _job: int, message: str) -> None:
        self._set_busy(False)
        self.explanation = None
        self.cam_tab.clear()
        self.maps_view.show_text(NO_IMAGE)
        self.maps_note.setText("")
        self._fail(f"Cannot explain this image: {message}")

    # -- drawing and saving ------------------------------------------------------------------
    def current_image(self):
        """The picture of the current tab (the overlay on the Grad-CAM tab), or None."""
        view = (self.overlay_view, self.maps_view, self.filters_view)[self.tabs.currentIndex()]
        return view.image

    @Slot()
    def save_png(self) -> str | None:
        """Ask for a file name and save the current tab's picture, enlarged; returns it."""
        image = self.current_image()
        if image is None:
            cam = self.explanation.cam if self.explanation is not None else None
            flat = self.tabs.currentIndex() == 0 and cam is not None and cam.flat is not None
            self._show_message("Nothing to save: the Grad-CAM map shows no place at this layer; "
                               "choose another layer first." if flat else
                               "Nothing to save on this tab yet: explain an image first.",
                               "warning")
            return None
        tab = self.tabs.tabText(self.tabs.currentIndex()).lower().replace(" ", "-")
        stem = os.path.splitext(os.path.basename(self.image_path))[0] or "network"
        # Beside the model, not the image: saved in a class folder, the enlarged picture
        # would become one of the dataset's training images.
        start = os.path.join(os.path.dirname(self.bundle_path) or os.path.expanduser("~"),
                             f"{stem}-{tab}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save the picture", start,
                                              "PNG images (*.png)")
        if not path:
            return None
        if not path.lower().endswith(".png"):
            path += ".png"
        if not enlarged(image).save(path, "PNG"):
            self._fail(f"Cannot write {path}: choose a folder you can write to.")
            return None
        beside = bool(self.image_path) and os.path.samefile(
            os.path.dirname(os.path.abspath(path)), os.path.dirname(self.image_path))
        self._show_message(f"Saved {path}" + (
            ": beside the image it explains; if that folder is a class of a dataset, the "
            "picture is now one of its training images: move it elsewhere" if beside else ""),
            "warning" if beside else "ok")
        return path

    # -- state -------------------------------------------------------------------------------
    def _name_model(self) -> None:
        """Name the model (the run and its kept epoch) in the title and the line above."""
        title, line = model_names(self.bundle_path)
        self.setWindowTitle(f"Explain · {title}")
        self.model_label.setText(f"<b>Model:</b> {html.escape(line)}")

    def _show_message(self, text: str, level: str = "info") -> None:
        self.message.show_message(text, level)

    def _fail(self, message: str) -> None:
        self._show_message(message, "error")
        self.failed.emit(message)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        if not busy:
            stop_busy(self.busy)
        else:
            self.busy.setRange(0, 0)

    def shutdown(self) -> None:
        """Drop the results of running jobs (they finish in the pool on their own)."""
        self._setup_runner.cancel_all()
        self._runner.cancel_all()
        stop_busy(self.busy)

    def done(self, result: int) -> None:  # noqa: D401  (Qt override: close, Esc, accept)
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        self.shutdown()
        super().closeEvent(event)


def _main() -> int:
    if len(sys.argv) < 2:
        print("usage: python -m workbench.qt.panels.explain.panel BUNDLE [IMAGE]", file=sys.stderr)
        return 2
    image = sys.argv[2] if len(sys.argv) > 2 else None
    return run_standalone(lambda: ExplainDialog(sys.argv[1], image), "Explain")


__all__ = ["DEFAULT_OPACITY", "ExplainDialog", "MAX_MAPS"]

if __name__ == "__main__":
    sys.exit(_main())
