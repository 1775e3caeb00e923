"""The Tune tab's results and messages: a study whose space changed is refused on the
message line, the trials table at a laptop width (real field names, a stable order), the
history plot's ranges with one trial, the window's stale status cleared, and no Log box
on a categorical row."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from workbench.qt.panels.tune.panel import TunePanel
from workbench.qt.panels.tune.results import TrialsView
from workbench.qt.panels.tune.space_editor import COL
from workbench.qt.workers import task_pool

optuna = pytest.importorskip("optuna")

TIMEOUT_MS = 60000
LR, OPT, BATCH = "optimizer.params.lr", "optimizer.type", "data.batch_size"


@pytest.fixture
def window(qtbot, tiny_experiment, tmp_path):
    """A Tune panel in a window of its own (its status bar, as the app's), at the size of
    the app's Tune page in a 1366x768 window."""
    tiny_experiment.training.epochs = 1
    win = QMainWindow()
    panel = TunePanel(tiny_experiment, runs_parent=tmp_path / "runs")
    win.setCentralWidget(panel)
    qtbot.addWidget(win)
    win.resize(1366, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    panel.shutdown()
    task_pool().waitForDone()


def _stored_study(url: str) -> None:
    """Study "s" with one trial that searched the optimizer over Adam and SGD."""
    study = optuna.create_study(storage=url, study_name="s", direction="maximize")
    study.set_user_attr("metric", "val_acc")
    study.add_trial(optuna.trial.create_trial(
        params={OPT: "SGD"}, value=0.5,
        distributions={OPT: optuna.distributions.CategoricalDistribution(["Adam", "SGD"])}))


def test_a_changed_choice_list_is_refused_on_the_message_line_and_clears_the_status(
        qtbot, window, tmp_path):
    panel = window.centralWidget()
    url = f"sqlite:///{tmp_path / 's.db'}"
    _stored_study(url)
    window.statusBar().showMessage("Applied the best trial's parameters", 10000)
    panel.storage_edit.setText(url)
    panel.name_edit.setText("s")
    assert panel.continue_check.isChecked()
    panel.editor.set_checked(OPT)  # offered: Adam, AdamW, SGD
    with qtbot.waitSignal(panel.study_finished, timeout=TIMEOUT_MS) as blocker:
        assert panel.start()
    assert blocker.args[0] is None
    text = panel.message.text()
    assert panel.message.level == "error" and "unexpected" not in text
    assert "space.params.optimizer.type" in text and "study s already searched" in text
    assert "choices ['Adam', 'SGD']" in text
    assert "use the same choices, or give another study name" in text
    assert len(optuna.load_study(study_name="s", storage=url).trials) == 1  # none added
    # The window no longer says a best trial was applied: a new study started since.
    assert window.statusBar().currentMessage() == ""


def _trial(n, params, value=0.5, state="complete"):
    return {"number": n, "state": state, "value": value, "params": params,
            "duration_s": 1.5}


def test_the_trials_table_fits_a_laptop_width_with_field_names_in_the_spaces_order(
        qtbot, window):
    panel = window.centralWidget()
    QApplication.processEvents()
    view, table = panel.results, panel.trials_table
    view.reset("sqlite://", "s", "val_acc", True, [LR, OPT, BATCH])
    # As the storage lists them: another order than the space's.
    view.add_trials([_trial(0, {BATCH: 16, LR: 0.01, OPT: "SGD"}),
                     _trial(1, {OPT: "Adam", BATCH: 8, LR: 0.002}, state="pruned")])
    QApplication.processEvents()
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["#", "State", "Value", "Training (s)", "Learning rate", "Optimizer",
                       "Batch size", "Run"]
    tips = [table.horizontalHeaderItem(c).toolTip() for c in range(4, 7)]
    assert tips == [LR, OPT, BATCH]
    # The fixed columns as wide as their contents, not ~100 px each.
    metrics = table.horizontalHeader().fontMetrics()
    for c, text in enumerate(["#", "pruned", "Value", "Training (s)"]):
        assert table.columnWidth(c) < metrics.horizontalAdvance(text) + 40
    # Every column in view: nothing behind a scroll bar.
    total = sum(table.columnWidth(c) for c in range(table.columnCount() - 1))
    assert total < table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()
    # A later summary lists the trials again: the columns keep their order.
    view.add_trials([_trial(2, {OPT: "SGD", LR: 0.05, BATCH: 4})])
    again = [table.horizontalHeaderItem(c).text() for c in range(4, table.columnCount())]
    assert again == ["Learning rate", "Optimizer", "Batch size", "Run"]


def test_the_history_of_one_trial_has_sensible_axes(qtbot):
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    plot = view.history_plot
    for value in (0.0, 1.0, 0.4):
        view.reset("sqlite://", "s", "val_acc", True)
        view.add_trials([_trial(0, {LR: 0.01}, value=value)])
        (x0, x1), (y0, y1) = plot.plot_item.getViewBox().viewRange()
        assert -0.02 <= y0 <= value <= y1 <= 1.02, (value, y0, y1)
        assert -0.5 <= x0 < 0 < x1 and x1 >= 1
        axis = plot.plot_item.getAxis("bottom")
        ticks = [v for _spacing, values in axis.tickValues(x0, x1, 600) for v in values]
        assert ticks and all(v >= 0 and float(v).is_integer() for v in ticks)


def test_a_categorical_row_has_no_log_box(qtbot, window):
    editor = window.centralWidget().editor
    checkable = Qt.ItemFlag.ItemIsUserCheckable

    def log_item(path):
        return editor.item(editor.row_of(path), COL["Log"])

    def has_box(path):
        item = log_item(path)
        return item.data(Qt.ItemDataRole.CheckStateRole) is not None and \
            bool(item.flags() & checkable)

    assert not has_box(OPT)
    assert has_box(LR) and log_item(LR).checkState() == Qt.CheckState.Checked
    editor.set_cell(LR, "Type", "categorical")  # the box goes, its tick is kept
    assert not has_box(LR)
    editor.set_cell(LR, "Type", "float")
    assert has_box(LR) and log_item(LR).checkState() == Qt.CheckState.Checked
    editor.set_checked(OPT)
    assert editor.space_params()[OPT] == {"type": "categorical",
                                          "choices": ["Adam", "AdamW", "SGD"]}
    assert editor.space_params()[LR]["log"] is True


def test_a_trial_whose_process_died_reads_interrupted_with_why_on_hover(qtbot):
    # What a continued study records of a trial killed mid-run (core.tune.stale).
    view = TrialsView("val_acc")
    qtbot.addWidget(view)
    view.reset("sqlite://", "s", "val_acc", True)
    why = ("its process ended during the trial (it was killed, crashed or its machine went "
           "down)")
    view.add_trials([{"number": 1, "state": "fail", "value": None, "params": {LR: 0.01},
                      "duration_s": None, "run_dir": "/runs/x", "error": why,
                      "failure": "interrupted"}])
    assert view.table.item(0, 1).text() == "interrupted"
    assert view.table.item(0, 1).toolTip() == why
