"""A file name that is not valid UTF-8 (``b"caf\\xe9_dog.png"``, from a zip made on
Windows) in the app: its thumbnail loads, its name shows the bad byte as "\ufffd" with a note
to rename the file, the Health check's result is shown, and Predict's Export CSV writes it."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtCore import Qt

from helpers import make_photo_folder
from qt_helpers import loaded_data_panel
from workbench.core.experiment import Experiment

if sys.platform in ("win32", "darwin"):  # names there are always valid Unicode
    pytest.skip("needs a file system that takes any bytes as a name", allow_module_level=True)

WAIT_MS = 30000
BAD = b"caf\xe9_dog.png"


def _bad_file(folder) -> str:
    """Rename ``folder``'s first dog to :data:`BAD`; its path as Python lists it."""
    base = os.fsencode(folder)
    os.rename(base + b"/dogs/dogs_00.png", base + b"/dogs/" + BAD)
    return os.fsdecode(base + b"/dogs/" + BAD)


def test_its_thumbnail_loads_and_its_name_shows_the_bad_byte(qtbot, tmp_path):
    from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel

    root = make_photo_folder(tmp_path / "d", classes=("dogs",), per_class=2)
    bad = _bad_file(root)
    loader = ThumbnailLoader()
    model = ThumbnailModel(loader)
    model.set_samples([(bad, 0)], ["dogs"])
    index = model.index(0)
    index.data(Qt.ItemDataRole.DecorationRole)  # asks for it, as painting does
    qtbot.waitUntil(lambda: loader.get(bad) is not None or loader.is_broken(bad),
                    timeout=WAIT_MS)
    assert loader.get(bad) is not None  # filed under the path the row asks for
    assert index.data(Qt.ItemDataRole.DecorationRole).cacheKey() == loader.get(bad).cacheKey()
    assert index.data() == "caf\ufffd_dog.png"  # not "caf_dog.png"
    assert "not valid UTF-8" in index.data(Qt.ItemDataRole.ToolTipRole)
    from workbench.qt.thumbnails import path_at  # what the Data tab's menus act on

    assert path_at(index) == bad and os.path.isfile(path_at(index))
    loader.shutdown()


def test_the_health_check_of_such_a_folder_shows_its_result(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    root = make_photo_folder(tmp_path / "d", per_class=4)
    _bad_file(root)
    exp = Experiment(name="names")
    exp.data.input_size = [32, 32]
    health = loaded_data_panel(qtbot, root, exp).health
    with qtbot.waitSignal(health.checked, timeout=WAIT_MS):
        health.check_button.click()
    assert health.summary.text().startswith("Checked 12 images")


def test_predict_shows_it_and_exports_it_by_its_own_bytes(qtbot, bundle_path, tmp_path):
    from workbench.qt.panels.predict.panel import PredictPanel

    bad = _bad_file(make_photo_folder(tmp_path / "d", classes=("dogs",), per_class=1))
    panel = PredictPanel(bundle_path)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.predictions_finished, timeout=WAIT_MS):
        panel.add_images([bad])
    out = tmp_path / "p.csv"
    assert panel.export_csv(str(out)) == str(out)
    assert "Wrote 1 prediction" in panel.status.text()
    assert b"/dogs/" + BAD + b"," in out.read_bytes()

    index = panel.model.index(0)
    assert index.data() == "caf\ufffd_dog.png"
    index.data(Qt.ItemDataRole.DecorationRole)  # asks for the thumbnail, as painting does
    qtbot.waitUntil(lambda: panel.model.loader.get(bad) is not None, timeout=WAIT_MS)
    panel.shutdown()
