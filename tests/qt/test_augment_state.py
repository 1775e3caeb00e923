"""The Augment tab's state for the session: the selected step, the sub-tabs, the preview's
class and dataset image come back (a walk-through: after a restart step 1, the Parameters
and "16 draws" tabs, "any class" and another image)."""

from __future__ import annotations

import json
import os

from helpers import make_image_folder
from test_augment_fixes import _panel, _with_data
from workbench.core.registry import Component
from workbench.qt.panels.augment.state import augment_state, restore_augment_state

STEPS = ["RandomResizedCrop", "ColorJitter", "RandomRotation", "RandomErasing"]


def _steps():
    return [Component(name) for name in STEPS]


def _left_as(qtbot, folder):
    panel = _panel(qtbot, _steps())
    _with_data(qtbot, panel, folder)
    preview = panel.preview
    panel.list.setCurrentRow(2)
    panel.pipelines.setCurrentIndex(1)
    preview.tabs.setCurrentIndex(1)
    preview.class_combo.setCurrentIndex(preview.class_combo.findText("green"))
    image = sorted(p for p, label in preview.index.samples
                   if preview.index.classes[label] == "green")[1]
    assert preview.open_path(image, "green")
    state = json.loads(json.dumps(augment_state(panel)))  # as the session file keeps it
    panel.shutdown()
    return state, image


def _shown(panel):
    preview = panel.preview
    return (panel.list.currentRow(), panel.pipelines.currentIndex(),
            preview.tabs.currentIndex(), preview.class_combo.currentText(),
            preview.image_name, preview.image_class)


def test_the_tab_reopens_where_it_was_left(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "d", per_class=3)
    state, image = _left_as(qtbot, folder)
    assert state == {"step": 2, "pipelines": 1, "preview": 1, "class": "green",
                     "image": image}
    # Built after the dataset was loaded, as when the tab is first opened later.
    again = _panel(qtbot, _steps())
    _with_data(qtbot, again, folder)
    restore_augment_state(again, state)
    assert _shown(again) == (2, 1, 1, "green", image, "green")
    again.shutdown()


def test_the_class_and_image_wait_for_the_dataset(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "d", per_class=3)
    state, image = _left_as(qtbot, folder)
    again = _panel(qtbot, _steps())
    restore_augment_state(again, state)
    assert augment_state(again) == state  # kept as it was until the dataset is there
    _with_data(qtbot, again, folder)
    assert _shown(again) == (2, 1, 1, "green", image, "green")
    again.shutdown()


def test_an_image_gone_gives_way_to_one_of_its_class_and_bad_values_are_ignored(
        qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "d", per_class=3)
    state, image = _left_as(qtbot, folder)
    os.remove(image)
    again = _panel(qtbot, _steps())
    _with_data(qtbot, again, folder)
    restore_augment_state(again, {**state, "step": 9, "pipelines": "x", "preview": True})
    row, pipelines, tab, class_name, shown, shown_class = _shown(again)
    assert (row, pipelines, tab, class_name, shown_class) == (0, 0, 0, "green", "green")
    assert shown != image
    assert augment_state(again)["image"] == shown
    again.shutdown()


def test_a_new_tab_keeps_nothing(qtbot, tmp_path):
    panel = _panel(qtbot, _steps())
    assert augment_state(panel) == {}
    panel.shutdown()


def test_the_app_reopens_the_augment_tab_as_left(qtbot, tmp_path, tiny_experiment):
    # The whole round trip: the window closed, the app started again.
    import workbench.qt.app as app
    from workbench.core.session import session_text, write_session
    from workbench.qt.workers import task_pool

    tiny_experiment.augment.transforms = _steps()
    write_session(session_text(tiny_experiment, b"", "Augment"))
    window = app.create_window()
    qtbot.addWidget(window)
    panel = window.augment_panel
    panel.list.setCurrentRow(2)
    panel.pipelines.setCurrentIndex(1)
    window.close()
    task_pool().waitForDone()
    again = app.create_window()
    qtbot.addWidget(again)
    panel = again.augment_panel
    assert (panel.list.currentRow(), panel.pipelines.currentIndex()) == (2, 1)
    again.close()
    task_pool().waitForDone()
