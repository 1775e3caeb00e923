"""Two windows on one session: the images listed on one window's Predict tab are kept when
a run ends in the other, which sets that window's Predict model by itself
(walk-twowindows defect 1)."""

from __future__ import annotations

import json

import workbench.qt.app as app
from workbench.core.session import session_path
from workbench.qt.session_share import merged_text


def _window(qtbot, **kwargs):
    window = app.create_window(**kwargs)
    qtbot.addWidget(window)
    window.session_keeper.timer.stop()  # written when the test says (save_now, close)
    return window


def _predict() -> dict:
    return json.loads(session_path().read_text()).get("predict", {})


def test_images_dropped_in_one_window_survive_a_run_ending_in_the_other(
        qtbot, image_folder, tmp_path):
    a = _window(qtbot, data=str(image_folder))
    a.session_keeper.save_now()
    b = _window(qtbot)
    images = sorted(str(p) for p in (image_folder / "red").iterdir())[:3]
    b.predict_panel.add_images(images)
    qtbot.waitUntil(lambda: len(b.predict_panel.rows) == 3)
    assert b.session_keeper.save_now()
    assert _predict()["images"] == images
    bundle = tmp_path / "runs" / "a-run" / "bundle.pt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(b"")
    a._on_bundle_saved(str(bundle))  # A's run ended: its Predict tab takes the run's model
    assert a.session_keeper.save_now()
    assert _predict()["images"] == images
    a.close()
    b.close()
    assert _predict()["images"] == images


def test_the_predict_images_and_their_left_out_count_merge_as_one_part():
    def doc(predict):
        return json.dumps({"session_version": 1, "predict": predict})
    base = doc({})
    theirs = doc({"images": ["/b/1.jpg"], "left_out": {"images": 7, "folders": ["/b"]}})
    ours = doc({"bundle": "/runs/a/bundle.pt"})  # this window's model changed, not images
    assert json.loads(merged_text(base, ours, theirs))["predict"] == {
        "bundle": "/runs/a/bundle.pt", "images": ["/b/1.jpg"],
        "left_out": {"images": 7, "folders": ["/b"]}}
    ours = doc({"images": ["/a/1.jpg"]})  # this window listed others: no count of B's kept
    assert json.loads(merged_text(base, ours, theirs))["predict"] == {"images": ["/a/1.jpg"]}
