"""Train tab: a run started with an augmentation that may change the label (a horizontal
flip of left/right arrows) says so on its run line as it starts, as the Augment tab's hint
does, and the Augment tab's one-click fix is the button beside that line."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_image_folder
from workbench.core.registry import Component
from workbench.qt.panels.train.status import model_doctor_line

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def arrows(tmp_path, tiny_experiment):
    """``tiny_experiment`` on left/right classes, trained with a horizontal flip."""
    folder = make_image_folder(tmp_path / "arrows", classes=("left", "right"), per_class=8,
                               size=16)
    tiny_experiment.data.folder = folder
    tiny_experiment.training.epochs = 1
    tiny_experiment.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                                          Component("RandomCrop", {"size": [16, 16],
                                                                   "padding": 2})]
    return tiny_experiment


def _index(folder):
    from workbench.core.data.scan import scan_folder

    return scan_folder(folder)


def test_the_run_line_names_the_flip_and_its_button_removes_it(qtbot, train_panel, arrows):
    panel = train_panel()
    panel.set_dataset(_index(arrows.data.folder))
    fix = panel.start_fix.button
    assert not fix.isVisibleTo(panel)
    changes = []
    panel.current.changed.connect(lambda section, field: changes.append(section))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        text = panel.run_label.text()
        assert panel.run_label.level == "warning"
        # What it does and the button first: a line cut at a laptop's width still says it.
        assert text == ("The Augment tab warns that RandomHorizontalFlip may change the "
                        "label; “Remove the flip” at the right fixes it for the next run (the "
                        "classes 'left'/'right' differ only by left and right, which it "
                        "swaps)."), text
        assert fix.isVisibleTo(panel) and fix.text() == "Remove the flip"
        fix.click()
        # The current Experiment loses the flip (the Augment tab hears it); the run goes on
        # with its snapshot, and the line says so.
        assert [c.type for c in panel.experiment.augment.transforms] == ["RandomCrop"]
        assert panel.experiment.augment.transforms[0].params["padding"] == 2
        assert "augment" in changes
        assert not fix.isVisibleTo(panel)
        assert panel.run_label.text().startswith("Remove the flip: done on the Augment tab. "
                                                 "This run goes on with its own augmentation")
    text, _ = model_doctor_line(panel.experiment, panel.index)
    assert "Augment" not in text  # nothing left to warn about


def test_the_button_goes_when_the_flip_is_removed_on_the_augment_tab(qtbot, train_panel,
                                                                     arrows):
    from workbench.qt.panels.augment.panel import AugmentPanel

    panel = train_panel()
    augment = AugmentPanel(panel.current)
    qtbot.addWidget(augment)
    panel.set_dataset(_index(arrows.data.folder))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.start_fix.button.isVisibleTo(panel)
        augment.apply_fix(next(h.fix for h in _label_hints(arrows) if h.fix))
        assert not panel.start_fix.button.isVisibleTo(panel)
    assert not panel.start_fix.button.isVisibleTo(panel)


def test_the_warning_outlasts_a_short_run_until_the_flip_goes(qtbot, train_panel, arrows):
    """A run on a small set ends in seconds, before its start line is read: the warning
    leads the end line and its button stays while the flip is there."""
    panel = train_panel()
    panel.set_dataset(_index(arrows.data.folder))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.start_fix.button.isVisibleTo(panel)
    assert panel.start_fix.button.isVisibleTo(panel)
    text = panel.run_label.text()
    assert text.startswith("The Augment tab warns that RandomHorizontalFlip may change the "
                           "label; “Remove the flip” at the right fixes it for the next run. "
                           "Model saved to "), text
    assert panel.run_label.level == "warning"
    panel.experiment.augment.transforms = [Component("RandomCrop", {"size": [16, 16]})]
    # Removed elsewhere (the Augment tab): the button goes, the end line stays, unwarned.
    assert not panel.start_fix.button.isVisibleTo(panel)
    assert panel.run_label.text().startswith("Model saved to ")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert not panel.start_fix.button.isVisibleTo(panel)
        assert "Augment" not in panel.run_label.text()


def test_a_refused_start_keeps_the_button_its_line_names(qtbot, train_panel, arrows):
    from workbench.core.model.presets import preset_layers

    arrows.model.layers = preset_layers("cnn-bn")
    arrows.data.batch_size = 1  # refused before a batch trains
    panel = train_panel()
    panel.set_dataset(_index(arrows.data.folder))
    panel.ask = lambda title, text: False
    with qtbot.waitSignal(panel.training_not_started, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    qtbot.wait(50)  # the failure's handlers have all run
    assert "“Remove the flip” at the right fixes it" in panel.run_label.text()
    assert panel.start_fix.button.isVisibleTo(panel)


def _label_hints(exp):
    from workbench.core.data.augment.hints import label_hints

    return label_hints(["left", "right"], list(exp.augment.transforms),
                       folder=str(Path(exp.data.folder)))
