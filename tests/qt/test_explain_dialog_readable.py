"""Explain dialog, read by a learner: which model it explains, what the heatmap's colours
mean, text that is never laid over the pictures, and nothing shown that is not there."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLabel

from qt_helpers import open_explain, train_colours_cnn
from workbench.core.registry import Component

TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def cnn5(tmp_path_factory):
    """A small trained CNN whose convolution has 5 filters (5 maps: a 3x3 grid with room
    for 4 more) and the colours folder it learnt; ``(bundle path, folder)``."""
    root = tmp_path_factory.mktemp("explain-readable")
    result, folder = train_colours_cnn(
        root, "five-maps",
        [Component("Conv2d", {"out_channels": 5, "kernel_size": 3, "padding": 1}),
         Component("ReLU", {}), Component("Flatten", {}),
         Component("Linear", {"out_features": 3})],
        per_class=12, epochs=2, val_fraction=0.25)
    bundle = root / "five.pt"
    result.save_bundle(bundle)
    return str(bundle), folder


_open = open_explain


def _run_folder(root: Path, bundle: str, name: str, epoch: int, val_acc: float) -> Path:
    """A run folder named ``name`` whose bundle.pt (a copy of ``bundle``) holds ``epoch``."""
    import json

    from workbench.core.runs.store import write_run_info

    run = root / "runs" / name
    run.mkdir(parents=True)
    shutil.copy(bundle, run / "bundle.pt")
    (run / "metrics.json").write_text(json.dumps({"epochs": [
        {"epoch": e, "val_acc": val_acc, "val_loss": 0.5} for e in range(1, epoch + 2)]}))
    write_run_info(run, {"name": name, "status": "finished", "epochs_done": epoch + 1,
                         "bundle": {"epoch": epoch, "restored_best": True,
                                    "metrics": {"epoch": epoch, "val_acc": val_acc}}})
    return run


def test_the_title_and_a_lasting_line_name_the_run_and_its_kept_epoch(qtbot, cnn5, tmp_path):
    bundle, folder = cnn5
    runs = [_run_folder(tmp_path, bundle, "shapes-cnn", 4, 0.95),
            _run_folder(tmp_path, bundle, "shapes-bn-1ep", 1, 0.75)]
    first, second = (_open(qtbot, run / "bundle.pt", folder / "red" / "red_000.png")
                     for run in runs)
    # Two dialogs side by side, both of a bundle.pt, say which model made which picture.
    assert first.windowTitle() == "Explain · shapes-cnn (epoch 4)"
    assert second.windowTitle() == "Explain · shapes-bn-1ep (epoch 1)"
    # The line stays once an image is explained (the message line then names the image).
    assert first.message.text().startswith("Explained")
    assert "shapes-cnn (epoch 4)" in first.model_label.text()
    assert "95.0%" in first.model_label.text()
    assert "shapes-bn-1ep (epoch 1)" in second.model_label.text()
    assert first.model_label.toolTip() == str(runs[0] / "bundle.pt")


def test_a_bundle_outside_a_run_folder_is_named_by_its_file(qtbot, cnn5):
    bundle, _ = cnn5
    dialog = _open(qtbot, bundle)
    assert dialog.windowTitle() == "Explain · five.pt"
    assert "five.pt" in dialog.model_label.text()


def _explain_class(qtbot, dialog, name):
    with qtbot.waitSignal(dialog.updated, timeout=TIMEOUT_MS):
        dialog.class_combo.setCurrentText(name)
    return dialog.explanation.cam


def test_the_heatmap_has_a_colour_key_and_says_its_colours_are_relative(qtbot, cnn5):
    from workbench.core.explain.display import colormap

    bundle, folder = cnn5
    dialog = _open(qtbot, bundle, folder / "green" / "green_000.png")
    dialog.resize(900, 640)
    dialog.show()
    qtbot.waitExposed(dialog)
    key = dialog.cam_tab.key
    assert key.isVisible()
    # The bar is drawn in the overlay's colours, low (left) to high (right).
    bar = key.ramp.grab().toImage()
    ends = [bar.pixelColor(x, bar.height() // 2) for x in (0, bar.width() - 1)]
    assert [[c.red(), c.green(), c.blue()] for c in ends] == colormap(np.array([0.0, 1.0])).tolist()
    cam = dialog.explanation.cam
    text = dialog.cam_info.text()
    assert "relative to this map's strongest point" in text
    assert f"{cam.class_name}: {cam.probability * 100:.1f}%" in text
    # A class the model hardly gives has full-red places too: the caption says so.
    shown = []
    for name in ("blue", "green", "red"):
        if name != dialog.explanation.top[0][0]:
            cam = _explain_class(qtbot, dialog, name)
            if cam.flat is None:
                shown.append(cam)
                break
    assert shown and shown[0].probability < 0.5
    text = dialog.cam_info.text()
    assert f"{shown[0].class_name}: {shown[0].probability * 100:.1f}%, so even its red " \
           f"places are weak evidence" in text
    assert key.isVisible()


def test_the_heatmap_is_drawn_over_the_image_in_grey(qtbot, cnn5):
    bundle, folder = cnn5
    dialog = _open(qtbot, bundle, folder / "blue" / "blue_000.png")
    dialog.opacity.setValue(0)  # no colours: what lies under the heatmap
    under = dialog.overlay_view.image
    pixel = under.pixelColor(under.width() // 2, under.height() // 2)
    assert pixel.red() == pixel.green() == pixel.blue()  # blue would mix with red heat
    original = dialog.image_view.image.pixelColor(under.width() // 2, under.height() // 2)
    assert original.blue() > original.red() + 100  # the image beside it keeps its colours


def _rect(widget, dialog) -> QRect:
    return QRect(widget.mapTo(dialog, widget.rect().topLeft()), widget.size())


def test_at_its_minimum_size_no_text_is_cut_or_laid_over_the_pictures(qtbot, cnn5, tmp_path):
    from PIL import Image

    bundle, _ = cnn5
    wide = tmp_path / "wide.png"
    Image.new("RGB", (96, 16), (30, 40, 220)).save(wide)
    dialog = _open(qtbot, bundle)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS):
        dialog.set_image(str(wide))
    _explain_class(qtbot, dialog, "red")  # the flat or the colours caption: long either way
    for _ in range(3):  # the smallest the window allows (its minimum grows with the text)
        dialog.resize(1, 1)
        qtbot.wait(50)
    pictures = [dialog.image_view, dialog.overlay_view, dialog.cam_tab.key]
    labels = [dialog.model_label, dialog.message, dialog.cam_info]
    assert all(label.text() for label in labels)
    for label in labels:
        assert QLabel.heightForWidth(label, label.width()) <= label.height(), label.text()
        for picture in pictures:
            assert not _rect(label, dialog).intersects(_rect(picture, dialog)), label.text()
    assert dialog.height() <= 700  # it still fits a 1366x768 screen


def test_a_failed_image_leaves_nothing_to_fade_and_no_key(qtbot, cnn5, tmp_path):
    bundle, folder = cnn5
    dialog = _open(qtbot, bundle, folder / "red" / "red_000.png")
    assert dialog.opacity.isEnabled()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT_MS):
        dialog.set_image(str(bad))
    assert not dialog.opacity.isEnabled()
    assert not dialog.cam_tab.key.isVisibleTo(dialog)


def test_an_mlp_speaks_of_no_heatmap(qtbot, bundle_path, tmp_path):
    from PIL import Image

    wide = tmp_path / "wide.png"  # other proportions than the input: the note says so
    Image.new("RGB", (48, 16), (220, 30, 30)).save(wide)
    dialog = _open(qtbot, bundle_path, wide)
    text = dialog.cam_info.text()
    assert "own proportions" in text and "heatmap" not in text.lower()
    assert not dialog.cam_tab.key.isVisibleTo(dialog)


def test_cells_after_the_last_feature_map_are_background_not_gaps(qtbot, cnn5):
    from workbench.qt.panels.explain.jobs import EMPTY_RGB, GAP_RGB

    bundle, folder = cnn5
    dialog = _open(qtbot, bundle, folder / "red" / "red_000.png")
    maps = dialog.explanation.maps  # 5 maps of 16x16 in 3 columns, 1 pixel apart
    assert dialog.explanation.maps_total == 5 and maps.shape == (33, 50, 3)
    assert maps[17:, 34:].reshape(-1, 3).tolist() == [list(EMPTY_RGB)] * (16 * 16)
    assert maps[17:, 33].tolist() == [list(GAP_RGB)] * 16  # the last map keeps its frame
    assert maps[16, :].tolist() == [list(GAP_RGB)] * 50
