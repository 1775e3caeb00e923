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
        assert text.startswith("The Augment tab warns: RandomHorizontalFlip may change the "
                               "label: the classes 'left'/'right' differ only by left and "
                               "right"), text
        assert text.endswith("which it swaps; “Remove the flip” at the right fixes it for the "
                             "next run."), text
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


def test_no_button_without_a_label_hint_and_none_after_the_run(qtbot, train_panel, arrows):
    panel = train_panel()
    panel.set_dataset(_index(arrows.data.folder))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.start_fix.button.isVisibleTo(panel)
    # The line is the saved model's now: the button that belonged to the start line goes.
    assert not panel.start_fix.button.isVisibleTo(panel)
    assert "Model saved to" in panel.run_label.text()
    panel.experiment.augment.transforms = [Component("RandomCrop", {"size": [16, 16]})]
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert not panel.start_fix.button.isVisibleTo(panel)
        assert "Augment" not in panel.run_label.text()


def _label_hints(exp):
    from workbench.core.data.augment.hints import label_hints

    return label_hints(["left", "right"], list(exp.augment.transforms),
                       folder=str(Path(exp.data.folder)))
