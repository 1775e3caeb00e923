"""The Runs tab's TensorBoard and Report… buttons, and File → Export report…."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.core.runs.store import read_run_info
from workbench.core.train.run import run_training
from workbench.qt.panels.runs import share
from workbench.qt.panels.runs.panel import RunsPanel
from workbench.qt.panels.runs.tensorboard import free_port


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
    asked = []
    panel.sharing.ask_path = lambda parent, suggested: asked.append(suggested) or \
        str(tmp_path / "out.html")
    with qtbot.waitSignal(panel.sharing._runner.finished, timeout=60000):
        panel.sharing.report_button.click()
    # Suggested by the run's name, not its dated folder's.
    assert Path(asked[0]).name == f"{read_run_info(run_dir)['name']}.html" != \
        f"{run_dir.name}.html"
    text = (tmp_path / "out.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "shared" in text
    assert "Wrote the report" in panel.message.text()


#: Stand-ins for TensorBoard: one serving on its --port after a moment, one failing as
#: TensorBoard does when its port is taken, one that never listens.
SERVES = ("import socket, sys, time; port = int(sys.argv[sys.argv.index('--port') + 1]); "
          "time.sleep(0.3); s = socket.socket(); s.bind(('127.0.0.1', port)); s.listen(); "
          "time.sleep(60)")
FAILS = ("import sys; print('TensorBoard 2.x starting', file=sys.stderr); "
         "print('E1206 could not bind to port 6006, it was already in use', file=sys.stderr); "
         "sys.exit(1)")
SILENT = "import time; time.sleep(60)"


def _stand_in(panel, script):
    """Make the TensorBoard button run ``script``; returns the list of its commands."""
    commands = []

    def command(logdir, port):
        commands.append((logdir, port))
        return [sys.executable, "-c", script, "--logdir", logdir, "--port", str(port)]

    panel.sharing.command = command
    return commands


def test_tensorboard_page_opens_once_it_serves_on_a_free_port_and_is_reused(qtbot, tmp_path):
    panel = _panel(qtbot, tmp_path)
    opened, errors = [], []
    panel.sharing.open_url = opened.append
    panel.sharing.show_error = lambda parent, title, text: errors.append(text)
    commands = _stand_in(panel, SERVES)
    taken = socket.socket()  # a port in use (as another TensorBoard's 6006 was) is skipped
    taken.bind(("127.0.0.1", free_port()))
    taken.listen()
    try:
        panel.sharing.tensorboard_button.click()
        assert not opened and "Starting TensorBoard" in panel.message.text()
        qtbot.waitUntil(lambda: bool(opened), timeout=20000)
        (logdir, port), = commands
        assert logdir == str(tmp_path / "runs") and port != taken.getsockname()[1]
        assert opened == [f"http://localhost:{port}/"] and not errors
        assert f"serves the runs at http://localhost:{port}/" in panel.message.text()
        panel.sharing.tensorboard_button.click()  # the same instance: no second process
        assert opened == [f"http://localhost:{port}/"] * 2
        assert commands == [(logdir, port)]
    finally:
        taken.close()
        panel.shutdown()


def test_tensorboard_that_fails_shows_its_error_and_opens_nothing(qtbot, tmp_path):
    panel = _panel(qtbot, tmp_path)
    opened, errors = [], []
    panel.sharing.open_url = opened.append
    panel.sharing.show_error = lambda parent, title, text: errors.append((title, text))
    _stand_in(panel, FAILS)
    panel.sharing.tensorboard_button.click()
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    (title, text), = errors
    assert title == "TensorBoard did not start"
    assert text.endswith("E1206 could not bind to port 6006, it was already in use")
    assert "could not bind" in panel.message.text() and "serves" not in panel.message.text()
    # One that never listens is given up (and ended) after the timeout.
    _stand_in(panel, SILENT)
    panel.sharing.launcher.timeout_s = 0.5
    panel.sharing.tensorboard_button.click()
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=20000)
    assert "did not serve" in errors[1][1] and not opened
    assert panel.sharing.launcher.instance(str(tmp_path / "runs")) is None
    panel.shutdown()


def test_tensorboard_not_installed_shows_the_command(qtbot, tmp_path, monkeypatch):
    panel = _panel(qtbot, tmp_path)
    shown = []
    panel.sharing.show_command = lambda parent, line: shown.append(line)
    monkeypatch.setattr(share, "tensorboard_command", lambda: None)
    panel.sharing.tensorboard_button.click()
    assert shown and shown[0].startswith("tensorboard --logdir ")


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
