"""Files that are not images are not counted as images: the Health summary says the
unreadable files are not among the images it checked ("Checked 79 images: 2 unreadable,
79 blank" read as 2 of the 79), and deleting a non-image file is "1 unreadable file
removed" on the Data tab's line and the Health tab's out-of-date bar, not "1 image"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import make_photo_folder
from qt_helpers import loaded_data_panel

WAIT_MS = 30000


def test_unreadable_files_are_counted_as_files_beside_the_images_checked(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d")
    broken = root / "dogs" / "broken_photo.png"
    broken.write_text("<html>not a photo</html>")
    panel = loaded_data_panel(qtbot, root)
    health = panel.health
    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.check_button.click()
    checked = health.report.num_images
    summary = health.summary.text()
    assert summary.startswith(f"Checked {checked} images in ")
    assert " (1 more file could not be read): " in summary, summary
    assert "unreadable" not in summary.split(":", 1)[1].split(".")[0]  # not among the counts
    assert any(f.kind == "unreadable" for f in health.model.findings)  # its row stays

    broken.unlink()  # the user removes it in a file manager and comes back to the app
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        QApplication.instance().applicationStateChanged.emit(
            Qt.ApplicationState.ApplicationActive)
    assert panel.message.text().startswith("The folder changed: 1 unreadable file removed "
                                           "(rescanned).")
    assert health.stale.text().startswith("The folder changed since this check (1 unreadable "
                                          "file removed): ")
