"""Predict panel: dropped images get rows with their top classes; bad files get errors."""

from __future__ import annotations

import pytest

from qt_helpers import drop_urls
from workbench.qt.panels.predict import PredictPanel

TIMEOUT_MS = 30000


@pytest.fixture
def panel(qtbot, bundle_path):
    p = PredictPanel(bundle_path)
    qtbot.addWidget(p)
    return p


def test_dropped_image_shows_top_classes_as_bars(qtbot, panel, image_folder):
    image = image_folder / "red" / "red_000.png"
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        drop = drop_urls(panel, [image])
        assert drop.isAccepted()
    [row] = panel.rows
    assert row.path == str(image)
    assert row.error is None
    assert [c for c, _ in row.top] and set(c for c, _ in row.top) == {"blue", "green", "red"}
    assert sum(p for _, p in row.top) == pytest.approx(1.0, abs=1e-4)
    probs = [p for _, p in row.top]
    assert probs == sorted(probs, reverse=True)
    labels = [label.text() for label, _, _ in row.bar_widgets]
    assert labels == [c for c, _ in row.top]
    _, first_bar, first_pct = row.bar_widgets[0]
    assert first_bar.value() == round(probs[0] * 1000)
    assert first_pct.text() == f"{probs[0] * 100:.1f}%"
    assert row.thumb.pixmap() is not None and not row.thumb.pixmap().isNull()


def test_a_corrupt_file_gets_an_error_row_and_the_others_still_run(qtbot, panel, image_folder,
                                                                   tmp_path):
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    good = [image_folder / "blue" / "blue_000.png", image_folder / "green" / "green_000.png"]
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        drop_urls(panel, [good[0], bad, good[1]])
    assert [r.path for r in panel.rows] == [str(good[0]), str(bad), str(good[1])]
    ok0, broken, ok1 = panel.rows
    assert broken.error and broken.top == []
    assert broken.state.level == "error" and "Cannot classify" in broken.state.text()
    assert broken.bar_widgets == []
    assert ok0.error is None and len(ok0.top) == 3
    assert ok1.error is None and len(ok1.top) == 3


def test_a_dropped_folder_expands_to_its_images(qtbot, panel, image_folder):
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "green")])
    assert len(panel.rows) == 12
    assert all(r.error is None and r.top for r in panel.rows)
    panel.clear()
    assert panel.rows == []


def test_images_wait_for_a_model_then_run_when_one_is_set(qtbot, bundle_path, image_folder):
    panel = PredictPanel()
    qtbot.addWidget(panel)
    [row] = panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert "Waiting for a model" in row.state.text()
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.set_bundle(bundle_path)
    assert row.top and row.error is None


def test_an_unusable_bundle_is_reported(qtbot, tmp_path, image_folder):
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"not a bundle")
    panel = PredictPanel(str(fake))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        panel.add_images([str(image_folder / "red" / "red_001.png")])
    assert panel.rows[0].error
    assert panel.bundle_label.level == "error"
    assert "fake.pt" in panel.bundle_label.text()
