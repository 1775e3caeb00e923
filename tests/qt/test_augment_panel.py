"""Augment panel: edit the transform list and parameters, live preview, batch view."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.augment.panel import AugmentPanel


def _exp() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                              Component("RandomRotation", {"degrees": 10.0}),
                              Component("ColorJitter", {})]
    return exp


@pytest.fixture
def panel(qtbot):
    p = AugmentPanel(_exp())
    qtbot.addWidget(p)
    # The first preview (started by the constructor) is done before a test starts.
    qtbot.waitSignal(p.preview_updated, timeout=20000).wait()
    yield p
    p.shutdown()


def _types(exp):
    return [c.type for c in exp.augment.transforms]


def _tile_images(p):
    return [p.preview.tiles[i].pixmap().toImage() for i in range(len(p.preview.tiles))]


def test_lists_transforms_and_both_pipelines(panel):
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == \
        ["RandomHorizontalFlip", "RandomRotation", "ColorJitter"]
    train = [panel.train_steps.item(i).text() for i in range(panel.train_steps.count())]
    evals = [panel.eval_steps.item(i).text() for i in range(panel.eval_steps.count())]
    assert any("Flip left-right" in t for t in train)
    assert not any("Flip" in t for t in evals)  # random steps are dropped for evaluation


def test_parameter_change_refreshes_preview_and_experiment(qtbot, panel):
    panel.list.setCurrentRow(1)
    before = _tile_images(panel)
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(panel.preview_updated, timeout=10000):
        panel.form.editors["degrees"].setValue(170.0)
    assert panel.experiment.augment.transforms[1].params["degrees"] == 170.0
    assert changed
    assert any("170" in panel.train_steps.item(i).text()
               for i in range(panel.train_steps.count()))
    assert _tile_images(panel) != before


def test_preview_shows_sixteen_tiles_and_reroll_draws_again(qtbot, panel):
    assert all(not lab.pixmap().isNull() for lab in panel.preview.tiles)
    assert not panel.preview.eval_tile.pixmap().isNull()
    before = _tile_images(panel)
    with qtbot.waitSignal(panel.preview_updated, timeout=10000):
        panel.preview.reroll_button.click()
    assert _tile_images(panel) != before


def test_edits_round_trip_through_json(qtbot, panel, tmp_path):
    panel.list.setCurrentRow(0)
    panel.form.editors["p"].setValue(0.25)
    panel.add_transform("RandomResizedCrop")  # after the selected row
    panel.form.editors["scale"].boxes[0].setValue(0.3)
    panel.form.auto_boxes["size"].setChecked(False)
    panel.form.editors["size"].set_value([12, 12])
    panel.form.editors["size"].boxes[0].setValue(14)
    path = tmp_path / "exp.json"
    panel.experiment.save(path)
    loaded = Experiment.load(path)
    assert _types(loaded) == ["RandomHorizontalFlip", "RandomResizedCrop", "RandomRotation",
                              "ColorJitter"]
    assert loaded.augment.transforms[0].params["p"] == 0.25
    crop = loaded.augment.transforms[1].params
    assert crop["scale"][0] == pytest.approx(0.3) and crop["size"] == [14, 12]
    # And back: a loaded experiment shows its values in the form.
    panel.set_experiment(loaded)
    panel.list.setCurrentRow(1)
    assert panel.form.values()["size"] == [14, 12]
    assert panel.form.values()["scale"][0] == pytest.approx(0.3)


def test_remove_and_move_buttons(panel):
    panel.list.setCurrentRow(0)
    panel.move_selected(1)
    assert _types(panel.experiment) == ["RandomRotation", "RandomHorizontalFlip", "ColorJitter"]
    panel.list.setCurrentRow(2)
    panel.remove_selected()
    assert _types(panel.experiment) == ["RandomRotation", "RandomHorizontalFlip"]


def test_reorder_by_drag_changes_experiment(qtbot, panel):
    # What an internal drag-move does to the list's model: move row 0 below row 2.
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(1))
    model = panel.list.model()
    assert model.moveRow(QModelIndex(), 0, QModelIndex(), 3)
    qtbot.waitUntil(lambda: bool(changed), timeout=5000)
    assert _types(panel.experiment) == ["RandomRotation", "ColorJitter", "RandomHorizontalFlip"]


def test_add_menu_offers_every_registered_transform(panel):
    from workbench.core.data.augment.transforms import TRANSFORMS

    names = {a.text() for m in panel.add_button.menu().actions() if m.menu()
             for a in m.menu().actions()}
    assert names == set(TRANSFORMS.names())


def test_invalid_parameter_shows_error_not_crash(panel):
    panel.experiment.augment.transforms[1].params["degrees"] = -3.0
    panel.refresh()
    assert panel.message.level == "error" and "degrees" in panel.message.text()


def test_batch_tab_shows_mixup_labels(qtbot, panel, image_folder):
    from workbench.core.data.scan import scan_folder

    panel.experiment.augment.transforms.append(Component("MixUp", {"alpha": 1.0}))
    panel.experiment.data.batch_size = 8
    with qtbot.waitSignal(panel.preview_updated, timeout=10000):
        panel.set_index(scan_folder(str(image_folder)))
    with qtbot.waitSignal(panel.preview_updated, timeout=20000):
        panel.preview.tabs.setCurrentIndex(1)
    texts = [t.text() for t in panel.preview.batch_texts if t.text()]
    assert len(texts) == 8
    assert any(" + " in t for t in texts)
    assert sum(not lab.pixmap().isNull() for lab in panel.preview.batch_tiles) >= 8


def test_preview_images_come_from_the_dataset(qtbot, panel, image_folder):
    from workbench.core.data.scan import scan_folder

    with qtbot.waitSignal(panel.preview_updated, timeout=10000):
        panel.set_index(scan_folder(str(image_folder)))
    assert panel.preview.class_combo.count() == 4  # "any class" + 3
    assert str(image_folder) in panel.preview.image_name
    panel.preview.class_combo.setCurrentIndex(3)
    with qtbot.waitSignal(panel.preview_updated, timeout=10000):
        panel.preview.pick_random()
    assert "red" in panel.preview.image_name
    assert np.asarray(panel.preview.image).shape[:2] == (16, 16)


def test_colour_hint_uses_the_datasets_measured_colours(qtbot, tmp_path):
    from PIL import Image

    from helpers import make_image_folder
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.qt.panels.augment.panel import AugmentPanel

    root = make_image_folder(tmp_path / "d", classes=("alpha", "beta"), per_class=4)
    for name, colour in (("alpha", (220, 30, 30)), ("beta", (30, 40, 220))):
        for f in (tmp_path / "d" / name).iterdir():
            Image.new("RGB", (12, 12), colour).save(f)
    exp = Experiment()
    exp.augment.transforms = [Component("ColorJitter", {"hue": 0.3})]
    exp.validate()
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.hints_updated, timeout=20000):
        panel.set_index(scan_folder(root))
    assert "ColorJitter" in panel.hints.text()
    panel.shutdown()
