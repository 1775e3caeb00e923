"""The tabs are views of one current Experiment: an edit made in one shows in the others
through the Experiment's events (no window passing it on), and replacing the experiment
is one event every tab hears."""

from __future__ import annotations

import shiboken6

from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.qt.main_window import MainWindow
from workbench.qt.panels.augment.panel import AugmentPanel
from workbench.qt.panels.data.panel import DataPanel
from workbench.qt.panels.model.panel import ModelPanel
from workbench.qt.panels.train.panel import TrainPanel

WAIT_MS = 30000


def _backbone_experiment() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [64, 64]
    exp.model.layers = [Component("Backbone", {"arch": "resnet18"}),
                        Component("Linear", {"out_features": None})]
    return exp


def test_the_model_tabs_backbone_size_shows_on_the_data_and_augment_tabs_by_itself(qtbot):
    """No window in between: the Data and Augment tabs hear the Experiment."""
    current = CurrentExperiment(_backbone_experiment())
    data, augment, model = DataPanel(current), AugmentPanel(current), ModelPanel(current)
    for panel in (data, augment, model):
        qtbot.addWidget(panel)
    assert data.settings.height_spin.value() == 64
    model.stack.cards[0].preprocessing_button.click()
    assert (data.settings.height_spin.value(), data.settings.width_spin.value()) == (224, 224)
    assert "0.485" in data.settings.norm_values.text()
    eval_steps = [augment.eval_steps.item(i).text() for i in range(augment.eval_steps.count())]
    assert any("224" in step for step in eval_steps), eval_steps
    model.undo_action.trigger()
    assert data.settings.height_spin.value() == 64
    # The Data tab's own edit reaches the Model tab's input shape the same way.
    data.settings.height_spin.setValue(96)
    qtbot.waitUntil(lambda: "(3, 96, 64)" in model.input_label.text(), timeout=WAIT_MS)


def test_the_doctors_batch_size_fix_shows_on_the_train_tab(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 1
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    window = MainWindow(exp)
    qtbot.addWidget(window)
    model, batch = window.model_panel, window.train_panel.setup.batch_spin
    assert batch.value() == 1
    [i] = [n for n, f in enumerate(model.doctor.findings) if f.code == "batchnorm-batch-one"]
    model.apply_fix(i)
    assert exp.data.batch_size == 32 and batch.value() == 32
    assert window.data_panel.settings.experiment.data.batch_size == 32
    model.undo_action.trigger()
    assert batch.value() == 1


def test_replacing_the_experiment_shows_it_on_every_tab(qtbot):
    window = MainWindow(_backbone_experiment())
    qtbot.addWidget(window)
    new = Experiment()
    new.data.input_size = [40, 30]
    new.training.epochs = 7
    new.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                              Component("RandomVerticalFlip", {"p": 0.5})]
    new.model.layers = preset_layers("mlp")
    replaced = []
    window.experiment_replaced.connect(lambda: replaced.append(1))
    window.current.replace(new)  # what File → Open, File → New and a restore do
    assert replaced == [1]
    assert window.experiment is new
    for panel in (window.data_panel, window.augment_panel, window.model_panel,
                  window.train_panel, window.tune_panel):
        assert panel.experiment is new  # no tab keeps a copy of its own
    settings = window.data_panel.settings
    assert (settings.height_spin.value(), settings.width_spin.value()) == (40, 30)
    assert window.augment_panel.list.count() == 2
    assert len(window.model_panel.stack.cards) == len(new.model.layers)
    assert window.train_panel.setup.epochs_spin.value() == 7
    # Tune's "Apply best" replaces it in place: the same object, one event, every tab.
    tuned = new.copy()
    tuned.training.epochs, tuned.data.input_size = 3, [20, 20]
    window.current.replace(tuned, in_place=True)
    assert window.experiment is new and replaced == [1, 1]
    assert window.train_panel.setup.epochs_spin.value() == 3
    assert settings.height_spin.value() == 20


def test_a_deleted_panel_no_longer_listens(qtbot):
    current = CurrentExperiment(Experiment())
    panel = TrainPanel(current)
    shiboken6.delete(panel)
    current.experiment.data.batch_size = 4  # would call the deleted panel's handler
    current.replace(Experiment())
    assert len(current.changed) == 0 and len(current.replaced) == 0


def test_the_data_tabs_scan_and_the_model_tabs_shapes_reach_the_other_tabs_by_themselves(
        qtbot, tiny_experiment, workbench_home):
    """No window in between: the tabs that show the scan or the network's shapes hear them
    from the current experiment, and a tab made after the news is given it at once."""
    from workbench.qt.panels.predict.panel import PredictPanel

    current = CurrentExperiment(tiny_experiment)
    data, model = DataPanel(current), ModelPanel(current)
    train, augment = TrainPanel(current), AugmentPanel(current)
    for panel in (data, model, train, augment):
        qtbot.addWidget(panel)
    with qtbot.waitSignal(data.dataset_loaded, timeout=WAIT_MS) as scanned:
        data.load_folder(tiny_experiment.data.folder)
    index = scanned.args[0]
    assert current.dataset is index
    assert model.num_classes == 3 and model.output_classes() == 3
    assert train.index is index and augment.preview.index is index
    predict = PredictPanel(experiment=current)  # made after the scan
    qtbot.addWidget(predict)
    assert predict.images_start_folder() == str(index.root)

    # A network that does not fit keeps Start disabled, saying why; a fix enables it.
    layers = current.experiment.model.layers
    layers.insert(1, Component("Conv2d", {"out_channels": 4}))  # after Flatten: no image
    current.experiment.announce("model")
    qtbot.waitUntil(lambda: bool(current.network and current.network[1]), timeout=WAIT_MS)
    assert not train.start_button.isEnabled()
    assert "Fix the network on the Model tab first" in train.start_button.toolTip()
    late = TrainPanel(current)  # a Train tab made now knows it too
    qtbot.addWidget(late)
    assert not late.start_button.isEnabled()
    del layers[1]
    current.experiment.announce("model")
    qtbot.waitUntil(lambda: current.network[1] == "", timeout=WAIT_MS)
    assert train.start_button.isEnabled() and late.start_button.isEnabled()
