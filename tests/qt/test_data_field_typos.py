"""The Data tab's Dataset field: a mistyped path keeps the dataset shown and used; a path
pasted in quotes or as a file:// URL opens; the Total line counts listed files as files
until every image is checked."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import Qt, QUrl

from helpers import make_image_folder
from qt_helpers import loaded_data_panel
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.panel import DataPanel
from workbench.qt.panels.data.stats import total_text

WAIT_MS = 30000


def _enter(qtbot, panel: DataPanel, text: str) -> None:
    """Type ``text`` in the Dataset field and press Enter."""
    panel.folder_edit.setText(text)
    qtbot.keyClick(panel.folder_edit, Qt.Key.Key_Return)


def _held_check(monkeypatch) -> threading.Event:
    """Hold the Data tab's readability check until the returned event is set."""
    import workbench.core.data.index as index_module

    release, real = threading.Event(), index_module.verify_samples

    def held(index, progress=None, is_cancelled=None, **kwargs):
        assert release.wait(20), "the test never released the check"
        return real(index, progress, is_cancelled, **kwargs)

    monkeypatch.setattr(index_module, "verify_samples", held)
    return release


def test_a_mistyped_folder_keeps_the_dataset_shown_and_used(qtbot, tmp_path):
    """Walk: a typo emptied the tab and left it in the field, while Start trained the
    dataset before."""
    folder = str(make_image_folder(tmp_path / "mid data é", per_class=4))
    panel = loaded_data_panel(qtbot, folder)
    index, counts = panel.index, panel.class_counts()
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS) as blocker:
        _enter(qtbot, panel, str(tmp_path / "mid data e"))
    assert panel.experiment.data.folder == folder
    assert panel.folder_edit.text() == folder  # the field names what is used
    assert panel.index is index and panel.class_counts() == counts and panel.trainable
    assert panel.thumb_model.rowCount() > 0
    text = panel.message.text()
    assert panel.message.level == "error" and blocker.args[0] == text
    assert f"{tmp_path / 'mid data e'} does not exist" in text
    assert text.endswith(f"; still using {folder}.")
    # The dataset kept is the one Rescan scans.
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.rescan_button.click()
    assert panel.class_counts() == counts and panel.message.text().startswith("Ready")


def test_a_typo_while_the_images_are_checked_still_checks_them(qtbot, tmp_path,
                                                              monkeypatch):
    folder = str(make_image_folder(tmp_path / "d", classes=("a", "b"), per_class=3))
    (tmp_path / "d" / "b" / "broken.png").write_bytes(b"not a png")
    release = _held_check(monkeypatch)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_listed, timeout=WAIT_MS):
        panel.load_folder(folder)
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        _enter(qtbot, panel, str(tmp_path / "typo"))
    assert panel.progress.isVisibleTo(panel)  # checked again
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        release.set()
    assert panel.trainable and panel.class_counts() == {"a": 3, "b": 3}
    assert panel.total_label.text().startswith("Total: 6 images in 2 classes")


def test_the_own_folder_failing_still_empties_the_tab(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "ds", per_class=2)
    panel = loaded_data_panel(qtbot, folder)
    os.rename(folder, tmp_path / "elsewhere")
    with qtbot.waitSignal(panel.scan_failed, timeout=WAIT_MS):
        panel.rescan_button.click()
    assert panel.index is None and panel.class_table.rowCount() == 0
    assert not panel.trainable and "still using" not in panel.message.text()


def test_a_path_pasted_in_quotes_or_as_a_file_url_opens(qtbot, tmp_path):
    """Walk: Windows' "Copy as path" and a file manager's copy were joined onto the app's
    working folder ("/work/main/"/tmp/…" does not exist")."""
    first = str(make_image_folder(tmp_path / 'my "photos" #1 100% ü', per_class=2))
    second = str(make_image_folder(tmp_path / "mid data é", classes=("x", "y"), per_class=2))
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        _enter(qtbot, panel, f'  "{first}" ')
    assert panel.experiment.data.folder == first and panel.folder_edit.text() == first
    url = QUrl.fromLocalFile(second).toString(QUrl.ComponentFormattingOption.FullyEncoded)
    assert "%20" in url
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        _enter(qtbot, panel, url)
    assert panel.experiment.data.folder == second and panel.folder_edit.text() == second
    assert panel.class_counts() == {"x": 2, "y": 2}


def test_typed_path_reads_quotes_and_urls(tmp_path, monkeypatch):
    from workbench.qt.panels.data.typed import typed_path

    monkeypatch.chdir(tmp_path)
    assert typed_path(" '/data/my set' ") == "/data/my set"
    assert typed_path('"/data/my set"') == "/data/my set"
    assert typed_path("file:///data/mid%20data%20%C3%A9") == "/data/mid data é"
    assert typed_path("file:/data/x") == "/data/x"
    assert typed_path("  ") == "" and typed_path("rel") == str(tmp_path / "rel")
    (tmp_path / '"quoted"').mkdir()  # a folder that is named so: taken as it is
    assert typed_path('"quoted"') == str(tmp_path / '"quoted"')


def test_the_total_counts_listed_files_as_files_until_they_are_checked(qtbot, tmp_path,
                                                                      monkeypatch):
    """Walk: "Total: 307 images" for 1.6 s, then "305 images": the corrupt files counted."""
    for part, n in (("train", 3), ("test", 1)):
        make_image_folder(tmp_path / "ds" / part, classes=("a", "b"), per_class=n)
    (tmp_path / "ds" / "train" / "b" / "broken.png").write_bytes(b"not a png")
    release = _held_check(monkeypatch)
    panel = DataPanel(Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_listed, timeout=WAIT_MS):
        panel.load_folder(str(tmp_path / "ds"))
    text = panel.total_label.text()
    assert text.startswith("Total: 9 files listed in 2 classes (7 in train/, 2 in test/), "
                           "checking that each can be read…; test/ is never trained on")
    assert "images" not in text
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        release.set()
    assert panel.total_label.text().startswith("Total: 8 images in 2 classes (6 in train/, "
                                               "2 in test/); test/ is never")


def test_the_total_after_a_check_that_finds_nothing_counts_images(qtbot, tmp_path):
    panel = loaded_data_panel(qtbot, make_image_folder(tmp_path / "ds", per_class=2))
    assert panel.total_label.text() == "Total: 6 images in 3 classes"
    index = scan_folder(tmp_path / "ds", verify=False)
    assert total_text(index, Experiment().data, checking=True) == (
        "Total: 6 files listed in 3 classes, checking that each can be read…")
