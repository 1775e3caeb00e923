"""Model panel: choose a preset network and see every layer's output shape and size.

Shapes come from :func:`workbench.core.model.builder.infer_shapes` for the experiment's input
(channels, height, width) and the number of classes of the loaded dataset. A layer that does
not fit is shown in red with the builder's message, which says what to change.

The builder needs torch: at start-up the table stays empty, with a note, until the
background import (:mod:`workbench.qt.startup`) is done.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

from ..common import MessageLabel, run_standalone
from ..startup import LOADING_TEXT, when_torch_ready

#: Classes assumed for the output layer until a dataset is loaded.
DEFAULT_NUM_CLASSES = 10
CUSTOM = "(custom)"
COLUMNS = ["#", "Layer", "Settings", "Output shape", "Parameters"]
_ERROR_BG = QColor(255, 221, 221)
_ERROR_FG = QColor(160, 0, 0)


def format_shape(shape: Any) -> str:
    return "?" if shape is None else "(" + ", ".join(str(int(s)) for s in shape) + ")"


def format_settings(layer_type: str, given: dict, resolved: dict) -> str:
    """Non-default settings, with automatically filled ones marked ``(auto)``."""
    try:
        from workbench.core.model.layers import LAYERS

        defaults = LAYERS.get(layer_type).defaults()
    except (WorkbenchError, ImportError):
        defaults = {}
    parts = []
    for name, value in resolved.items():
        if given.get(name, defaults.get(name)) is None:
            parts.append(f"{name}={value} (auto)" if value is not None else f"{name}=auto")
        elif name not in defaults or value != defaults[name]:
            parts.append(f"{name}={value}")
    return ", ".join(parts)


class ModelPanel(QWidget):
    """Edits ``experiment.model``: a preset chooser and the layer table.

    Signals
    -------
    model_changed()
        The experiment's layers were replaced (a preset was chosen).
    """

    model_changed = Signal()

    def __init__(self, experiment: Experiment, num_classes: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment = experiment
        self.num_classes = num_classes
        self.summary: Any = None
        self._torch = False  # the layer builder is available

        self.preset_combo = QComboBox()
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preset_description = QLabel("")
        self.preset_description.setWordWrap(True)
        self._presets: dict[str, str] = {}
        from workbench.core.model.presets import list_presets

        for name, description in list_presets():
            self._presets[name] = description
            self.preset_combo.addItem(name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.currentTextChanged.connect(self._on_preset_chosen)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset_combo)
        top.addWidget(self.preset_description, 1)

        self.input_label = QLabel("")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.totals_label = QLabel("")
        self.message = MessageLabel("")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.input_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.message)
        self._sync_combo()
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self.refresh()

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.refresh()

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self._sync_combo()
        self.refresh()

    def set_num_classes(self, num_classes: int | None) -> None:
        """The loaded dataset's class count (the output layer's size)."""
        self.num_classes = num_classes if num_classes else None
        self.refresh()

    def set_preset(self, name: str) -> None:
        """Replace the experiment's layers by preset ``name`` (as if chosen in the combo)."""
        if self.preset_combo.currentText() == name:
            self._on_preset_chosen(name)
        else:
            self.preset_combo.setCurrentText(name)

    def _sync_combo(self) -> None:
        """Show the experiment's preset, or "(custom)" for layers that came from elsewhere."""
        name = self.experiment.model.preset
        matches = False
        if name in self._presets:
            from workbench.core.model.presets import preset_layers

            matches = _same_layers(preset_layers(name), self.experiment.model.layers)
        custom_index = self.preset_combo.findText(CUSTOM)
        self.preset_combo.blockSignals(True)
        try:
            if matches:
                if custom_index >= 0:
                    self.preset_combo.removeItem(custom_index)
                self.preset_combo.setCurrentText(name)
            else:
                if custom_index < 0:
                    self.preset_combo.insertItem(0, CUSTOM)
                    custom_index = 0
                self.preset_combo.setCurrentIndex(custom_index)
        finally:
            self.preset_combo.blockSignals(False)
        self._show_description()

    def _show_description(self) -> None:
        name = self.preset_combo.currentText()
        self.preset_description.setText(
            self._presets.get(name, "Layers from the experiment file (not a preset)."))

    @Slot(str)
    def _on_preset_chosen(self, name: str) -> None:
        if name not in self._presets:
            return
        from workbench.core.model.presets import preset_layers

        self.experiment.model.layers = preset_layers(name)
        self.experiment.model.preset = name
        custom_index = self.preset_combo.findText(CUSTOM)
        if custom_index >= 0:
            self.preset_combo.blockSignals(True)
            self.preset_combo.removeItem(custom_index)
            self.preset_combo.blockSignals(False)
        self._show_description()
        self.refresh()
        self.model_changed.emit()

    # -- table -----------------------------------------------------------------------------
    def input_shape(self) -> tuple[int, int, int]:
        d = self.experiment.data
        return (int(d.channels), int(d.input_size[0]), int(d.input_size[1]))

    def refresh(self) -> None:
        """Recompute shapes and refill the table (once torch is imported)."""
        shape = self.input_shape()
        n_classes = self.num_classes or DEFAULT_NUM_CLASSES
        classes_text = (f"{n_classes} classes (from the dataset)" if self.num_classes else
                        f"{n_classes} classes assumed until a dataset is loaded")
        self.input_label.setText(f"Input: {format_shape(shape)} (channels, height, width: the "
                                 f"experiment's data.channels and data.input_size) · output: "
                                 f"{classes_text}")
        layers = self.experiment.model.layers
        self.table.setRowCount(0)
        if not self._torch:
            self.summary = None
            self.totals_label.setText("")
            self.message.show_message(f"{LOADING_TEXT} The layers and their shapes appear "
                                      f"when it has loaded.")
            return
        from workbench.core.model.builder import infer_shapes

        if not layers:
            self.summary = None
            self.totals_label.setText("")
            self.message.show_message("The network has no layers: choose a preset.", "warning")
            return
        try:
            summary = infer_shapes(layers, shape, n_classes)
        except WorkbenchError as e:  # e.g. an unknown layer type in a hand-edited file
            self.summary = None
            self.totals_label.setText("")
            self.message.show_message(str(e), "error")
            return
        self.summary = summary
        self.table.setRowCount(len(summary.layers))
        for r, info in enumerate(summary.layers):
            given = layers[r].params if r < len(layers) else {}
            cells = [str(r + 1), info.type, format_settings(info.type, given, info.params or {}),
                     format_shape(info.output_shape) if info.error is None else "does not fit",
                     f"{info.num_params:,}" if info.num_params else "0"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (0, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if info.error:
                    item.setBackground(QBrush(_ERROR_BG))
                    item.setForeground(QBrush(_ERROR_FG))
                    item.setToolTip(info.error)
                elif c == 3 and info.input_shape is not None:
                    item.setToolTip(f"input {format_shape(info.input_shape)} → output "
                                    f"{format_shape(info.output_shape)}")
                self.table.setItem(r, c, item)
        self.totals_label.setText(
            f"Total parameters: {summary.total_params:,} (trainable: "
            f"{summary.trainable_params:,}) · output shape: {format_shape(summary.output_shape)}")
        if summary.error:
            self.message.show_message(summary.error, "error")
        else:
            self.message.show_message("The layers fit together.", "ok")

    def row_texts(self) -> list[list[str]]:
        """The table's text, row by row (for tests and copying)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]


def _same_layers(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.type != y.type:
            return False
        # Validation fills defaults into b; compare only what the preset sets.
        if any(y.params.get(k) != v for k, v in x.params.items()):
            return False
    return True


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: ModelPanel(Experiment(), num_classes=4), "Model"))
