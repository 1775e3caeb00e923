"""File → Save of an experiment file changed since it was opened or saved here, by another
window or an editor, asks first: Replace it, Save as…, Cancel (walk-twowindows defect 2)."""

from __future__ import annotations

import json

import pytest

import workbench.qt.app as app
from workbench.qt.main_window import MainWindow
from workbench.qt.startup import torch_loader


@pytest.fixture(autouse=True)
def registries():
    torch_loader().ensure_loaded()  # saving validates (as the app waits for it)


def _window(qtbot, experiment, answers):
    window = MainWindow(experiment)
    qtbot.addWidget(window)
    window.ask_changed_on_disk = lambda path: answers.pop(0)
    return window


def _training(path) -> dict:
    return json.loads(open(path).read())["training"]


def test_saving_over_another_windows_newer_save_asks_first(
        qtbot, tiny_experiment, tmp_path, monkeypatch):
    path = str(tmp_path / "F.json")
    tiny_experiment.save(path)
    answers: list[str] = []
    a, b = (_window(qtbot, tiny_experiment.copy(), answers) for _ in range(2))
    assert a.open_experiment_file(path) and b.open_experiment_file(path)
    a.experiment.optimizer.params["lr"] = 0.02
    assert a.save_experiment()  # nothing changed the file since A opened it: no question
    b.experiment.training.epochs = 7
    answers.append("")  # Cancel
    assert not b.save_experiment()
    assert _training(path)["epochs"] == 2 and b.isWindowModified()
    assert json.loads(open(path).read())["optimizer"]["params"]["lr"] == 0.02  # A's kept
    monkeypatch.setattr("workbench.qt.experiment_files.QFileDialog.getSaveFileName",
                        lambda *args, **kwargs: (str(tmp_path / "G.json"), ""))
    answers.append("save as")
    assert b.save_experiment()
    assert _training(tmp_path / "G.json")["epochs"] == 7 and b.file.path.endswith("G.json")
    assert _training(path)["epochs"] == 2
    assert b.save_experiment() and not answers  # G.json is B's own: no question
    # Replace it: the file is this window's experiment.
    a.experiment.training.epochs = 5
    with open(path, "a") as f:
        f.write("\n")  # an editor saved it again meanwhile
    answers.append("replace")
    assert a.save_experiment() and not answers
    assert _training(path)["epochs"] == 5
    assert a.save_experiment()  # written by A since: no question (answers is empty)


def test_after_a_restart_a_file_changed_meanwhile_is_asked_about(
        qtbot, tiny_experiment, tmp_path):
    path = str(tmp_path / "F.json")
    tiny_experiment.save(path)
    first = app.create_window(experiment=path)
    qtbot.addWidget(first)
    assert first.session_keeper.save_now()
    first.close()
    edited = json.loads(open(path).read())
    edited["training"]["epochs"] = 9  # changed in an editor while the app was closed
    open(path, "w").write(json.dumps(edited))
    again = app.create_window()
    qtbot.addWidget(again)
    asked: list[str] = []
    again.ask_changed_on_disk = lambda p: asked.append(p) or ""
    assert again.file.path == path
    assert not again.save_experiment() and asked == [path]
    assert _training(path)["epochs"] == 9
