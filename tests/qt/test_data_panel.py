"""Data panel: background scan, classes and counts, unreadable files, clear messages."""

from __future__ import annotations

import pytest

from workbench.core.experiment import Experiment
from qt_helpers import loaded_data_panel
from workbench.qt.panels.data.panel import DataPanel

from helpers import make_image_folder


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _panel(qtbot) -> DataPanel:
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    return panel


def test_folder_shows_classes_counts_and_unreadable_files(qtbot, image_folder):
    (image_folder / "red" / "broken.png").write_bytes(b"this is not a png")
    (image_folder / "green" / "empty.jpg").write_bytes(b"")
    panel = _panel(qtbot)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000) as blocker:
        panel.load_folder(str(image_folder))
    index = blocker.args[0]
    assert index.classes == ["blue", "green", "red"]
    assert panel.class_counts() == {"blue": 12, "green": 12, "red": 12}
    assert "36" in panel.total_label.text()
    items = [panel.unreadable_list.item(i).text() for i in range(panel.unreadable_list.count())]
    assert len(items) == 2
    assert any(t.startswith("red/broken.png: ") for t in items)
    assert any("empty" in t and "0 bytes" in t for t in items)
    assert panel.experiment.data.folder == str(image_folder)
    assert panel.trainable
    assert panel.message.level == "warning"  # ready, but with files to skip
    assert "2 files cannot be read" in panel.message.text()
    assert panel.progress.isHidden()


def test_missing_folder_is_a_message_not_a_traceback(qtbot, tmp_path):
    panel = _panel(qtbot)
    with qtbot.waitSignal(panel.scan_failed, timeout=10000) as blocker:
        panel.load_folder(str(tmp_path / "nowhere"))
    assert "nowhere" in blocker.args[0]
    assert panel.message.level == "error"
    assert "Traceback" not in panel.message.text()
    assert panel.class_table.rowCount() == 0
    assert panel.experiment.data.folder == ""  # unchanged


def test_single_class_and_empty_folders_say_what_to_do(qtbot, tmp_path):
    panel = _panel(qtbot)
    one = make_image_folder(tmp_path / "one", classes=("red",), per_class=3)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=10000):
        panel.load_folder(str(one))
    assert not panel.trainable
    assert panel.message.level == "warning"
    assert "single class" in panel.message.text()

    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(panel.dataset_loaded, timeout=10000):
        panel.load_folder(str(empty))
    assert not panel.trainable
    assert "no class folders" in panel.message.text()
    assert panel.class_table.rowCount() == 0


def test_a_new_folder_supersedes_the_stale_scan(qtbot, tmp_path, image_folder):
    other = make_image_folder(tmp_path / "other", classes=("a", "b"), per_class=2)
    panel = _panel(qtbot)
    loaded = []
    panel.dataset_loaded.connect(loaded.append)
    panel.load_folder(str(image_folder))
    panel.load_folder(str(other))
    qtbot.waitUntil(lambda: bool(loaded) and not panel.is_scanning(), timeout=20000)
    assert [ix.classes for ix in loaded] == [["a", "b"]]
    assert panel.class_counts() == {"a": 2, "b": 2}
    assert panel.experiment.data.folder == str(other)


# -- browser: thumbnails, chart, split, summary, reveal -----------------------------------


def test_grid_shows_decoded_thumbnails_of_the_selected_class(qtbot, image_folder):
    from PySide6.QtCore import Qt

    panel = loaded_data_panel(qtbot, image_folder)
    panel.resize(1000, 700)
    assert panel.thumb_model.rowCount() == 36  # all classes at first
    panel.show_class("red")
    model = panel.thumb_model
    assert model.rowCount() == 12
    assert all("/red/" in p.replace("\\", "/") for p, _ in model.samples())
    first = model.samples()[0][0]
    with qtbot.waitSignal(panel.loader.thumbnail_ready, timeout=10000):
        panel.show()
    qtbot.waitUntil(lambda: panel.loader.get(first) is not None, timeout=10000)
    pix = model.data(model.index(0), Qt.ItemDataRole.DecorationRole)
    assert pix is panel.loader.get(first)
    colour = pix.toImage().pixelColor(4, 4)
    assert colour.red() > 150 and colour.blue() < 100  # a red image, not the placeholder
    # Selecting a row of the class table shows that class.
    panel.class_table.selectRow(0)
    assert panel.class_combo.currentText() == "blue"
    assert panel.thumb_model.rowCount() == 12


def test_bar_chart_heights_equal_the_counts(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "uneven", classes=("a", "b"), per_class=2)
    from PIL import Image

    for i in range(5):
        Image.new("RGB", (4, 4)).save(tmp_path / "uneven" / "b" / f"extra{i}.png")
    panel = loaded_data_panel(qtbot, folder)
    assert panel.chart.heights() == {"a": 2, "b": 7} == panel.class_counts()


def test_every_bar_is_named_and_every_class_row_shows_at_the_default_size(qtbot, tmp_path):
    # From a user's day at the app's default 1100x706: the first bar's "Zürich café" had no
    # label (pyqtgraph drops one that overhangs), and the table showed 3 of 4 classes.
    from PySide6.QtGui import QFontMetrics

    folder = make_image_folder(tmp_path / "d", classes=("Zürich café", "bird", "cat", "dog"),
                               per_class=3)
    panel = loaded_data_panel(qtbot, folder)
    panel.resize(1100, 620)  # the Data tab's share of the default window
    panel.show()
    chart = panel.chart
    qtbot.waitUntil(lambda: chart.plot_widget is not None and bool(chart.heights()),
                    timeout=WAIT_MS)
    view = chart.plot_widget.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view.width() > 100, timeout=WAIT_MS)
    labels = chart.tick_labels()
    assert labels == ["Zürich café", "bird", "cat", "dog"]  # whole
    axis = chart.plot_widget.getPlotItem().getAxis("bottom")
    metrics = QFontMetrics(axis.style.get("tickFont") or chart.plot_widget.font())
    # Each fits its bar's width: upright, or turned ("Zürich café" is too wide upright).
    assert chart.is_turned()
    assert metrics.height() < view.width() / 4
    table = panel.class_table
    assert table.viewport().height() >= 4 * table.rowHeight(0)


def test_split_counts_follow_the_fraction_and_imbalance_is_flagged(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "skewed", classes=("few", "many"), per_class=4)
    from PIL import Image

    for i in range(36):
        Image.new("RGB", (4, 4)).save(tmp_path / "skewed" / "many" / f"more{i}.png")
    panel = loaded_data_panel(qtbot, folder)
    train, val = panel.split_counts()
    assert train == {"few": 3, "many": 32} and val == {"few": 1, "many": 8}
    with qtbot.waitSignal(panel.experiment_changed, timeout=WAIT_MS):
        panel.settings.val_fraction.setValue(0.5)
    assert panel.experiment.data.val_fraction == 0.5
    assert panel.split_counts() == ({"few": 2, "many": 20}, {"few": 2, "many": 20})
    label = panel.settings.imbalance_label
    assert label.level == "warning" and "10.0×" in label.text()
    combo = panel.settings.balance_combo
    combo.setCurrentIndex(combo.findData("weighted_loss"))
    assert panel.experiment.data.balance == "weighted_loss"
    assert label.level == "info" and "compensated" in label.text()


def test_folder_with_its_own_train_and_val_shows_so(qtbot, tmp_path):
    make_image_folder(tmp_path / "tv" / "train", classes=("a", "b"), per_class=3)
    make_image_folder(tmp_path / "tv" / "val", classes=("a", "b"), per_class=1)
    panel = loaded_data_panel(qtbot, tmp_path / "tv")
    assert panel.settings.folder_split.isVisibleTo(panel)
    assert panel.settings.folder_split.isChecked()
    assert not panel.settings.val_fraction.isEnabled()
    assert panel.split_counts() == ({"a": 3, "b": 3}, {"a": 1, "b": 1})

    # Opting out pools train/ and val/ and splits them by the fraction instead.
    with qtbot.waitSignal(panel.experiment_changed, timeout=WAIT_MS):
        panel.settings.folder_split.setChecked(False)
    assert panel.experiment.data.use_folder_split is False
    assert panel.settings.val_fraction.isEnabled()
    panel.settings.val_fraction.setValue(0.5)
    assert panel.split_counts() == ({"a": 2, "b": 2}, {"a": 2, "b": 2})

    plain = loaded_data_panel(qtbot, make_image_folder(tmp_path / "plain", classes=("a", "b"),
                                             per_class=3))
    assert not plain.settings.folder_split.isVisibleTo(plain)
    assert plain.settings.val_fraction.isEnabled()


def test_stratified_box_is_bound_both_ways(qtbot, tmp_path):
    panel = loaded_data_panel(qtbot, make_image_folder(tmp_path / "d", classes=("a", "b"), per_class=6))
    box = panel.settings.stratified
    assert box.isChecked() and panel.experiment.data.stratified
    with qtbot.waitSignal(panel.experiment_changed, timeout=WAIT_MS):
        box.setChecked(False)
    assert panel.experiment.data.stratified is False
    panel.experiment.data.stratified = True
    panel.settings.refresh()
    assert box.isChecked()


def test_image_summary_is_shown(qtbot, image_folder):
    pytest.importorskip("workbench.core.data.summary")
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.summary_finished, timeout=20000) as blocker:
        panel.load_folder(str(image_folder))
    text = panel.summary_label.text()
    assert blocker.args[0] and text == "\n".join(blocker.args[0])
    assert "16x16" in text and "RGB" in text


def test_reveal_opens_the_folder_of_an_unreadable_file(qtbot, image_folder, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    (image_folder / "red" / "broken.png").write_bytes(b"nope")
    panel = loaded_data_panel(qtbot, image_folder)
    assert not panel.reveal_button.isEnabled()
    panel.unreadable_list.setCurrentRow(0)
    assert panel.reveal_button.isEnabled()
    panel.reveal_button.click()
    assert [u.toLocalFile() for u in opened] == [str(image_folder / "red")]
    assert "1" in panel.details.tabText(panel.details.indexOf(panel.unreadable_box))


def _message_boxes():
    from PySide6.QtWidgets import QApplication, QMessageBox

    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def test_reveal_without_a_file_manager_says_so_and_copies_the_path(qtbot, image_folder,
                                                                   monkeypatch):
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # none installed
    broken = image_folder / "red" / "broken.png"
    broken.write_bytes(b"nope")
    panel = loaded_data_panel(qtbot, image_folder)
    panel.unreadable_list.setCurrentRow(0)
    QApplication.clipboard().clear()
    panel.reveal_button.click()
    qtbot.waitUntil(lambda: bool(_message_boxes()), timeout=30000)
    [box] = _message_boxes()
    assert box.windowTitle() == "Cannot reveal in file manager"
    assert "No file manager could be opened" in box.text()
    assert str(image_folder / "red") in box.text() and str(broken) in box.text()
    assert QApplication.clipboard().text() == str(broken)
    box.close()


def test_reveal_of_a_file_gone_since_the_scan_says_so(qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from workbench.qt.panels.data.views import reveal_in_file_manager

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    gone = tmp_path / "moved" / "away.png"
    assert reveal_in_file_manager(str(gone)) is False and opened == []
    qtbot.waitUntil(lambda: bool(_message_boxes()), timeout=30000)
    [box] = _message_boxes()
    assert "no longer exists" in box.text() and str(gone) in box.text()
    box.close()


def test_reveal_selects_the_file_on_windows_and_macos(tmp_path, monkeypatch):
    from PySide6.QtCore import QProcess
    from PySide6.QtGui import QDesktopServices

    from workbench.qt.panels.data.views import reveal_command, reveal_in_file_manager

    image = tmp_path / "a.png"
    image.write_bytes(b"x")
    assert reveal_command(str(image), "win32")[0] == "explorer.exe"
    assert reveal_command(str(image), "win32")[1][0] == "/select,"
    assert reveal_command(str(image), "darwin") == ("open", ["-R", str(image)])
    assert reveal_command(str(image), "linux") is None  # its folder is opened instead
    started, opened = [], []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr("sys.platform", "darwin")
    monkeypatch.setattr(QProcess, "startDetached",
                        lambda program, args: started.append((program, args)) or (True, 1))
    assert reveal_in_file_manager(str(image)) and opened == []
    assert started == [("open", ["-R", str(image)])]
    # Finder would not start: the folder is opened instead.
    monkeypatch.setattr(QProcess, "startDetached", lambda program, args: (False, -1))
    assert reveal_in_file_manager(str(image))
    assert [u.toLocalFile() for u in opened] == [str(tmp_path)]


def test_open_csv_button_loads_the_chosen_file(qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    csv = tmp_path / "data.csv"
    csv.write_text("path,label\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(csv), "CSV files (*.csv)"))
    panel = _panel(qtbot)
    loaded = []
    monkeypatch.setattr(panel, "load_folder", loaded.append)
    panel.csv_button.click()
    assert loaded == [str(csv)]


def test_a_csv_dataset_loads_like_a_folder(qtbot, tmp_path, image_folder):
    rows = ["path,label"] + [f"colours/{c}/{c}_{i:03d}.png,{c}"
                             for c in ("blue", "red") for i in range(4)]
    rows.append("colours/red/gone.png,red")
    csv = tmp_path / "list.csv"
    csv.write_text("\n".join(rows) + "\n")
    panel = loaded_data_panel(qtbot, csv)
    assert panel.experiment.data.folder == str(csv)
    assert panel.class_counts() == {"blue": 4, "red": 4} == panel.chart.heights()
    assert panel.thumb_model.rowCount() == 8
    [item] = [panel.unreadable_list.item(i).text() for i in range(panel.unreadable_list.count())]
    assert item.startswith("colours/red/gone.png: ") and "not found" in item


def test_a_csv_file_dropped_on_the_window_becomes_the_dataset(qtbot, tmp_path, image_folder):
    from qt_helpers import drop_urls
    from workbench.qt.main_window import MainWindow

    csv = tmp_path / "list.csv"
    csv.write_text("".join(f"colours/{c}/{c}_000.png,{c}\n" for c in ("blue", "green")))
    window = MainWindow(Experiment())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        drop_urls(window, [csv])
    assert window.tabs.currentWidget() is window.data_panel
    assert window.experiment.data.folder == str(csv)
    assert window.data_panel.class_counts() == {"blue": 1, "green": 1}


def test_a_folder_is_browsable_before_every_image_is_checked(qtbot, tmp_path, monkeypatch):
    """Listing is fast and shown at once; decoding every image (slow on 100k files) runs
    afterwards and adds what it finds unreadable."""
    import threading

    import workbench.core.data.scan as scan_module

    folder = make_image_folder(tmp_path / "d", classes=("a", "b"), per_class=5)
    (tmp_path / "d" / "b" / "broken.png").write_bytes(b"not a png")
    release = threading.Event()
    real_verify = scan_module.verify_samples

    def held_verify(index, progress=None, is_cancelled=None):
        assert release.wait(20), "the test never released the check"
        real_verify(index, progress, is_cancelled)

    monkeypatch.setattr(scan_module, "verify_samples", held_verify)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_listed, timeout=20000):
        panel.load_folder(folder)
    # Browsable while the check still runs: classes, counts (the broken file still listed)
    # and the thumbnail grid.
    assert panel.split_counts() is not None
    assert panel.index.counts() == {"a": 5, "b": 6}
    assert panel.thumb_model.rowCount() == 11
    assert "checking" in panel.message.text()
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000):
        release.set()
    assert panel.index.counts() == {"a": 5, "b": 5}
    assert [u.path.rsplit("/", 1)[-1] for u in panel.index.unreadable] == ["broken.png"]
    assert panel.thumb_model.rowCount() == 10
    assert "cannot be read" in panel.message.text()


def test_split_folders_and_a_suspicious_layout_are_shown(qtbot, tmp_path):
    from PIL import Image

    from workbench.qt.panels.data.panel import DataPanel

    for part, n in (("train", 4), ("test", 2)):
        for cls in ("cats", "dogs"):
            (tmp_path / "kaggle" / part / cls).mkdir(parents=True)
            for i in range(n):
                Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(
                    tmp_path / "kaggle" / part / cls / f"{i}.png")
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000):
        panel.load_folder(str(tmp_path / "kaggle"))
    assert panel.index.classes == ["cats", "dogs"]
    assert "8 in train/, 4 in test/" in panel.total_label.text()
    assert "never trained on" in panel.total_label.text()
    odd = tmp_path / "odd"
    for cls in ("train", "eval"):
        (odd / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (0, i * 90, 0)).save(odd / cls / f"{i}.png")
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000):
        panel.load_folder(str(odd))
    assert "Warning:" in panel.message.text() and "dataset parts" in panel.message.text()
