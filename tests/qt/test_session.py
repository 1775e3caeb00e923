"""The app reopens where the user left off: the session is kept while editing (a kill loses
at most a few seconds), and restored (experiment, tab, geometry) by the next window."""

from __future__ import annotations

import json
import signal

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QMessageBox

import workbench.qt.app as app
from workbench.core.data.demo import default_demo_root
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.runs.batches import read_batches
from workbench.core.session import session_path, session_text, write_session
from workbench.qt.main_window import MainWindow, _default_experiment
from workbench.qt.session import (fits_a_screen, initial_geometry, place_window,
                                  saved_normal_geometry, size_to_screen)

TIMEOUT_MS = 30000


def _window(qtbot, **kwargs) -> MainWindow:
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    return window


def _wait_for_summary(qtbot, window) -> None:
    """Until the dataset's image summary is in, and with it any defaults a new dataset
    adopts from its images (the summary is reported once they are applied)."""
    done = []
    window.data_panel.summary_finished.connect(lambda lines: done.append(lines))
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT_MS)


def _plain(exp: Experiment) -> dict:
    return json.loads(json.dumps(exp.to_dict()))


def _file() -> dict:
    try:
        return json.loads(session_path().read_text())
    except (OSError, ValueError):
        return {}


def _boxes(window) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]


def _saved(exp: Experiment, tab: str = "Model") -> None:
    write_session(session_text(exp, b"", tab))


def _edited(folder) -> Experiment:
    exp = _default_experiment()
    exp.data.folder = str(folder)
    exp.data.input_size = [16, 16]
    exp.optimizer = Component("SGD", {"lr": 0.02, "momentum": 0.7})
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 9.0})]
    return exp


def test_edits_are_written_while_editing_and_the_next_window_finds_them(qtbot, image_folder):
    window = _window(qtbot, data=str(image_folder))
    _wait_for_summary(qtbot, window)
    s = window.data_panel.settings
    s.channels_combo.setCurrentIndex(s.channels_combo.findData(1))
    window.augment_panel.list.setCurrentRow(0)
    window.augment_panel.remove_selected()
    window.model_panel.select_layer(1)
    window.model_panel.delete_action.trigger()
    window.train_panel.optimizer_combo.setCurrentText("SGD")
    window.train_panel.optimizer_editor.form.editors["momentum"].setValue(0.8)
    window.tabs.setCurrentWidget(window.model_panel)
    window.setGeometry(QRect(40, 60, 640, 480))
    expected = _plain(window.experiment)
    assert expected["data"]["channels"] == 1 and expected["optimizer"]["type"] == "SGD"
    # Written by the timer while the window is open: a kill now would lose nothing.
    qtbot.waitUntil(lambda: _file().get("experiment") == expected
                    and _file()["window"]["tab"] == "Model", timeout=TIMEOUT_MS)
    window.session_keeper.timer.stop()  # as if the process had been killed here

    again = _window(qtbot)
    validated = _plain(window.experiment.copy().validate())  # defaults filled in, as on Train
    assert _plain(again.experiment) == validated
    assert again.tabs.currentWidget() is again.model_panel
    assert again.geometry() == QRect(40, 60, 640, 480)
    # What the tabs show is the saved experiment, not their defaults.
    assert again.data_panel.settings.channels_combo.currentData() == 1
    assert again.train_panel.optimizer_combo.currentText() == "SGD"
    assert [again.augment_panel.list.item(i).text()
            for i in range(again.augment_panel.list.count())] == \
        [t["type"] for t in expected["augment"]["transforms"]]
    assert len(again.model_panel.row_texts()) == len(expected["model"]["layers"])
    # Its own folder is scanned, and scanning it changes nothing of what was saved.
    _wait_for_summary(qtbot, again)
    assert again.data_panel.index.root == str(image_folder)
    assert _plain(again.experiment) == validated


def test_closing_writes_the_last_edit_at_once(qtbot, image_folder):
    window = _window(qtbot, data=str(image_folder))
    window.session_keeper.timer.stop()
    window.train_panel.optimizer_combo.setCurrentText("SGD")
    window.tabs.setCurrentWidget(window.runs_panel)
    window.close()
    assert _file()["experiment"]["optimizer"]["type"] == "SGD"
    assert _file()["window"]["tab"] == "Runs"



def test_sigterm_closes_the_window_as_the_user_would_and_keeps_the_last_edit(
        qtbot, qapp, image_folder):
    # A desktop session logging out, `kill` or systemd sends SIGTERM: the app must close
    # as if the user had closed it (runs stop after their batch; the session is written),
    # not die at once.
    window = _window(qtbot, data=str(image_folder))
    window.show()
    window.session_keeper.timer.stop()
    window.train_panel.optimizer_combo.setCurrentText("SGD")
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    timer = app.quit_on_sigint(qapp)
    try:
        signal.raise_signal(signal.SIGTERM)  # the handler runs at once, on this thread
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
    finally:
        timer.stop()
        for sig, handler in before.items():
            signal.signal(sig, handler)
    assert _file()["experiment"]["optimizer"]["type"] == "SGD"

def test_a_restored_experiment_is_shown_exactly_and_its_folder_adopts_nothing(
        qtbot, image_folder, monkeypatch):
    scans = []
    monkeypatch.setattr(MainWindow, "scan_dataset",
                        lambda self, folder, adopt_defaults: scans.append((folder,
                                                                           adopt_defaults)))
    _saved(_edited(image_folder))
    window = _window(qtbot)
    assert _plain(window.experiment) == _plain(_edited(image_folder).validate())
    assert scans == [(str(image_folder), False)]


def test_data_keeps_the_restored_experiment_on_a_new_dataset(qtbot, image_folder, tmp_path,
                                                             monkeypatch):
    scans = []
    monkeypatch.setattr(MainWindow, "scan_dataset",
                        lambda self, folder, adopt_defaults: scans.append((folder,
                                                                           adopt_defaults)))
    _saved(_edited(tmp_path / "old"))
    window = _window(qtbot, data=str(image_folder))
    assert window.experiment.optimizer.type == "SGD"
    assert window.experiment.augment.transforms[0].type == "RandomRotation"
    assert window.experiment.data.folder == str(image_folder)
    assert scans == [(str(image_folder), True)]  # a new dataset: defaults from its data


def test_an_experiment_file_wins_over_the_session(qtbot, image_folder, tmp_path,
                                                  tiny_experiment):
    _saved(_edited(image_folder), tab="Train")
    path = tmp_path / "tiny.json"
    tiny_experiment.save(path)
    window = _window(qtbot, experiment=str(path))
    assert window.experiment.name == "tiny" and window.experiment.optimizer.type == "Adam"
    assert window.tabs.currentWidget() is window.train_panel  # the window state still is


def test_bad_json_starts_the_default_experiment_with_a_message(qtbot):
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text('{"session_version": 1, "experiment": {"data": ')
    window = _window(qtbot)
    default = _default_experiment()
    default.data.folder = str(default_demo_root())
    assert _plain(window.experiment) == _plain(default)
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [text] = _boxes(window)
    assert "not valid JSON" in text and "session.unreadable.json" in text
    # The user's file is kept aside, not overwritten by the next write.
    kept = session_path().with_name("session.unreadable.json")
    assert kept.read_text().startswith('{"session_version": 1')
    qtbot.waitUntil(lambda: _file().get("experiment") == _plain(window.experiment),
                    timeout=TIMEOUT_MS)


def test_a_component_the_registries_refuse_alone_is_reset_to_its_default(qtbot, image_folder):
    exp = _edited(image_folder)
    exp.optimizer = Component("NoSuchOptimizer", {})
    _saved(exp)
    window = _window(qtbot)
    assert window.experiment.optimizer.type == "Adam"
    assert window.experiment.data.folder == str(image_folder)  # the rest is kept
    assert window.experiment.augment.transforms[0].type == "RandomRotation"
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    assert "optimizer.type" in _boxes(window)[0] and "Everything else was kept" in \
        _boxes(window)[0]


def test_a_refused_experiment_found_after_torch_loads_is_replaced_too(qtbot, image_folder,
                                                                     monkeypatch):
    """The app's start-up reads the session without torch; the registries check it later."""
    from workbench.qt import startup

    exp = _edited(image_folder)
    exp.optimizer = Component("NoSuchOptimizer", {})
    _saved(exp)
    loader = startup.TorchLoader()
    monkeypatch.setattr(startup, "_LOADER", loader)
    loader.defer()
    window = _window(qtbot)
    assert window.experiment.optimizer.type == "NoSuchOptimizer"  # not checked yet
    assert loader.ensure_loaded()
    assert window.experiment.optimizer.type == "Adam"
    assert window.experiment.data.folder == str(image_folder)  # only the optimizer reset
    assert window.experiment.augment.transforms[0].type == "RandomRotation"
    assert window.train_panel.optimizer_combo.currentText() == "Adam"  # the tabs show it
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    assert "NoSuchOptimizer" in _boxes(window)[0]


def test_a_missing_dataset_folder_is_said_and_the_rest_is_kept(qtbot, tmp_path):
    gone = tmp_path / "moved-away"
    saved = _edited(gone)
    _saved(saved, tab="Train")
    window = _window(qtbot)
    assert _plain(window.experiment) == _plain(saved.validate())  # not the demo
    assert window.tabs.currentWidget() is window.data_panel
    text = window.data_panel.message.text()
    assert str(gone) in text and "File → Open dataset folder" in text
    assert window.data_panel.message.level == "error"
    assert not window.data_panel.is_scanning() and window.data_panel.index is None
    assert str(gone) in window.statusBar().currentMessage()


def test_the_demo_folder_is_made_again_when_it_was_removed(qtbot):
    saved = _edited(default_demo_root())
    _saved(saved)
    window = _window(qtbot)
    qtbot.waitUntil(lambda: window.data_panel.index is not None, timeout=60000)
    assert window.experiment.optimizer.type == "SGD"
    assert window.data_panel.index.num_classes >= 3


def test_file_new_resets_after_confirmation(qtbot, image_folder):
    _saved(_edited(image_folder))
    window = _window(qtbot)
    [action] = [a for a in window.menuBar().actions()[0].menu().actions()
                if a.text() == "&New experiment"]
    asked = []
    window.confirm = lambda title, question: asked.append(question) or False
    action.trigger()
    assert "demo dataset" in asked[0]
    assert window.experiment.optimizer.type == "SGD"  # "No" changes nothing
    window.confirm = lambda title, question: True
    with qtbot.waitSignal(window.experiment_replaced, timeout=TIMEOUT_MS):
        action.trigger()
    default = _default_experiment()
    default.data.folder = str(default_demo_root())
    assert _plain(window.experiment) == _plain(default)
    assert window.tabs.currentWidget() is window.data_panel
    qtbot.waitUntil(lambda: window.data_panel.index is not None
                    and window.data_panel.index.root == str(default_demo_root()),
                    timeout=60000)
    qtbot.waitUntil(lambda: _file().get("experiment") == _plain(window.experiment),
                    timeout=TIMEOUT_MS)


def test_file_new_is_refused_while_training(qtbot, image_folder, monkeypatch):
    window = _window(qtbot, data=str(image_folder))
    monkeypatch.setattr(window.train_panel, "is_running", lambda: True)
    window.confirm = lambda title, question: pytest.fail("asked although training runs")
    before = _plain(window.experiment)
    assert window.new_experiment() is False
    assert _plain(window.experiment) == before
    assert any("Stop the current training" in t for t in _boxes(window))


def test_file_open_asks_before_replacing_and_names_a_broken_file(qtbot, image_folder,
                                                                  monkeypatch, tmp_path):
    # From a user's day: File → Open experiment… replaced unsaved edits without asking (New
    # asks), and a broken file's message did not say which file.
    window = _window(qtbot, data=str(image_folder))
    other = _edited(image_folder)
    other.optimizer = Component("SGD", {"lr": 0.3})
    good, broken = tmp_path / "other.json", tmp_path / "broken.json"
    other.save(good)
    broken.write_text('{"model": ')
    chosen = []
    monkeypatch.setattr("workbench.qt.experiment_files.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(chosen[-1]), ""))
    before = _plain(window.experiment)
    asked = []
    window.confirm = lambda title, question: asked.append(question) or False
    chosen.append(good)
    window.open_experiment()
    assert "other.json" in asked[0] and "save them first" in asked[0]
    assert _plain(window.experiment) == before  # "No" keeps the edits
    chosen.append(broken)
    window.open_experiment()
    assert len(asked) == 1  # no question for a file that cannot be opened
    assert any(str(broken) in t for t in _boxes(window))
    assert _plain(window.experiment) == before
    window.confirm = lambda title, question: True
    chosen.append(good)
    with qtbot.waitSignal(window.experiment_replaced, timeout=TIMEOUT_MS):
        window.open_experiment()
    assert window.experiment.optimizer.params["lr"] == 0.3


def test_the_first_window_fits_a_laptop_screen():
    laptop = QRect(0, 0, 1366, 768 - 40)  # 1366x768 less a 40-pixel panel
    rect = initial_geometry(laptop)
    assert laptop.contains(rect)
    assert rect.height() <= laptop.height() - 50  # room for the title bar
    assert rect.width() == 1100 and rect.center() == laptop.center()
    big = initial_geometry(QRect(0, 0, 1920, 1040))
    assert (big.width(), big.height()) == (1100, 780)


def test_a_first_window_takes_the_screen_size_or_its_layout_minimum(qtbot):
    laptop = QRect(0, 0, 1366, 768 - 40)
    window = MainWindow()
    qtbot.addWidget(window)
    size_to_screen(window, laptop)
    rect = window.geometry()
    # As small as the screen asks, unless the tabs' layouts need more; never off the top.
    assert rect.size() == initial_geometry(laptop).size().expandedTo(window.minimumSizeHint())
    assert rect.top() >= laptop.top() and rect.left() >= laptop.left()
    assert abs(rect.center().x() - laptop.center().x()) <= 1


def test_a_saved_geometry_that_does_not_fit_the_screen_is_not_used(qtbot):
    huge = MainWindow()
    qtbot.addWidget(huge)
    huge.setGeometry(QRect(0, 0, 4000, 3000))  # saved on a much larger monitor
    geometry = bytes(huge.saveGeometry().data())
    other = MainWindow()
    qtbot.addWidget(other)
    first = other.geometry()
    place_window(other, geometry)  # Qt may shrink it to the screen, or we size it anew
    assert fits_a_screen(other.geometry()) or other.geometry() == first
    assert other.geometry().width() < 4000
    assert place_window(other, b"not a geometry") is False
    assert other.geometry() == first
    fitting = MainWindow()
    qtbot.addWidget(fitting)
    fitting.setGeometry(QRect(10, 40, 600, 500))
    assert place_window(other, bytes(fitting.saveGeometry().data())) is True
    assert other.geometry() == QRect(10, 40, 600, 500)


def test_a_size_saved_on_a_screen_of_another_width_is_kept_where_it_fits(qtbot):
    # Left at 600x500 on a laptop, opened the next day on a 4K monitor: Qt's own
    # restoreGeometry refuses a geometry saved on a screen over 25% wider or narrower.
    import struct

    saved = MainWindow()
    qtbot.addWidget(saved)
    saved.setGeometry(QRect(10, 40, 600, 500))
    geometry = bytearray(saved.saveGeometry().data())
    struct.pack_into(">i", geometry, 46, 3840)  # the screen width it was saved on
    other = MainWindow()
    qtbot.addWidget(other)
    assert not other.restoreGeometry(bytes(geometry))  # Qt's refusal, as on that screen
    assert place_window(other, bytes(geometry)) is True
    assert other.geometry() == QRect(10, 40, 600, 500) and not other.isMaximized()
    assert saved_normal_geometry(b"not a geometry") == (None, False)
    # Left maximised there: maximised here too, its normal size kept for Restore.
    geometry[44] = 1  # the maximised flag
    third = MainWindow()
    qtbot.addWidget(third)
    assert place_window(third, bytes(geometry)) is True
    assert third.windowState() & Qt.WindowState.WindowMaximized


def test_the_next_start_shows_the_last_run_and_continue_goes_on_from_it(
        qtbot, image_folder):
    # A run stopped after its first epoch, the window closed, the app started again
    # tomorrow: the Train tab shows that run's epochs and Continue… goes on from it; the
    # Predict tab has its model.
    from qt_helpers import after_epoch

    window = _window(qtbot, data=str(image_folder))
    _wait_for_summary(qtbot, window)
    window.experiment.data.input_size = [16, 16]
    window.experiment.training.epochs = 3
    window.experiment.training.device = "cpu"
    with pytest.MonkeyPatch.context() as stop_after_1:
        after_epoch(stop_after_1, 1, lambda trainer: trainer.request_stop())
        with qtbot.waitSignal(window.train_panel.training_finished,
                              timeout=TIMEOUT_MS) as done:
            window.train_panel.start()
    run_dir = done.args[0]["run_dir"]
    window.close()
    assert _file()["train"]["last_run"] == run_dir

    again = _window(qtbot)
    train = again.train_panel
    assert train.last_run_dir == run_dir and train.continue_button.isEnabled()
    assert train.plots.point_counts()["epochs"] == 1
    kept = sum(len(e["loss"]) for e in read_batches(run_dir))
    assert kept > 0 and train.plots.point_counts()["batches"] == kept  # epoch 1's batches
    assert train.plots.point_counts()["norm_samples"] > 0  # and its layer norms
    assert "1 of 3 planned epochs" in train.run_label.text() and "Continue" in \
        train.run_label.text()
    assert again.predict_panel.bundle_path.startswith(run_dir)
    plans = []
    train.ask_continue = lambda plan: plans.append(plan) or plan  # finish the plan
    with qtbot.waitSignal(train.training_finished, timeout=TIMEOUT_MS) as resumed:
        train.continue_button.click()
    assert plans[0].done == 1 and plans[0].planned == 3
    assert resumed.args[0]["run_dir"] == run_dir
    assert [m["epoch"] for m in resumed.args[0]["history"]] == [1, 2, 3]
    assert train.plots.point_counts()["epochs"] == 3
    assert train.plots.point_counts()["batches"] > kept  # the new epochs' after epoch 1's


def test_a_last_run_that_is_gone_is_left_out(qtbot, image_folder, tmp_path):
    exp = _edited(image_folder)
    write_session(session_text(exp, b"", "Train", str(tmp_path / "deleted-run")))
    window = _window(qtbot)
    assert window.train_panel.last_run_dir == ""
    assert not window.train_panel.continue_button.isEnabled()


def test_a_broken_experiment_file_keeps_the_last_sessions_work(qtbot, image_folder, tmp_path,
                                                              monkeypatch):
    # From a tester's day: `workbench --experiment broken.json` used to start the demo and
    # write it over the session, so the dataset, network and settings were lost for good.
    edited = _edited(image_folder)
    _saved(edited)
    bad = tmp_path / "broken.json"
    bad.write_text('{"data": {"batch_size": 8} "model": {}}')
    shown = []
    monkeypatch.setattr(app.QMessageBox, "warning",
                        lambda parent, title, text: shown.append(text))
    window = _window(qtbot, experiment=str(bad))
    assert shown and "not valid JSON" in shown[0] and "last session's settings" in shown[0]
    assert _plain(window.experiment) == _plain(edited.validate())
    window.close()
    assert _file().get("experiment") == _plain(edited.validate())


def test_data_on_the_command_line_clears_the_sessions_exclusions_saying_so(
        qtbot, image_folder, tmp_path):
    # The session's exclusions named images of its own folder: on the DIR given with
    # --data they would have dropped images silently (the Data tab says so, Keep them).
    old = tmp_path / "old"
    old.mkdir()
    edited = _edited(old)
    edited.data.exclude = ["red/red_000.png"]
    _saved(edited)
    window = _window(qtbot, data=str(image_folder))
    panel = window.data_panel
    qtbot.waitUntil(lambda: panel.index is not None, timeout=TIMEOUT_MS)
    assert window.experiment.data.folder == str(image_folder)
    assert window.experiment.data.exclude == []
    assert panel.exclusions.cleared.text().startswith("Cleared 1 exclusion")
    assert window.experiment.optimizer.type == "SGD"  # the rest of the session is kept
