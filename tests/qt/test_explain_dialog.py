"""Explain dialog: Grad-CAM over the image, feature maps, filters, and clear messages."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from qt_helpers import drop_urls, open_explain, train_colours_cnn
from workbench.core.registry import Component

TIMEOUT_MS = 30000


def _conv() -> Component:
    return Component("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1})


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """A small trained CNN bundle (Conv2d 4 filters, ReLU, Flatten, Linear) and its folder."""
    root = tmp_path_factory.mktemp("explain")
    result, folder = train_colours_cnn(root, "tiny-cnn",
                                [_conv(), Component("ReLU", {}), Component("Flatten", {}),
                                 Component("Linear", {"out_features": 3})],
                                per_class=12, epochs=2, val_fraction=0.25)
    bundle = root / "cnn.pt"
    result.save_bundle(bundle)
    return str(bundle), folder


@pytest.fixture(scope="module")
def pooled_run(tmp_path_factory):
    """Conv2d, ReLU, MaxPool2d, Flatten, Linear (seed-cnn's ending), whose Linear weighs
    every pooled activation against class "blue": its Grad-CAM map at the MaxPool is empty."""
    import torch

    root = tmp_path_factory.mktemp("explain-pooled")
    result, folder = train_colours_cnn(root, "pooled-cnn",
                                [_conv(), Component("ReLU", {}),
                                 Component("MaxPool2d", {"kernel_size": 2}),
                                 Component("Flatten", {}),
                                 Component("Linear", {"out_features": 3})],
                                per_class=6, epochs=1)
    with torch.no_grad():
        result.model[4].weight[0] = -1.0  # class 0, "blue"
    bundle = root / "pooled.pt"
    result.save_bundle(bundle)
    return str(bundle), folder


_open = open_explain


def test_grad_cam_shows_the_overlay_and_the_predicted_class(qtbot, cnn_run):
    bundle, folder = cnn_run
    image = folder / "red" / "red_000.png"
    dialog = _open(qtbot, bundle)
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS) as blocker:
        dialog.set_image(str(image))
    result = blocker.args[0]
    assert result.heatmap.shape == (16, 16)
    assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0
    predicted = dialog.explanation.top[0][0]
    assert result.class_name == predicted  # "Predicted class" explains the prediction
    assert dialog.image_view.image is not None and dialog.overlay_view.image is not None
    assert not dialog.overlay_view.pixmap().isNull()
    assert f"Predicted:</b> {predicted}" in dialog.cam_info.text()
    assert f"Explaining:</b> {predicted}" in dialog.cam_info.text()
    assert dialog.message.level == "ok"
    # The class and layer choices come from the bundle.
    assert [dialog.class_combo.itemText(i) for i in range(dialog.class_combo.count())] == \
        ["Predicted class", "blue", "green", "red"]
    layers = [dialog.layer_combo.itemText(i) for i in range(dialog.layer_combo.count())]
    assert layers == ["1 Conv2d", "2 ReLU"] and dialog.layer_combo.currentText() == "1 Conv2d"


def test_choosing_another_class_changes_the_heatmap(qtbot, cnn_run):
    bundle, folder = cnn_run
    dialog = _open(qtbot, bundle, folder / "green" / "green_000.png")
    first = dialog.explanation.cam
    other = next(c for c in ("blue", "green", "red") if c != first.class_name)
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS) as blocker:
        dialog.class_combo.setCurrentText(other)
    second = blocker.args[0]
    assert second.class_name == other and second.class_index != first.class_index
    assert not np.allclose(second.heatmap, first.heatmap)
    assert f"Explaining:</b> {other}" in dialog.cam_info.text()


def test_opacity_slider_redraws_the_overlay(qtbot, cnn_run):
    bundle, folder = cnn_run
    dialog = _open(qtbot, bundle, folder / "blue" / "blue_000.png")
    before = dialog.overlay_view.image.copy()
    dialog.opacity.setValue(0)  # no heatmap: the overlay is the image itself, in grey
    assert dialog.overlay_view.image != before
    from workbench.core.explain.display import as_grey
    from workbench.qt.panels.explain.views import array_to_image

    assert dialog.overlay_view.image == array_to_image(as_grey(dialog.explanation.display))


def test_feature_maps_and_filters_views_are_filled(qtbot, cnn_run):
    bundle, folder = cnn_run
    dialog = _open(qtbot, bundle, folder / "red" / "red_001.png")
    assert dialog.filters_view.image is not None
    assert "4 filters" in dialog.filters_note.text()
    # 4 filters of 3x3 in a 2x2 grid with 1-pixel gaps, shown in colour.
    assert (dialog.setup.filters.shape) == (7, 7, 3)
    assert dialog.maps_view.image is not None
    assert dialog.explanation.maps_total == 4 and dialog.explanation.maps_shown == 4
    assert "4 feature maps of layer 1 Conv2d" in dialog.maps_note.text()
    with qtbot.waitSignal(dialog.updated, timeout=TIMEOUT_MS):
        dialog.layer_combo.setCurrentText("2 ReLU")
    assert "layer 2 ReLU" in dialog.maps_note.text()
    assert dialog.explanation.cam.layer == "2 ReLU"


def test_the_default_layer_is_the_last_convolution_not_the_pooling(qtbot, pooled_run):
    bundle, folder = pooled_run
    dialog = _open(qtbot, bundle, folder / "red" / "red_000.png")
    layers = [dialog.layer_combo.itemText(i) for i in range(dialog.layer_combo.count())]
    assert layers == ["1 Conv2d", "2 ReLU", "3 MaxPool2d"]
    assert dialog.layer_combo.currentText() == "1 Conv2d"
    assert dialog.explanation.cam.layer == "1 Conv2d"
    assert "4 feature maps of layer 1 Conv2d" in dialog.maps_note.text()


def test_an_empty_map_is_said_plainly_not_captioned_red(qtbot, pooled_run, monkeypatch):
    bundle, folder = pooled_run
    dialog = _open(qtbot, bundle, folder / "red" / "red_000.png")
    with qtbot.waitSignal(dialog.updated, timeout=TIMEOUT_MS):
        dialog.class_combo.setCurrentText("blue")
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS) as blocker:
        dialog.layer_combo.setCurrentText("3 MaxPool2d")
    cam = blocker.args[0]
    assert cam.flat == "empty" and cam.layer == "3 MaxPool2d"
    caption = dialog.cam_info.text()
    assert "Red:" not in caption
    assert "is empty" in caption and "the last convolution, 1 Conv2d" in caption
    assert dialog.overlay_view.image is None and "No heatmap" in dialog.overlay_view.text()
    assert not dialog.opacity.isEnabled()  # nothing to fade
    dialog.opacity.setValue(80)  # nothing to redraw: the note stays
    assert dialog.overlay_view.image is None
    assert dialog.message.level == "warning" and "3 MaxPool2d" in dialog.message.text()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: pytest.fail("nothing to save")))
    assert dialog.save_png() is None and "choose another layer" in dialog.message.text()
    # A map with a place in it is drawn and captioned again.
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS) as blocker:
        dialog.class_combo.setCurrentText("Predicted class")
    name = blocker.args[0].class_name
    assert blocker.args[0].flat is None
    assert f"red where the evidence for {name} is strongest" in dialog.cam_info.text()
    assert dialog.overlay_view.image is not None and dialog.message.level == "ok"
    assert dialog.opacity.isEnabled()


def test_a_dropped_image_is_explained_and_saved_as_png(qtbot, cnn_run, tmp_path, monkeypatch):
    bundle, folder = cnn_run
    dialog = _open(qtbot, bundle)
    image = folder / "blue" / "blue_002.png"
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS):
        assert drop_urls(dialog, [image]).isAccepted()
    assert dialog.image_path == str(image)
    out = tmp_path / "cam"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "PNG images (*.png)")))
    for tab in range(3):
        dialog.tabs.setCurrentIndex(tab)
        saved = dialog.save_png()
        assert saved == str(out) + ".png"
        picture = QImage(saved)
        assert not picture.isNull() and min(picture.width(), picture.height()) >= 256
    # Offered beside the model, not in the image's class folder (a walkthrough's heatmap
    # became a training image of "cat"); saved there anyway, it is said.
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda parent, title, start, *a: asked.append(start) or
        (str(image.with_name("cam.png")), "")))
    dialog.save_png()
    assert os.path.dirname(asked[0]) == os.path.dirname(str(bundle))
    assert dialog.message.level == "warning" and "training images" in dialog.message.text()


def test_an_unreadable_image_gives_a_message_not_a_traceback(qtbot, cnn_run, tmp_path):
    bundle, _ = cnn_run
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    dialog = _open(qtbot, bundle)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT_MS) as blocker:
        dialog.set_image(str(bad))
    assert "Cannot explain this image" in blocker.args[0] and "broken.png" in blocker.args[0]
    assert dialog.message.level == "error"
    assert dialog.overlay_view.image is None


def test_an_mlp_says_it_has_no_convolution_layer(qtbot, bundle_path, image_folder):
    dialog = _open(qtbot, bundle_path)
    assert dialog.message.level == "error" and "no convolutional layer" in dialog.message.text()
    assert dialog.layer_combo.count() == 0 and not dialog.layer_combo.isEnabled()
    assert dialog.filters_view.image is None
    assert "no convolution layer" in dialog.filters_view.text()
    with qtbot.waitSignal(dialog.updated, timeout=TIMEOUT_MS):
        dialog.set_image(str(image_folder / "red" / "red_000.png"))
    assert dialog.image_view.image is not None  # the image is still shown
    assert dialog.overlay_view.image is None and "Conv2d" in dialog.overlay_view.text()
    assert dialog.maps_view.image is None
    assert dialog.message.level == "error"
    assert dialog.explanation.top and dialog.explanation.top[0][0] in ("blue", "green", "red")


def test_an_mlp_still_shows_the_prediction_and_the_chosen_classs_probability(
        qtbot, bundle_path, image_folder):
    dialog = _open(qtbot, bundle_path, image_folder / "red" / "red_000.png")
    assert dialog.layer_combo.placeholderText() == "none (no convolution)"
    top = dialog.explanation.top
    assert f"<b>Predicted:</b> {top[0][0]} ({top[0][1] * 100:.1f}%)" in dialog.cam_info.text()
    assert "Chosen" not in dialog.cam_info.text() and not dialog.opacity.isEnabled()
    other = next(c for c in ("blue", "green", "red") if c != top[0][0])
    with qtbot.waitSignal(dialog.updated, timeout=TIMEOUT_MS):
        dialog.class_combo.setCurrentText(other)
    probs = dict(zip(("blue", "green", "red"), dialog.explanation.probabilities))
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    text = dialog.cam_info.text()
    assert f"<b>Chosen:</b> {other} ({probs[other] * 100:.1f}%)" in text
    assert f"<b>Predicted:</b> {top[0][0]}" in text and "heatmap" not in text.lower()


def test_open_image_uses_the_file_dialog(qtbot, cnn_run, monkeypatch):
    bundle, folder = cnn_run
    image = folder / "green" / "green_003.png"
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(image), "")))
    dialog = _open(qtbot, bundle)
    with qtbot.waitSignal(dialog.explained, timeout=TIMEOUT_MS):
        dialog.open_button.click()
    assert dialog.image_path == str(image)


def test_a_wide_image_is_shown_in_its_own_proportions(qtbot, cnn_run, tmp_path):
    from PIL import Image

    bundle, _ = cnn_run
    wide = Image.new("RGB", (48, 16), (20, 20, 20))
    wide.paste((40, 200, 40), (36, 4, 44, 12))
    wide.save(tmp_path / "wide.png")
    dialog = _open(qtbot, bundle, tmp_path / "wide.png")
    dialog.resize(900, 640)
    dialog.show()
    # The network saw it squashed to 16x16; the dialog shows it 3 times as wide as high,
    # the heatmap stretched to match, and says so.
    for view in (dialog.image_view, dialog.overlay_view):
        assert (view.image.width(), view.image.height()) == (48, 16)
        assert view.pixmap().width() == 3 * view.pixmap().height()
    assert "image 48×16, resized to 16×16 for the network" in dialog.cam_info.text()
    assert "own proportions" in dialog.cam_info.text()


def test_pictures_are_enlarged_to_fill_their_view(qtbot):
    from workbench.qt.panels.explain.views import ImageView

    view = ImageView()
    qtbot.addWidget(view)
    view.resize(850, 470)
    view.show()
    view.show_array(np.zeros((290, 290, 3), np.uint8))  # a 6x6 grid of 48-pixel maps
    box = view.contentsRect()
    # 1.6 times, not 1 (whole multiples only), nor out of the view.
    assert box.height() - 2 <= view.pixmap().height() <= box.height()
    assert view.pixmap().width() == view.pixmap().height()
