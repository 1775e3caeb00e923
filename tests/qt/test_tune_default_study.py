"""The Tune tab and `workbench tune` name a study alike (``<dataset>-<network>``); with the
Study name empty, a study stored under another name that searched the open experiment (as
`workbench tune` once named one) is named on the message line; Start does not add trials to
a study that searched another network."""

from __future__ import annotations

import pytest

from workbench.core.runs.names import run_name_base
from workbench.core.tune.provenance import experiment_mark
from workbench.qt.panels.tune.panel import TunePanel
from workbench.qt.workers import task_pool

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR = "optimizer.params.lr"


@pytest.fixture
def panel(qtbot, tiny_experiment, tmp_path):
    tiny_experiment.training.epochs = 1
    (tmp_path / "runs").mkdir()
    p = TunePanel(tiny_experiment, runs_parent=tmp_path / "runs")
    qtbot.addWidget(p)
    p.trials_spin.setValue(1)
    yield p
    p.shutdown()
    task_pool().waitForDone()


def _study(url, name, mark):
    study = optuna.create_study(storage=url, study_name=name, direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.set_user_attr("experiment", mark)
    study.add_trial(optuna.trial.create_trial(
        params={LR: 0.01}, value=0.5,
        distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))


def test_an_unnamed_tab_names_a_study_of_this_experiment_stored_otherwise(
        qtbot, panel, tiny_experiment):
    url = panel.default_storage_text()
    _study(url, "experiment", experiment_mark(tiny_experiment))  # `workbench tune`, before
    other = tiny_experiment.copy()
    other.model.layers = other.model.layers[:2]
    _study(url, "elsewhere", experiment_mark(other))  # another network: not named
    panel.follower.follow()
    default = run_name_base(tiny_experiment)
    qtbot.waitUntil(lambda: "experiment searched" in panel.message.text(), timeout=TIMEOUT_MS)
    assert panel.message.text() == (
        f"No study {default} is stored yet; experiment searched this experiment: type its "
        f"name in Study name to show it and continue it")
    panel.name_edit.setText("experiment")
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 1, timeout=TIMEOUT_MS)


def test_start_refuses_a_study_that_searched_another_network(qtbot, panel,
                                                            tiny_experiment):
    other = tiny_experiment.copy()
    other.model.layers = other.model.layers[:2]
    _study(panel.default_storage_text(), run_name_base(tiny_experiment),
           experiment_mark(other))
    panel.continue_check.setChecked(True)
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.start()
    assert blocker.args[0] is None
    assert "searched experiment" in panel.message.text()
    assert "give another study name" in panel.message.text()
    study = optuna.load_study(study_name=run_name_base(tiny_experiment),
                              storage=panel.default_storage_text())
    assert len(study.trials) == 1  # nothing added
