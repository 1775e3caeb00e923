"""Check labels on a folder with a class of one image (a species photographed once): the
check runs (a real one, on tiny images), and the Health summary names the class it could
not judge, then and after a restart."""

from __future__ import annotations

from helpers import make_photo_folder
from qt_helpers import loaded_data_panel
from workbench.core.experiment import Experiment

WAIT_MS = 120000
LINE = ("'Boletus' (1 image) was not checked: a class needs at least 2 images to be held out "
        "(add images to check it).")


def _experiment() -> Experiment:
    exp = Experiment(name="small")
    exp.data.input_size = [16, 16]
    exp.training.device = "cpu"
    exp.training.epochs = 2  # each fold trains 2 epochs
    return exp


def test_check_labels_names_the_class_of_one_image_it_could_not_judge(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6, side=16)
    make_photo_folder(root, classes=("Boletus",), per_class=1, side=16, seed=1)
    panel = loaded_data_panel(qtbot, root, _experiment())
    health = panel.health
    ended = []
    health.check_failed.connect(lambda message: ended.append(("failed", message)))
    health.checked.connect(lambda _report: ended.append(("checked", "")))
    health.labels_button.click()
    qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
    assert ended == [("checked", "")] and health.report.labels_checked
    summary = health.summary.text()
    assert summary.endswith(LINE), summary
    assert "Labels checked in" in summary and "readable" not in summary
    assert all("Boletus" not in f.classes for f in health.model.findings
               if f.kind == "label")
    panel.shutdown()

    again = loaded_data_panel(qtbot, root, _experiment()).health  # a restart
    assert again.summary.text() == summary
