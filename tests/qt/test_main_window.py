"""The main window: panels wired together, drops, closing mid-training, app startup."""

from __future__ import annotations

import os


from qt_helpers import drop_urls
from workbench.qt.main_window import MainWindow

TIMEOUT_MS = 120000


def _window(qtbot, experiment) -> MainWindow:
    window = MainWindow(experiment)
    qtbot.addWidget(window)
    return window


def test_tabs_and_a_folder_dropped_on_the_window(qtbot, tiny_experiment, image_folder):
    tiny_experiment.data.folder = ""
    window = _window(qtbot, tiny_experiment)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["Data", "Augment", "Model", "Train", "Tune", "Runs", "Evaluate", "Predict"]
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        drop_urls(window, [image_folder])
    assert window.tabs.currentWidget() is window.data_panel
    assert window.experiment.data.folder == str(image_folder)
    assert window.model_panel.num_classes == 3
    assert window.model_panel.row_texts()[-1][3] == "(3)"
    assert window.train_panel.index is window.data_panel.index
    assert "colours" in window.windowTitle()


def test_train_then_predict_end_to_end(qtbot, tiny_experiment, image_folder):
    window = _window(qtbot, tiny_experiment)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        window.load_folder(str(image_folder))
    with qtbot.waitSignal(window.predict_panel.bundle_changed, timeout=TIMEOUT_MS) as blocker:
        window.train_panel.start()
    assert os.path.isfile(blocker.args[0])
    with qtbot.waitSignal(window.predict_panel.predictions_finished, timeout=TIMEOUT_MS):
        drop_urls(window, [image_folder / "blue" / "blue_003.png"])
    assert window.tabs.currentWidget() is window.predict_panel
    [row] = window.predict_panel.rows
    assert row.error is None and len(row.top) == 3


def test_closing_mid_training_stops_the_worker_and_waits_for_it(qtbot, tiny_experiment):
    tiny_experiment.training.epochs = 500
    tiny_experiment.data.batch_size = 2
    window = _window(qtbot, tiny_experiment)
    window.show()
    with qtbot.waitSignal(window.train_panel.run.batches_finished, timeout=TIMEOUT_MS):
        window.train_panel.start()
    worker, job = window.train_panel.run.worker, window.train_panel.run._job
    assert not job.done.is_set()
    window.close()
    assert worker.stop_event.is_set()
    assert job.done.is_set()  # the run has left the training thread
    assert not window.train_panel.is_running()


def test_create_window_reports_a_bad_experiment_and_uses_defaults(qtbot, monkeypatch, tmp_path,
                                                                  image_folder):
    import workbench.qt.app as app

    bad = tmp_path / "bad.json"
    bad.write_text('{"data": {"batch_size": -3}}')
    shown = []
    monkeypatch.setattr(app.QMessageBox, "warning",
                        lambda parent, title, text: shown.append((title, text)))
    window = app.create_window(data=str(image_folder), experiment=str(bad))
    qtbot.addWidget(window)
    assert shown and "data.batch_size" in shown[0][1]
    assert window.experiment.data.folder == str(image_folder)
    qtbot.waitUntil(lambda: window.data_panel.index is not None, timeout=20000)


def test_create_window_without_data_uses_the_demo_dataset(qtbot, workbench_home):
    import workbench.qt.app as app

    window = app.create_window()
    qtbot.addWidget(window)
    folder = window.experiment.data.folder
    assert folder.startswith(str(workbench_home))
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=60000) as blocker:
        pass
    assert blocker.args[0].num_classes >= 3


def test_every_tab_fits_a_laptop_screen(qtbot):
    """A 1366x768 screen leaves about 700 px for a window under a panel and a title bar:
    no tab may need more (plots and tile grids keep their size; settings and grids
    scroll), so the status bar never falls off the bottom."""
    from workbench.qt.main_window import _default_experiment
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()  # the panels' full forms (optimizer, layers) are built
    window = MainWindow(_default_experiment())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    size = window.minimumSizeHint()
    assert size.height() <= 700, size
    assert size.width() <= 1100, size
    for i in range(window.tabs.count()):
        tab = window.tabs.widget(i)
        assert tab.minimumSizeHint().height() <= 640, (window.tabs.tabText(i),
                                                       tab.minimumSizeHint())


def test_a_dropped_zip_of_a_dataset_opens_as_the_dataset(qtbot, tmp_path, monkeypatch):
    import zipfile

    from PySide6.QtCore import QUrl

    from helpers import make_image_folder
    from workbench.qt.main_window import MainWindow

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    folder = make_image_folder(tmp_path / "colours", per_class=4, size=8)
    archive = tmp_path / "colours.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((tmp_path / "colours").rglob("*.png")):
            z.write(f, f.relative_to(tmp_path).as_posix())
    window = MainWindow()
    qtbot.addWidget(window)
    data = window.data_panel
    with qtbot.waitSignal(data.dataset_loaded, timeout=20000):
        assert window.handle_drop([QUrl.fromLocalFile(str(archive))])
    assert data.index.classes == ["blue", "green", "red"] and len(data.index.samples) == 12
    assert "unpacked" in data.message.text() and str(folder) not in data.index.root


def test_a_stopped_run_is_one_short_status_bar_line(qtbot, workbench_home):
    from workbench.qt.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window._on_training_errored("training diverged: the loss exploded to 242 at epoch 1, "
                                "over 20 times the 1.10 of guessing every class equally. "
                                "The learning rate (10) is far too large: lower it")
    text = window.statusBar().currentMessage()
    assert text == "Training stopped: diverged (the Train tab says why and what to do)"
    window._on_training_errored("something odd happened")
    assert window.statusBar().currentMessage().startswith("Training stopped: failed (")


def test_a_dropped_folder_of_new_photos_is_classified_and_the_dataset_stays(
        qtbot, tiny_experiment, image_folder, tmp_path, bundle_path):
    import shutil

    new = tmp_path / "new"  # new photos: no class folder, the images at its top
    new.mkdir()
    for name in ("blue/blue_000.png", "red/red_001.png"):
        shutil.copy(image_folder / name, new)
    window = _window(qtbot, tiny_experiment)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        window.scan_dataset(str(image_folder), adopt_defaults=False)
    drop_urls(window, [new])
    assert window.tabs.currentWidget() is window.predict_panel
    assert sorted(os.path.basename(r.path) for r in window.predict_panel.rows) == \
        ["blue_000.png", "red_001.png"]
    assert window.experiment.data.folder == str(image_folder)  # the dataset stays open
    assert window.data_panel.index.root == str(image_folder)
    assert window.statusBar().currentMessage() == (  # no model yet: listed, waiting
        "new/ has no class folders: listing its 2 images on the Predict tab (the dataset "
        "colours stays open). To train on them, sort them into a sub-folder per class and "
        "open new/ on the Data tab. Choose a model there to classify them.")
    window.predict_panel.set_bundle(bundle_path)
    drop_urls(window, [new])
    assert window.statusBar().currentMessage() == (
        "new/ has no class folders: classifying its 2 images on the Predict tab (the dataset "
        "colours stays open). To train on them, sort them into a sub-folder per class and "
        "open new/ on the Data tab.")
    # A folder with class folders is still the dataset, also with loose images beside them.
    shutil.copy(image_folder / "green" / "green_002.png", image_folder)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        drop_urls(window, [image_folder])
    assert window.tabs.currentWidget() is window.data_panel
