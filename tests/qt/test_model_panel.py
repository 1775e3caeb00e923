"""Model panel: presets, the layer table's shapes and counts, misfits in red."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.core.experiment import Component, Experiment
from workbench.qt.panels.model import CUSTOM, ModelPanel


def _exp16() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    return exp


def test_preset_fills_the_table_with_shapes_and_counts(qtbot):
    exp = _exp16()
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.model_changed):
        panel.set_preset("seed-cnn")
    assert exp.model.preset == "seed-cnn"
    assert [c.type for c in exp.model.layers][:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    rows = panel.row_texts()
    assert [r[1] for r in rows] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                                    "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    shapes = [r[3] for r in rows]
    assert shapes == ["(32, 16, 16)", "(32, 16, 16)", "(32, 8, 8)", "(64, 8, 8)", "(64, 8, 8)",
                      "(64, 4, 4)", "(1024)", "(128)", "(128)", "(3)"]
    counts = [int(r[4].replace(",", "")) for r in rows]
    # 3*32*9+32, 32*64*9+64, 1024*128+128, 128*3+3
    assert counts == [896, 0, 0, 18496, 0, 0, 0, 131200, 0, 387]
    assert "in_channels=3 (auto)" in rows[0][2]
    assert f"{sum(counts):,}" in panel.totals_label.text()
    assert panel.message.level == "ok"


def test_number_of_classes_follows_the_dataset(qtbot):
    exp = _exp16()
    panel = ModelPanel(exp)
    qtbot.addWidget(panel)
    panel.set_preset("mlp")
    assert panel.row_texts()[-1][3] == "(10)"  # assumed until a dataset is loaded
    assert "assumed" in panel.input_label.text()
    panel.set_num_classes(4)
    assert panel.row_texts()[-1][3] == "(4)"
    assert panel.row_texts()[0][3] == "(768)"  # Flatten of 3x16x16


def test_misfit_row_is_red_with_its_message(qtbot):
    exp = _exp16()
    exp.model.layers = [Component("Flatten"), Component("Conv2d", {"out_channels": 8}),
                        Component("Linear", {"out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    assert panel.preset_combo.currentText() == CUSTOM
    assert panel.summary is not None and not panel.summary.ok
    bad = panel.summary.error_index
    assert bad == 1
    item = panel.table.item(bad, 1)
    assert item.background().color().red() == 255 and item.background().color().green() < 255
    assert "layer 2" in item.toolTip()
    assert panel.message.level == "error"
    assert "layer 2" in panel.message.text()
    assert panel.table.item(0, 1).background().style() == Qt.BrushStyle.NoBrush  # fits
