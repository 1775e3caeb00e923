"""The Tune tab lists the shown study again when it is shown (and when the window is
activated, on Apply best, and now and then while visible): trials a terminal's `workbench
tune` added to it appear, merged by number, the selection kept, and Apply best applies the
new best (walk-lrtune report, item 2)."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR = "optimizer.params.lr"


def _add_trial(url, lr: float, value: float) -> None:
    """A trial added by another process (a terminal's `workbench tune`)."""
    study = optuna.load_study(storage=url, study_name="shared")
    study.add_trial(optuna.trial.create_trial(
        params={LR: lr}, value=value,
        distributions={LR: optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)}))


def _shared_study(panel, tmp_path) -> str:
    """A study of one trial, stored where another process adds trials, named on the
    ``panel``; its storage URL."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=url, study_name="shared", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    _add_trial(url, 0.001, 0.5)
    panel.storage_edit.setText(url)
    panel.name_edit.setText("shared")
    return url


def test_trials_another_process_adds_show_when_the_tab_is_shown_again(qtbot, tune_panel,
                                                                      tmp_path):
    panel = tune_panel
    url = _shared_study(panel, tmp_path)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 1, timeout=TIMEOUT_MS)
    panel.trials_table.selectRow(0)
    _add_trial(url, 0.02, 0.9)  # the terminal's trial: the better one
    panel.hide()
    panel.show()  # back to the Tune tab
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 2, timeout=TIMEOUT_MS)
    rows = panel.trials_table.selectionModel().selectedRows()
    assert [r.row() for r in rows] == [0]  # the selection is kept
    assert "Study shared: 2 trial(s)" in panel.results.caption.text()
    assert "1 trial(s) added by another process; best now: trial 1" in panel.message.text()
    assert panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.02)
    # Listing again with nothing new changes nothing (the message is the Apply's).
    panel.follower.relist()
    qtbot.wait(300)
    assert panel.trials_table.rowCount() == 2
    assert "Applied trial 1 of study shared" in panel.message.text()


def test_apply_best_lists_the_study_again(qtbot, tune_panel, tmp_path):
    panel = tune_panel
    url = _shared_study(panel, tmp_path)
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 1, timeout=TIMEOUT_MS)
    _add_trial(url, 0.02, 0.9)
    assert panel.apply_best()  # the best shown then, trial 0; the study is listed again
    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 2, timeout=TIMEOUT_MS)
    assert "best now: trial 1" in panel.message.text()
    assert panel.apply_best()
    assert panel.experiment.optimizer.params["lr"] == pytest.approx(0.02)
