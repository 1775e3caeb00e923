"""The File menu on experiment files (walk-projects defects 1, 4 and 5): Save back to the
file opened, Save As from there (a name of the dataset and network where there is none,
``.json`` added), Open recent, the file's name and "*" in the title, New and Open asking
only when there are changes, all of it back after a restart and merged by two windows; an
opened experiment whose dataset folder is missing keeps its settings when the folder is
chosen where it went; a broken ``--experiment`` file is named at start-up."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QMessageBox

import workbench.qt.app as app
from helpers import make_image_folder
from workbench.core.session import session_path
from workbench.qt.main_window import MainWindow
from workbench.qt.session_share import merged_text
from workbench.qt.startup import torch_loader

TIMEOUT_MS = 60000


@pytest.fixture(autouse=True)
def registries():
    torch_loader().ensure_loaded()  # opening and saving validate (as the app waits for it)


@pytest.fixture
def window(qtbot, tiny_experiment):
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


@pytest.fixture
def dialogs(monkeypatch):
    """The file dialogs' answers (``open``, ``save``) and what they were asked (``asked``)."""
    answers = {"open": "", "save": "", "asked": []}

    def ask(kind):
        def dialog(parent, caption, start, *args, **kwargs):
            answers["asked"].append((kind, start))
            return answers[kind], ""
        return dialog
    for kind, name in (("open", "getOpenFileName"), ("save", "getSaveFileName")):
        monkeypatch.setattr(f"workbench.qt.experiment_files.QFileDialog.{name}", ask(kind))
    return answers


def _action(window, text: str):
    [action] = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == text]
    return action


def _saved(experiment, path) -> str:
    experiment.save(path)
    return str(path)


# -- 1. File → Open of an experiment whose dataset folder is missing -----------------------
def test_opening_an_experiment_whose_folder_went_missing_keeps_its_settings(
        qtbot, window, tiny_experiment, tmp_path, dialogs):
    # The folder, renamed, was chosen where it went: the experiment took the new folder's
    # input size and channels (start-up kept them).
    moved = tiny_experiment.copy()
    moved.data.folder = str(tmp_path / "shapes_old")
    moved.data.input_size, moved.data.channels = [40, 40], 1
    moved.data.mean, moved.data.std = [0.5], [0.5]
    dialogs["open"] = _saved(moved, tmp_path / "moved.json")
    window.confirm = lambda title, question: True
    window.open_experiment()  # File → Open experiment…
    assert window.experiment.data.input_size == [40, 40]
    assert window.data_panel.message.text().startswith(
        f"The dataset folder of moved.json, {tmp_path / 'shapes_old'}, is missing")
    assert window.tabs.currentWidget() is window.data_panel
    where_it_went = make_image_folder(tmp_path / "shapes_new", size=24)
    with qtbot.waitSignal(window.current.dataset_changed, timeout=TIMEOUT_MS):
        with qtbot.waitSignal(window.data_panel.summary_finished, timeout=TIMEOUT_MS):
            window.data_panel.load_folder(where_it_went)
    data = window.experiment.data
    assert data.folder == where_it_went
    assert (data.input_size, data.channels, data.mean, data.std) == ([40, 40], 1, [0.5], [0.5])
    assert window.statusBar().currentMessage().startswith(
        f"Dataset {where_it_went} replaces the missing {tmp_path / 'shapes_old'}")


# -- 4. Save, Save As, Open recent, the title, asking only for changes ----------------------
def test_save_writes_back_to_the_file_opened_and_the_title_names_it(
        qtbot, window, tiny_experiment, tmp_path, dialogs):
    path = _saved(tiny_experiment.copy(), tmp_path / "projA" / "expA.json")
    assert window.open_experiment_file(path)
    assert "expA.json" in window.windowTitle() and not window.isWindowModified()
    assert _action(window, "&Save experiment").shortcut().toString() == "Ctrl+S"
    window.experiment.training.epochs = 9
    assert window.isWindowModified()  # shown as "expA.json*"
    _action(window, "&Save experiment").trigger()
    assert dialogs["asked"] == []  # no dialog: the file opened
    assert json.loads(open(path).read())["training"]["epochs"] == 9
    assert not window.isWindowModified()
    # Save As starts at that file.
    dialogs["save"] = str(tmp_path / "projA" / "expA-copy.json")
    assert window.save_experiment_as()
    assert dialogs["asked"] == [("save", path)]
    assert "expA-copy.json" in window.windowTitle()
    assert window.file.recent[:2] == [dialogs["save"], path]


def test_save_as_without_a_file_suggests_the_dataset_and_network_and_adds_json(
        qtbot, window, tmp_path, dialogs, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    typed = tmp_path / "noext"
    dialogs["save"] = str(typed)
    assert window.save_experiment()  # Ctrl+S with no file: Save As
    assert dialogs["asked"] == [("save", str(tmp_path / "home" / "colours-mlp.json"))]
    assert os.path.isfile(f"{typed}.json") and not typed.exists()
    assert window.file.path == f"{typed}.json"
    window.file.take(window.experiment, "")  # a new experiment: Save As starts beside it
    dialogs["save"] = ""
    window.save_experiment_as()
    assert dialogs["asked"][-1] == ("save", str(tmp_path / "colours-mlp.json"))


def test_new_and_open_ask_only_when_the_experiment_has_changes(
        qtbot, window, tiny_experiment, tmp_path):
    asked = []
    window.confirm = lambda title, question: asked.append(question) or True
    first = _saved(tiny_experiment.copy(), tmp_path / "a.json")
    other = tiny_experiment.copy()
    other.training.epochs = 5
    second = _saved(other, tmp_path / "b.json")
    assert window.open_experiment_file(first)
    assert window.open_experiment_file(second)
    assert asked == []  # nothing changed since a.json was opened
    window.experiment.training.epochs = 6
    assert window.open_experiment_file(first)
    assert len(asked) == 1 and "b.json" in asked[0] and "save them first" in asked[0]
    window.save_experiment()  # saved: no question
    assert window.new_experiment()
    assert len(asked) == 1


def test_open_recent_lists_the_files_and_greys_one_no_longer_there(
        qtbot, window, tiny_experiment, tmp_path):
    first = _saved(tiny_experiment.copy(), tmp_path / "one" / "exp.json")
    second = _saved(tiny_experiment.copy(), tmp_path / "two" / "exp.json")
    assert window.open_experiment_file(first) and window.open_experiment_file(second)
    [recent] = [a.menu() for a in window.menuBar().actions()[0].menu().actions()
                if a.text() == "Open recen&t"]
    recent.aboutToShow.emit()
    items = [a for a in recent.actions() if a.text()]
    assert [a.text() for a in items[:2]] == [f"&1  exp.json  —  {tmp_path / 'two'}",
                                             f"&2  exp.json  —  {tmp_path / 'one'}"]
    os.remove(first)
    recent.aboutToShow.emit()
    gone = recent.actions()[1]
    assert gone.text().endswith("(not found)") and not gone.isEnabled()
    assert "no longer there" in gone.toolTip()
    os.remove(second)
    _saved(tiny_experiment, second)
    window.experiment.training.epochs = 8  # opened from the menu, once asked
    window.confirm = lambda title, question: True
    recent.aboutToShow.emit()
    with qtbot.waitSignal(window.experiment_replaced, timeout=TIMEOUT_MS):
        recent.actions()[0].trigger()
    assert window.experiment.training.epochs == 2
    [clear] = [a for a in recent.actions() if a.text() == "&Clear the list"]
    clear.trigger()
    recent.aboutToShow.emit()
    assert window.file.recent == []
    assert [(a.text(), a.isEnabled()) for a in recent.actions()] == [
        ("No experiment files opened or saved yet", False)]


# -- the session: after a restart, and two windows -----------------------------------------
def _app_window(qtbot, **kwargs) -> MainWindow:
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    window.session_keeper.timer.stop()  # written when the test says (save_now)
    return window


def test_the_file_the_recent_list_and_the_changes_reopen_after_a_restart(
        qtbot, tiny_experiment, tmp_path):
    path = _saved(tiny_experiment.copy(), tmp_path / "expA.json")
    first = _app_window(qtbot, experiment=path)
    assert first.file.path == path and not first.isWindowModified()
    assert first.session_keeper.save_now()
    first.close()
    again = _app_window(qtbot)
    assert again.file.path == path and again.file.recent == [path]
    assert "expA.json" in again.windowTitle() and not again.isWindowModified()
    again.experiment.training.epochs = 11
    assert again.session_keeper.save_now()
    again.close()
    third = _app_window(qtbot)
    assert third.file.path == path and third.isWindowModified()  # unsaved, still
    assert third.save_experiment()  # Ctrl+S writes back to expA.json
    assert json.loads(open(path).read())["training"]["epochs"] == 11
    third.close()


def test_two_windows_keep_the_file_with_its_experiment_and_both_recent_lists():
    def doc(epochs, path, recent):
        return json.dumps({"session_version": 1, "window": {"tab": "Data"},
                           "files": {"path": path, "saved": f"d{epochs}", "recent": recent},
                           "experiment": {"training": {"epochs": epochs}}})
    base = doc(1, "/p/a.json", ["/p/a.json"])
    # The other window opened b.json; this one only took a.json off its list.
    theirs = doc(2, "/p/b.json", ["/p/b.json", "/p/a.json"])
    ours = doc(1, "/p/a.json", ["/p/c.json"])
    merged = json.loads(merged_text(base, ours, theirs))
    assert merged["experiment"] == {"training": {"epochs": 2}}
    assert merged["files"] == {"path": "/p/b.json", "saved": "d2",
                               "recent": ["/p/c.json", "/p/b.json"]}
    # This window saved its (unchanged) experiment as c.json after the other opened b.json:
    # its experiment goes with its file, not b.json's.
    ours = doc(1, "/p/c.json", ["/p/c.json", "/p/a.json"])
    merged = json.loads(merged_text(base, ours, theirs))
    assert merged["experiment"] == {"training": {"epochs": 1}}
    assert merged["files"] == {"path": "/p/c.json", "saved": "d1",
                               "recent": ["/p/c.json", "/p/a.json", "/p/b.json"]}
    assert list(merged) == ["session_version", "window", "files", "experiment"]


def test_two_app_windows_keep_the_file_of_the_experiment_kept(qtbot, tiny_experiment,
                                                                tmp_path):
    a_path = _saved(tiny_experiment.copy(), tmp_path / "a.json")
    other = tiny_experiment.copy()
    other.training.epochs = 4
    b_path = _saved(other, tmp_path / "b.json")
    a = _app_window(qtbot, experiment=a_path)
    assert a.session_keeper.save_now()
    b = _app_window(qtbot)
    assert b.open_experiment_file(b_path)
    assert b.session_keeper.save_now()
    a.tabs.setCurrentWidget(a.runs_panel)  # A changes something else
    assert a.session_keeper.save_now()
    saved = json.loads(session_path().read_text())
    assert saved["experiment"]["training"]["epochs"] == 4
    assert saved["files"]["path"] == b_path
    assert saved["files"]["recent"] == [b_path, a_path]


# -- 5. a broken --experiment file is named at start-up -------------------------------------
@pytest.mark.parametrize("edit", ["unknown layer", "newer version", "unknown field"])
def test_a_broken_experiment_file_given_at_start_up_is_named(
        qtbot, tiny_experiment, tmp_path, monkeypatch, edit):
    said = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: said.append(text)))
    data = tiny_experiment.to_dict()
    if edit == "unknown layer":
        data["model"]["layers"][1]["type"] = "Conv2dd"
    elif edit == "newer version":
        data["format_version"] = 99
    else:
        data["training"]["epochz"] = 3
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    window = _app_window(qtbot, experiment=str(path))
    [text] = said
    assert text.startswith(f"{path}:\n")
    assert text.count(str(path)) == 1
    assert window.file.path == ""  # not the file: it was not opened


def test_a_broken_experiment_file_points_to_the_apps_way_to_a_new_one(window, tmp_path,
                                                                       monkeypatch):
    # walk-dialogs item 2: the box said "create a new one with 'workbench init'", a command
    # line's way, to a user of the app.
    shown = []
    monkeypatch.setattr("workbench.qt.experiment_files.show_error",
                        lambda _parent, title, text: shown.append((title, text)))
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"layers": [ }')
    assert not window.open_experiment_file(str(bad))
    [(title, text)] = shown
    assert title == "Cannot open the experiment"
    assert "not valid JSON (line 1" in text and str(bad) in text
    assert text.endswith("fix the file or create a new one with File → New experiment")
    assert "workbench init" not in text
