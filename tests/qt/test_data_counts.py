"""The Data tab's "Chosen for this dataset" line counts the images that are trained on:
a photo cut off in a copy (its header reads, its pixels do not) is not one of them, even
when the header summary is ready before every image has been decoded."""

from __future__ import annotations

import threading

import pytest

from workbench.core.experiment import Experiment
from workbench.qt.panels.data import panel as panel_module
from workbench.qt.panels.data.panel import DataPanel

WAIT_MS = 30000


def _photos(root, broken: bool):
    """3 classes x 15 JPEGs, 12 of them 240x180 and 3 turned (180x240); with ``broken``,
    a 240x180 JPEG cut in half in dog/."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for ci, c in enumerate(("cat", "dog", "plant")):
        (root / c).mkdir(parents=True)
        for i in range(15):
            h, w = (240, 180) if i < 3 else (180, 240)
            pixels = (rng.random((h, w, 3)) * 60 + ci * 80).astype(np.uint8)
            Image.fromarray(pixels).save(root / c / f"IMG_{ci}{i:03d}.jpg", quality=90)
    if broken:
        whole = (root / "cat" / "IMG_0010.jpg").read_bytes()
        (root / "dog" / "IMG_broken.jpg").write_bytes(whole[:len(whole) // 2])
    return str(root)


@pytest.mark.parametrize("broken", [True, False])
def test_the_chosen_line_counts_readable_images_only(qtbot, tmp_path, monkeypatch, broken):
    folder = _photos(tmp_path / "photos", broken)
    summarised = threading.Event()
    real_verify = panel_module.verify_dataset

    def verify_after_the_summary(index, state):  # the order a large folder gives
        summarised.wait(20)
        return real_verify(index, state)

    monkeypatch.setattr(panel_module, "verify_dataset", verify_after_the_summary)
    exp = Experiment()
    panel = DataPanel(exp)
    qtbot.addWidget(panel)
    panel.summary_finished.connect(lambda lines: summarised.set())
    with qtbot.waitSignal(panel.defaults_adopted, timeout=WAIT_MS) as blocker:
        panel.load_folder(folder)
    text = blocker.args[0]
    assert "36 of 45 are 240x180" in text, text  # not "37 of 46": the cut-off one is out
    assert text == panel.advice.chosen.text()
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=WAIT_MS)
    assert panel.index.counts() == {"cat": 15, "dog": 15, "plant": 15}
    assert [u.path.rsplit("/", 1)[-1] for u in panel.index.unreadable] == \
        (["IMG_broken.jpg"] if broken else [])
