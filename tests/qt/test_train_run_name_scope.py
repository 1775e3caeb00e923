"""A run name typed for one experiment is not carried over to another (walker report
walk-projects, defect 2): opening an experiment of another dataset folder or network, in
this session or with a restart, drops the typed name and shows the ``<dataset>-<network>-<n>``
suggestion again, and says so; a name typed for the same dataset and network, and one
kept while the experiment is tuned in place, stays."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.core.model.presets import preset_layers
from workbench.core.session import session_text, write_session
from workbench.qt import app


@pytest.fixture
def shapes(tmp_path):
    """A second dataset folder, ``shapes``."""
    return str(make_image_folder(tmp_path / "shapes", per_class=4, size=16))


def _suggested(setup) -> bool:
    return setup.name_edit.text() == setup.name_edit.placeholderText() != ""


def test_opening_another_dataset_or_network_drops_the_typed_name(train_panel, shapes):
    panel = train_panel()
    setup = panel.setup
    setup.name_edit.setText("colours-baseline")
    other = panel.experiment.copy()
    other.data.folder = shapes
    panel.set_experiment(other)  # File → Open of another project
    assert _suggested(setup) and setup.name_edit.placeholderText().startswith("shapes-mlp-")
    assert setup.run_name() == setup.name_edit.placeholderText()
    assert setup.typed_name() == ""
    assert setup.name_note.isVisibleTo(panel)
    assert "“colours-baseline” was typed for colours with mlp" in setup.name_note.text()
    setup.name_edit.setText("shapes-mlp-try")
    assert setup.name_note.isHidden()
    cnn = other.copy()
    cnn.model.layers, cnn.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    panel.set_experiment(cnn)  # the same folder, another network
    assert _suggested(setup) and "shapes-seed-cnn-" in setup.name_edit.text()


def test_the_same_dataset_and_network_and_tuning_in_place_keep_the_typed_name(
        train_panel, shapes):
    panel = train_panel()
    setup = panel.setup
    setup.name_edit.setText("colours-baseline")
    same = panel.experiment.copy()
    same.training.epochs = 5  # another file of the same project
    panel.set_experiment(same)
    assert setup.name_edit.text() == "colours-baseline" and setup.name_note.isHidden()
    tuned = panel.experiment.copy()
    tuned.data.folder = shapes
    tuned.model.layers, tuned.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    panel.current.replace(tuned, in_place=True)  # a Tune trial's settings, applied
    assert panel.experiment is same
    assert setup.name_edit.text() == "colours-baseline"
    assert setup.run_name() == "colours-baseline"


def _window(qtbot, **kwargs):
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    return window


def test_a_restart_restores_the_typed_name_only_for_its_experiment(
        qtbot, tiny_experiment, shapes, tmp_path):
    write_session(session_text(tiny_experiment, b"", "Train"))
    window = _window(qtbot)
    window.train_panel.setup.name_edit.setText("colours-baseline")
    window.close()  # the session keeps the typed name

    same = tiny_experiment.copy()
    same.training.epochs = 7
    same.save(tmp_path / "same.json")
    again = _window(qtbot, experiment=str(tmp_path / "same.json"))
    assert again.train_panel.setup.name_edit.text() == "colours-baseline"
    again.close()

    other = tiny_experiment.copy()
    other.data.folder = shapes
    other.save(tmp_path / "other.json")
    third = _window(qtbot, experiment=str(tmp_path / "other.json"))
    setup = third.train_panel.setup
    assert _suggested(setup) and setup.name_edit.text().startswith("shapes-mlp-")
    assert setup.run_name() != "colours-baseline"
    assert "“colours-baseline” was typed for colours with mlp" in setup.name_note.text()
    third.close()

    fourth = _window(qtbot)  # the session now holds the shapes experiment, no typed name
    assert _suggested(fourth.train_panel.setup)
    fourth.close()


def test_another_folder_opened_on_the_data_tab_drops_the_typed_name(train_panel, shapes):
    panel = train_panel()
    setup = panel.setup
    setup.name_edit.setText("colours-baseline")
    setup.name_edit.textEdited.emit("colours-baseline")  # as typing does
    panel.experiment.data.folder = shapes  # the Data tab's Open folder: the same Experiment
    panel.experiment.announce("data")
    setup.update_name(force=False)  # (as the Model tab's summary of the new data does)
    assert _suggested(setup) and setup.name_edit.text().startswith("shapes-")
    assert "“colours-baseline” was typed for colours" in setup.name_note.text()


def test_a_restart_with_data_of_another_folder_drops_the_typed_name(
        qtbot, tiny_experiment, shapes):
    write_session(session_text(tiny_experiment, b"", "Train"))
    window = _window(qtbot)
    window.train_panel.setup.name_edit.setText("colours-baseline")
    window.close()
    again = _window(qtbot, data=shapes)  # workbench --data ~/shapes
    setup = again.train_panel.setup
    qtbot.waitUntil(lambda: again.experiment.data.folder == shapes, timeout=30000)
    setup.update_name(force=False)
    assert setup.run_name() != "colours-baseline"
    assert "“colours-baseline” was typed for colours" in setup.name_note.text()
    again.close()
