"""The Data tab's Ready line says what the scan left out of class folders (files with no
image extension, walker report walk-paths, defect 8), as ``workbench scan`` does."""

from __future__ import annotations

import shutil

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.qt.panels.data.stats import ready_text


def test_the_ready_line_names_files_with_no_image_extension(tmp_path):
    root = tmp_path / "data"
    make_image_folder(root)
    shutil.copy(next((root / "red").glob("*.png")), root / "red" / "IMG_0001")
    text, _level = ready_text(scan_folder(root))
    assert text.startswith("Ready: 3 classes, 30 images.")
    assert "Note: 1 file in a class folder is left out" in text and "red/IMG_0001" in text
