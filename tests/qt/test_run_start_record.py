"""What a run said as it started stays with it in the app: the Train tab shows the last run's
notes again after a restart (random backbone weights, features computed every batch), a
run started from the tab keeps the tab's start warning in run.json, the Runs tab's Preset
column says "random" or "pretrained" after the preset (its tooltip where from, and the
feature mode), and a
run from the tab names its experiment after the run."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from qt_helpers import listed_run
from workbench.core.experiment import Experiment
from workbench.core.io import runs_dir
from workbench.core.registry import Component as C
from workbench.core.runs.store import update_run_info

RUN_TIMEOUT_MS = 120000
NO_FILE = "/home/me/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth"
RANDOM_NOTE = (f"layer 1 (Backbone resnet18): no pretrained weights found at {NO_FILE}; "
               f"training from random weights")
EVERY_BATCH = "Backbone features are computed every batch: the training augmentation is random"


def _backbone_run(root, folder="a", name="transfer-resnet18-1", weights="random",
                  data_folder=""):
    run = listed_run(root, folder, name)
    if data_folder:  # the dataset it trained on
        experiment = json.loads((run / "experiment.json").read_text())
        experiment["data"]["folder"] = data_folder
        (run / "experiment.json").write_text(json.dumps(experiment))
    update_run_info(run, backbone_weights=(
        f"random (no weights file at {NO_FILE})" if weights == "random"
        else "pretrained, loaded from /data/resnet18.pth"),
        feature_mode="computed every batch (random augmentation)"
        if weights == "random" else "cached, 2 augmented views",
        start_notes=[RANDOM_NOTE, EVERY_BATCH],
        start_warnings=["The Model doctor warns about this network: layer 1 (Backbone) is "
                        "frozen but has no pretrained weights; the Model tab has the fix."])
    return run


def test_the_last_runs_start_notes_come_back_after_a_restart(train_panel, tmp_path,
                                                            tiny_experiment):
    run = _backbone_run(tmp_path / "runs", data_folder=tiny_experiment.data.folder)
    panel = train_panel()
    assert panel.notes_label.isHidden()
    assert panel.restore_last_run(str(run))
    label = panel.notes_label
    assert not label.isHidden() and label.level == "warning"
    assert label.text().startswith(f"Last run (transfer-resnet18-1) started with these "
                                   f"notes:\nNote: {RANDOM_NOTE}\nNote: Backbone features "
                                   f"are computed every batch")
    assert "Warning: The Model doctor warns about this network" in label.text()
    # A run from before run.json kept them shows none (and nothing breaks).
    old = listed_run(tmp_path / "runs", "old", "old")
    again = train_panel()
    assert again.restore_last_run(str(old))
    assert again.notes_label.isHidden() and again.run_label.text().startswith("Last run: old")


def test_the_runs_tab_says_which_weights_each_run_had(qtbot, workbench_home):
    from workbench.qt.panels.runs.model import COLUMN
    from workbench.qt.panels.runs.panel import RunsPanel

    _backbone_run(runs_dir(), "a", "on-random")
    _backbone_run(runs_dir(), "b", "on-imagenet", weights="pretrained")
    listed_run(runs_dir(), "c", "no-backbone")
    panel = RunsPanel(runs_dir())
    qtbot.addWidget(panel)
    panel.resize(1366, 700)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    model, column = panel.table.model(), COLUMN["preset"]
    assert model.headerData(column, Qt.Orientation.Horizontal) == "Preset"
    cells = {}
    for row in range(model.rowCount()):
        name = model.index(row, COLUMN["name"]).data()
        index = model.index(row, column)
        cells[name] = (index.data(), index.data(Qt.ItemDataRole.ToolTipRole))
    settings = "scheduler: ?, input size: ?"
    assert cells["on-random"] == ("seed-cnn · random",
                                  f"Backbone weights: random (no weights file at {NO_FILE})\n"
                                  f"Backbone features: computed every batch (random "
                                  f"augmentation)\n{settings}")
    assert cells["on-imagenet"] == ("seed-cnn · pretrained",
                                    f"Backbone weights: pretrained, loaded from /data/resnet18"
                                    f".pth\nBackbone features: cached, 2 augmented views\n"
                                    f"{settings}")
    assert cells["no-backbone"] == ("seed-cnn", settings)
    # The column fits its words, and the Notes column stays in sight at 1366 wide.
    table = panel.table
    assert table.columnWidth(column) >= table.sizeHintForColumn(column)
    notes = COLUMN["notes"]
    assert table.columnViewportPosition(notes) + 100 < table.viewport().width()


def test_a_run_from_the_tab_keeps_its_warning_and_names_its_experiment(qtbot, train_panel,
                                                                       tiny_experiment):
    tiny_experiment.optimizer = C("Adam", {"lr": 0.5})  # advice: very likely to diverge
    tiny_experiment.training.epochs = 1
    panel = train_panel()
    name = panel.setup.run_name()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
        said = panel.run_label.text()
    run = done.args[0]["run_dir"]
    info = json.loads(open(f"{run}/run.json").read())
    # The tab's warning first, then the dataset's (its 9-image validation split), as
    # workbench train records them.
    assert info["start_warnings"][0] == said and "will very likely diverge" in said
    assert any("validation" in w for w in info["start_warnings"][1:])
    # One name: the run's, in run.json, its experiment.json and its bundle.
    assert info["name"] == info["experiment_name"] == name
    assert Experiment.load(f"{run}/experiment.json").name == name
    assert tiny_experiment.name == "tiny"  # the tab's own experiment is not renamed
