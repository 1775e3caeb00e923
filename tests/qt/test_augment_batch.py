"""Augment preview with many unequal classes: the batch is drawn as training draws it (its
split, its sampler), its captions use the tile's width, and the Original tile names the
image the draws are made of."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.augment.panel import AugmentPanel

WAIT_MS = 20000
LONG = "Northern_rough-winged_swallow_juvenile"


def _panel(qtbot, root, balance="none") -> AugmentPanel:
    exp = Experiment()
    exp.data.input_size = [12, 12]
    exp.data.batch_size = 16
    exp.data.balance = balance
    exp.augment.transforms = []
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.resize(1366, 768)
    panel.show()
    qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS).wait()
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        panel.set_index(scan_folder(root))
    return panel


def _imbalanced(tmp_path):
    make_image_folder(tmp_path / "d", classes=(LONG,), per_class=40, size=8)
    make_image_folder(tmp_path / "d", classes=[f"small{i}" for i in range(6)], per_class=3,
                      size=8)
    return str(tmp_path / "d")


def _batch(qtbot, panel) -> list[str]:
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        panel.preview.tabs.setCurrentIndex(1)
    return [t.text() for t in panel.preview.batch_texts if t.text()]


def test_batch_follows_the_weighted_sampler(qtbot, tmp_path):
    root = _imbalanced(tmp_path)
    plain = _panel(qtbot, root)
    texts = _batch(qtbot, plain)
    assert len(texts) == 16 and texts.count(LONG) >= 8  # 32 of 44 training images
    assert "training split" in plain.preview.batch_note.text()
    plain.shutdown()
    balanced = _panel(qtbot, root, "weighted_sampler")
    texts = _batch(qtbot, balanced)
    # Every one of the 7 classes equally likely: about 2 of 16 from the big one.
    assert len(texts) == 16 and texts.count(LONG) <= 5
    assert "weighted sampler" in balanced.preview.batch_note.text()
    assert "validation" in balanced.preview.batch_note.toolTip()
    # Changing the balance on the Data tab redraws the batch the new way.
    with qtbot.waitSignal(balanced.preview_updated, timeout=WAIT_MS):
        balanced.experiment.data.balance = "none"
    assert "weighted sampler" not in balanced.preview.batch_note.text()
    balanced.shutdown()


def test_batch_captions_use_the_column_width(qtbot, tmp_path):
    panel = _panel(qtbot, _imbalanced(tmp_path))
    _batch(qtbot, panel)
    grab = panel.grab()  # lays the tab out at 1366x768
    assert not grab.isNull()
    caption = next(c for c in panel.preview.batch_texts if c.text() == LONG)
    tile = panel.preview.batch_tiles[0]
    # The caption spans its column (wider than the tile), not a fixed 152 px.
    assert caption.width() > tile.width() + 50
    at_152 = caption.fontMetrics().elidedText(LONG, Qt.TextElideMode.ElideRight, 152)
    assert len(caption.shown_lines()[0]) > len(at_152)  # more of the name is read
    panel.shutdown()


def test_original_tile_names_the_class_and_file_drawn(qtbot, tmp_path):
    panel = _panel(qtbot, _imbalanced(tmp_path))
    caption = panel.preview.original_caption
    assert panel.preview.class_combo.currentText() == "any class"
    name = panel.preview.image_name
    cls = panel.preview.image_class
    assert cls and Path(name).parent.name == cls  # the class folder of the file drawn
    lines = caption.shown_lines()
    assert len(lines) == 2
    assert lines[0] == caption.fontMetrics().elidedText(
        cls, caption.lines[0][1], caption.contentsRect().width())
    assert lines[1].endswith(".png")  # cut in the middle: the extension stays
    assert cls in caption.toolTip() and name in caption.toolTip()
    panel.shutdown()
