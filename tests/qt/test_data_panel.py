"""Data panel: background scan, classes and counts, unreadable files, clear messages."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.qt.panels.data import DataPanel

from helpers import make_image_folder


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
