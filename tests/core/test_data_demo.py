"""The demo dataset: generated once, deterministically, atomically, trainable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from workbench.core.data import demo
from workbench.core.data.scan import scan_folder
from workbench.core.errors import DataError


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory):
    return demo.ensure_demo_dataset(tmp_path_factory.mktemp("demo") / "shapes")


@pytest.fixture
def small(monkeypatch):
    """Four images per class: enough to test the mechanics quickly."""
    monkeypatch.setattr(demo, "IMAGES_PER_CLASS", 4)


def _pixels(root):
    return {p.relative_to(root).as_posix(): np.asarray(Image.open(p))
            for p in sorted(root.rglob("*.png"))}


def test_full_dataset_is_a_trainable_image_folder(full_demo):
    index = scan_folder(full_demo, verify=True)
    assert index.classes == sorted(demo.CLASSES) and len(index.classes) >= 3
    assert index.counts() == {c: demo.IMAGES_PER_CLASS for c in demo.CLASSES}
    assert 100 <= len(index.samples) <= 2000 and not index.unreadable
    index.check_trainable()
    img = Image.open(index.samples[0][0])
    assert img.mode == "RGB" and img.size == (32, 32)
    marker = json.loads((full_demo / demo.MARKER).read_text())
    assert marker["version"] == demo.VERSION and marker["classes"] == list(demo.CLASSES)


def test_colour_says_nothing_about_the_class(full_demo):
    # The mean colour (and so the area a shape covers) must not single a class out: the
    # shape is the label. Unequal areas made the circles' mean 15 levels brighter.
    means = {c: np.mean([np.asarray(Image.open(p), float).mean(axis=(0, 1))
                         for p in sorted((full_demo / c).glob("*.png"))], axis=0)
             for c in demo.CLASSES}
    spread = np.ptp(np.stack(list(means.values())), axis=0)
    assert spread.max() < 8, means


def test_generated_once(full_demo):
    first = full_demo / "circle" / "circle_000.png"
    stamp = first.stat().st_mtime_ns
    assert demo.ensure_demo_dataset(full_demo) == full_demo
    assert first.stat().st_mtime_ns == stamp


def test_deterministic(tmp_path, small):
    a = _pixels(demo.ensure_demo_dataset(tmp_path / "a"))
    b = _pixels(demo.ensure_demo_dataset(tmp_path / "b"))
    assert len(a) == 4 * len(demo.CLASSES) and a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["circle/circle_000.png"], a["circle/circle_001.png"])


def test_default_location_is_under_data_home(tmp_path, monkeypatch, small):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    root = demo.ensure_demo_dataset()
    assert root == tmp_path / "home" / "demo" / "shapes"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(demo.CLASSES)


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch, small):
    real, calls = demo.render_shape, []

    def flaky(name, rng, size=demo.IMAGE_SIZE):
        calls.append(name)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return real(name, rng, size)

    monkeypatch.setattr(demo, "render_shape", flaky)
    with pytest.raises(KeyboardInterrupt):
        demo.ensure_demo_dataset(tmp_path / "shapes")
    assert list(tmp_path.iterdir()) == []  # no half dataset, no temporary folder
    monkeypatch.setattr(demo, "render_shape", real)
    root = demo.ensure_demo_dataset(tmp_path / "shapes")
    assert len(list(root.rglob("*.png"))) == 4 * len(demo.CLASSES)


def test_outdated_version_is_replaced(tmp_path, small):
    root = demo.ensure_demo_dataset(tmp_path / "shapes")
    (root / demo.MARKER).write_text(json.dumps({"version": 0}))
    (root / "circle" / "stale.png").write_bytes(b"old")
    demo.ensure_demo_dataset(root)
    assert not (root / "circle" / "stale.png").exists()
    assert json.loads((root / demo.MARKER).read_text())["version"] == demo.VERSION
    assert [p.name for p in tmp_path.iterdir()] == ["shapes"]


def test_foreign_folder_is_not_touched(tmp_path, small):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(DataError, match="not a Workbench demo dataset"):
        demo.ensure_demo_dataset(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"
    (tmp_path / "empty").mkdir()
    assert len(list(demo.ensure_demo_dataset(tmp_path / "empty").rglob("*.png"))) == 16


def test_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="hexagon"):
        demo.render_shape("hexagon", np.random.default_rng(0))
