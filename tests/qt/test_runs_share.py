"""The Runs tab's TensorBoard and Report… buttons, and File → Export report…."""

from __future__ import annotations

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.core.train.run import run_training
from workbench.qt.panels.runs import share
from workbench.qt.panels.runs.panel import RunsPanel


def _run(tmp_path, runs=None):
    exp = Experiment(name="shared")
    exp.data.folder = make_image_folder(tmp_path / "data", per_class=10, size=12)
    exp.data.input_size = [12, 12]
    exp.training.epochs = 1
    exp.training.device = "cpu"
    outcome = run_training(exp.validate(), runs_parent=runs or tmp_path / "runs",
                           name="shared")
    assert outcome.status == "finished"
    return outcome.run_dir


def _panel(qtbot, tmp_path):
    panel = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.refreshed, timeout=10000):
        panel.refresh()
    return panel


def test_report_writes_the_selected_run_as_html(qtbot, tmp_path):
    run_dir = _run(tmp_path)
    panel = _panel(qtbot, tmp_path)
    assert not panel.sharing.report_button.isEnabled()
    panel.select_paths([str(run_dir)])
    assert panel.sharing.report_button.isEnabled()
    panel.sharing.ask_path = lambda parent, suggested: str(tmp_path / "out.html")
    with qtbot.waitSignal(panel.sharing._runner.finished, timeout=60000):
        panel.sharing.report_button.click()
    text = (tmp_path / "out.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "shared" in text
    assert "Wrote the report" in panel.message.text()


def test_tensorboard_starts_on_the_runs_folder_or_shows_the_command(qtbot, tmp_path,
                                                                   monkeypatch):
    _run(tmp_path)
    panel = _panel(qtbot, tmp_path)
    started, opened, shown = [], [], []
    panel.sharing.start_detached = lambda program, args: started.append((program, args)) \
        or True
    panel.sharing.open_url = opened.append
    panel.sharing.show_command = lambda parent, line: shown.append(line)
    monkeypatch.setattr(share, "tensorboard_command", lambda: "/venv/bin/tensorboard")
    panel.sharing.tensorboard_button.click()
    assert started == [("/venv/bin/tensorboard",
                        ["--logdir", str(tmp_path / "runs"), "--port", "6006"])]
    assert opened == ["http://localhost:6006/"] and not shown
    monkeypatch.setattr(share, "tensorboard_command", lambda: None)
    panel.sharing.tensorboard_button.click()
    assert shown and shown[0].startswith("tensorboard --logdir ") and len(started) == 1


def test_file_export_report_uses_the_selected_run(qtbot, tmp_path, workbench_home):
    from workbench.qt.main_window import MainWindow

    run_dir = _run(tmp_path, runs=workbench_home / "runs")
    window = MainWindow()
    qtbot.addWidget(window)
    runs = window.runs_panel
    with qtbot.waitSignal(runs.refreshed, timeout=10000):
        window.tabs.setCurrentWidget(runs)
        window.show()
    runs.select_paths([str(run_dir)])
    runs.sharing.ask_path = lambda parent, suggested: str(tmp_path / "file-menu.html")
    with qtbot.waitSignal(runs.sharing._runner.finished, timeout=60000):
        assert window.export_report() is not None
    assert (tmp_path / "file-menu.html").is_file()
