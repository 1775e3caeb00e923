"""The runs selected on the Runs tab are overlaid on the Train tab's plots, but never the
Train tab's own run (walker report walk-tomorrow, defect 5): continuing the run selected
there (which "Continue in Train" needs) drew it twice, as the live run and as an overlay
of another colour; a new run started makes the run it replaced an overlay again."""

from __future__ import annotations

from qt_helpers import listed_run
from workbench.core.io import runs_dir
from workbench.qt.main_window import MainWindow

RUN_TIMEOUT_MS = 120000


def _overlaid(window) -> list[str]:
    return [run["name"] for run in window.train_panel.plots.overlays.runs]


def test_the_train_tabs_own_run_is_never_overlaid_on_itself(qtbot, tiny_experiment):
    from workbench.core.runs.store import read_run_info

    tiny_experiment.training.epochs = 1
    other = str(listed_run(runs_dir(), "2026-12-06_11-00-00-other", "other"))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    train, runs = window.train_panel, window.runs_panel
    train.setup.name_edit.setText("first")
    with qtbot.waitSignal(train.training_finished, timeout=RUN_TIMEOUT_MS):
        train.start_button.click()
    first = train.last_run_dir
    with qtbot.waitSignal(runs.refreshed, timeout=RUN_TIMEOUT_MS):
        window.tabs.setCurrentWidget(runs)
        window.show()
    runs.select_paths([first, other])
    assert _overlaid(window) == ["other"]  # the Train tab shows "first" itself

    # A second run; then "first", selected on the Runs tab, is continued from there.
    window.tabs.setCurrentWidget(train)
    train.setup.name_edit.setText("second")
    with qtbot.waitSignal(train.training_finished, timeout=RUN_TIMEOUT_MS):
        train.start_button.click()
    assert sorted(_overlaid(window)) == ["first", "other"]  # the tab shows "second" now
    during = []
    train.run.fit_started.connect(lambda _info: during.append(_overlaid(window)))
    train.ask_continue = lambda plan: plan.choose("more", 1)
    with qtbot.waitSignal(train.training_finished, timeout=RUN_TIMEOUT_MS):
        runs.continue_requested.emit(first)  # "Continue in Train"
    assert during == [["other"]]
    assert _overlaid(window) == ["other"] and train.last_run_dir == first
    assert train.plots.point_counts()["epochs"] == 2
    assert read_run_info(first)["epochs_done"] == 2
    window.close()
