"""The Tune tab's Apply best gives the experiment the best trial trained: when the open
experiment has other unsearched settings now, it names each one and asks; and it says when
the trials trained another number of epochs (walk-lrtune report, items 1 and 4)."""

from __future__ import annotations

import pytest

from workbench.core.registry import Component

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR = "optimizer.params.lr"


def _lr_study(url, trained: dict, lr: float = 0.0036):
    """Study lronly: one complete trial of learning rate ``lr`` that trained ``trained``."""
    study = optuna.create_study(storage=url, study_name="lronly", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.add_trial(optuna.trial.create_trial(
        params={LR: lr}, value=0.5, user_attrs={"trained": trained},
        distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))


def _listed(qtbot, panel, tmp_path, trained):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _lr_study(url, trained)
    panel.storage_edit.setText(url)
    panel.name_edit.setText("lronly")
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 1, timeout=TIMEOUT_MS)


def _edited(panel):
    """The experiment edited since the trials ran: SGD at batch 4 (another study applied)."""
    exp = panel.experiment.copy()
    exp.optimizer = Component("SGD", {"lr": 0.5, "momentum": 0.9})
    exp.data.batch_size = 4
    exp.training.epochs = 10
    panel.set_experiment(exp.validate())


@pytest.fixture
def trained(tune_panel):
    """What the trial trained: the tab's experiment (Adam, batch 8), 2 epochs."""
    exp = tune_panel.experiment.copy()
    exp.training.epochs = 2
    return exp.validate().to_dict()


def test_apply_best_asks_and_applies_the_settings_the_trial_trained(qtbot, tune_panel,
                                                                  tmp_path, trained):
    panel = tune_panel
    _listed(qtbot, panel, tmp_path, trained)
    _edited(panel)
    asked = []
    panel.ask_trial_settings = lambda _parent, text: asked.append(text) or True
    assert panel.apply_best()
    assert "applying them too writes:" in asked[0]  # what is written, then what it replaces
    assert "optimizer Adam (was SGD)" in asked[0]
    assert "batch size 8 (was 4)" in asked[0]
    exp = panel.experiment
    assert (exp.optimizer.type, exp.data.batch_size) == ("Adam", 8)
    assert exp.optimizer.params["lr"] == pytest.approx(0.0036)
    assert exp.training.epochs == 10  # the experiment's: said, not changed
    text = panel.message.text()
    assert "Applied trial 0 of study lronly" in text
    assert "and as the trial trained: Train tab: " in text
    assert "optimizer Adam (was SGD)" in text
    assert "trial 0 trained 2 epochs; the experiment trains 10: set Epochs to 2" in text


def test_apply_best_only_the_searched_values_or_nothing(qtbot, tune_panel, tmp_path,
                                                       trained):
    panel = tune_panel
    _listed(qtbot, panel, tmp_path, trained)
    _edited(panel)
    panel.ask_trial_settings = lambda _parent, _text: None  # Cancel
    assert not panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.5)
    assert "Did not apply trial 0" in panel.message.text()
    panel.ask_trial_settings = lambda _parent, _text: False  # the searched values only
    assert panel.apply_best()
    exp = panel.experiment
    assert (exp.optimizer.type, exp.data.batch_size) == ("SGD", 4)
    assert exp.optimizer.params["lr"] == pytest.approx(0.0036)
    text = panel.message.text()  # the experiment's value, which stays, then the trial's
    assert "the other settings are the experiment's, not the trial's" in text
    assert "optimizer SGD (the trial's Adam)" in text and "batch size 4 (the trial's 8)" in text


def test_apply_best_asks_nothing_when_the_experiment_is_the_trials(qtbot, tune_panel,
                                                                  tmp_path, trained):
    panel = tune_panel
    trained["training"]["epochs"] = panel.experiment.training.epochs
    _listed(qtbot, panel, tmp_path, trained)
    panel.ask_trial_settings = lambda _parent, _text: pytest.fail("asked for no difference")
    assert panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.0036)
    assert "epoch" not in panel.message.text()
