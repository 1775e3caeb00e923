"""Augment panel: every hint's one-click fix (and its Undo), stale draws after an invalid
edit, readable batch labels and the preview image's real size."""

from __future__ import annotations

import pytest
from PIL import Image

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.augment.panel import AugmentPanel

WAIT_MS = 20000


def _panel(qtbot, transforms, input_size=(28, 28)) -> AugmentPanel:
    exp = Experiment()
    exp.data.input_size = list(input_size)
    exp.augment.transforms = transforms
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS).wait()
    return panel


def _with_data(qtbot, panel, root) -> None:
    with qtbot.waitSignal(panel.hints_updated, timeout=WAIT_MS):
        panel.set_index(scan_folder(root))


def _button(panel, text):
    shown = [b for b in panel.hint_view.fix_buttons + [panel.remove_flips_button]
             if b.isVisible()]
    return next((b for b in shown if b.text() == text), None)


@pytest.fixture
def digits(tmp_path):
    return make_image_folder(tmp_path / "digits", classes=tuple("0123"), per_class=2,
                             size=28, mode="L")


def test_rotation_hints_get_a_limit_button_and_undo(qtbot, digits):
    panel = _panel(qtbot, [Component("RandomRotation", {"degrees": 180.0}),
                           Component("RandomAffine", {"degrees": 180.0})])
    _with_data(qtbot, panel, digits)
    assert "RandomAffine rotates up to 180 degrees" in panel.hints.text()
    button = _button(panel, "Limit rotation to 30°")
    assert button is not None
    button.click()
    exp = panel.experiment
    assert [t.params["degrees"] for t in exp.augment.transforms] == [30.0, 30.0]
    assert not panel.hints.isVisible()  # no hint left, no button left
    assert _button(panel, "Limit rotation to 30°") is None
    panel.list.setCurrentRow(0)
    assert panel.form.values()["degrees"] == 30.0
    assert panel.hint_view.undo_button.isVisible()
    panel.hint_view.undo_button.click()
    assert [t.params["degrees"] for t in exp.augment.transforms] == [180.0, 180.0]
    assert _button(panel, "Limit rotation to 30°") is not None
    assert not panel.hint_view.undo_button.isVisible()
    panel.shutdown()


def test_flip_and_rotation_fixes_side_by_side(qtbot, digits):
    panel = _panel(qtbot, [Component("RandomHorizontalFlip"), Component("RandomVerticalFlip"),
                           Component("RandomRotation", {"degrees": 180.0})])
    _with_data(qtbot, panel, digits)
    assert panel.remove_flips_button.text() == "Remove the flips"
    panel.remove_flips_button.click()
    assert [t.type for t in panel.experiment.augment.transforms] == ["RandomRotation"]
    # The rotation hint stays, and still has its button (it had none before).
    assert "RandomRotation rotates up to 180" in panel.hints.text()
    assert _button(panel, "Limit rotation to 30°") is not None
    panel.shutdown()


def test_colour_fix_changes_only_what_the_hint_names(qtbot, tmp_path):
    root = make_image_folder(tmp_path / "c", classes=("red", "green"), per_class=3)
    panel = _panel(qtbot, [Component("ColorJitter", {"brightness": 0.3, "hue": 0.0,
                                                     "saturation": 0.5})])
    _with_data(qtbot, panel, root)
    assert "hue" not in panel.hints.text().lower()
    _button(panel, "Lower saturation to 0.1").click()
    assert panel.experiment.augment.transforms[0].params == \
        {"brightness": 0.3, "hue": 0.0, "saturation": 0.1}
    assert not panel.hints.isVisible()
    panel.shutdown()


def test_a_crop_far_larger_than_the_images_gets_a_hint_and_a_fix(qtbot, tmp_path):
    root = make_image_folder(tmp_path / "p", classes=("cat", "dog"), per_class=3,
                             size=(40, 30))
    panel = _panel(qtbot, [Component("CenterCrop", {"size": [4096, 4096]})],
                   input_size=(30, 40))
    _with_data(qtbot, panel, root)
    assert "CenterCrop (step 1) cuts 4096x4096" in panel.hints.text()
    assert "30 high and 40 wide" in panel.hints.text()
    _button(panel, "Crop to the input size (30x40)").click()
    assert panel.experiment.augment.transforms[0].params["size"] is None
    assert not panel.hints.isVisible()
    panel.shutdown()


def test_an_invalid_range_clears_the_draws_and_names_the_step(qtbot):
    panel = _panel(qtbot, [Component("RandomResizedCrop")])
    assert all(not t.pixmap().isNull() for t in panel.preview.tiles)
    panel.list.setCurrentRow(0)
    panel.form.editors["scale"].boxes[0].setValue(1.0)
    panel.form.editors["scale"].boxes[1].setValue(0.5)
    assert panel.message.level == "error"
    assert panel.message.text().startswith("RandomResizedCrop (step 1) → scale:")
    assert "augment.transforms" not in panel.message.text()
    # The draws on show were of the previous pipeline: gone, and the preview says why.
    assert all(t.pixmap().isNull() for t in panel.preview.tiles)
    assert panel.preview.eval_tile.pixmap().isNull()
    assert "RandomResizedCrop (step 1) → scale" in panel.preview.message.text()
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        panel.form.editors["scale"].boxes[0].setValue(0.3)
    assert all(not t.pixmap().isNull() for t in panel.preview.tiles)
    assert panel.preview.message.text() == ""
    panel.shutdown()


def test_mix_labels_fit_their_tiles_and_keep_the_whole_text(qtbot, tmp_path):
    long = "a very long class name indeed"
    root = make_image_folder(tmp_path / "m", classes=(long, "dog"), per_class=6)
    panel = _panel(qtbot, [Component("MixUp", {"alpha": 1.0})], input_size=(12, 12))
    panel.resize(1366, 768)
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        panel.set_index(scan_folder(root))
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        panel.preview.tabs.setCurrentIndex(1)
    captions = [c for c in panel.preview.batch_texts if " + " in c.text()]
    assert captions
    for cap in captions:
        fm, width = cap.fontMetrics(), cap.contentsRect().width()
        lines = cap.shown_lines()
        assert len(lines) == 2 and all(fm.horizontalAdvance(t) <= width for t in lines)
        assert cap.toolTip() == cap.text()  # the whole label, e.g. "0.62 a very long ..."
    assert any(line.endswith("…") for cap in captions for line in cap.shown_lines())
    panel.shutdown()


def test_preview_tooltip_gives_the_files_size_not_the_decoded_one(qtbot, tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (4032, 3024), (90, 120, 200)).save(path, quality=50)
    panel = _panel(qtbot, [], input_size=(32, 32))
    with qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS):
        assert panel.preview.open_path(str(path))
    tip = panel.preview.original.toolTip()
    w, h = panel.preview.image.size
    assert (w, h) != (4032, 3024)  # decoded small (JPEG draft mode)
    assert "4032x3024" in tip and f"decoded at {w}x{h}" in tip
    panel.shutdown()
