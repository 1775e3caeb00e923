"""A photo handed over as a PIL image (``Image.open(upload)``, as a web server does) is
made upright by its EXIF orientation exactly as the same file given by path is, in
Workbench's Predictor and in the exported module's ``predict()``: no silently sideways
photos. An image already made upright (``ImageOps.exif_transpose``) is not turned again."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from PIL import Image, ImageOps

from workbench.core.bundle import save_bundle
from workbench.core.experiment import Experiment
from workbench.core.export.code import export_code
from workbench.core.model.builder import build_network
from workbench.core.predict import Predictor
from workbench.core.registry import Component as C

CLASSES = ["a", "b", "c", "d"]


@pytest.fixture
def bundle(tmp_path):
    exp = Experiment()
    exp.data.input_size = [8, 8]
    exp.model.layers = [C("Flatten"), C("Linear")]
    exp.validate()
    torch.manual_seed(0)
    model, _ = build_network(exp.model.layers, (3, 8, 8), len(CLASSES))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return save_bundle(tmp_path / "bundle.pt", exp, CLASSES, model.state_dict())


@pytest.fixture
def photo(tmp_path):
    """A small JPEG (no reduced-size decode) stored sideways: EXIF orientation 6."""
    im = Image.new("RGB", (14, 6), (220, 20, 20))
    im.paste((20, 20, 220), (7, 0, 14, 3))
    im.paste((20, 200, 20), (0, 3, 5, 6))
    exif = im.getexif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    im.save(path, quality=100, exif=exif)
    return path


def _close(a, b):
    return all(abs(a[k] - b[k]) < 1e-6 for k in a)


def test_predictor_turns_a_pil_image_as_it_turns_the_file(bundle, photo):
    predictor = Predictor(bundle)

    def probs(item):
        return dict(predictor.predict_one(item, top_k=len(CLASSES)).top)

    by_path = probs(photo)
    with Image.open(photo) as im:
        assert not _close(probs(im.transpose(Image.Transpose.ROTATE_180)), by_path)
        assert _close(probs(im), by_path)
        assert _close(probs(ImageOps.exif_transpose(im)), by_path)  # not turned twice


def test_exported_predict_turns_a_pil_image_as_it_turns_the_file(bundle, photo, tmp_path):
    module = export_code(bundle, tmp_path / "model.py")
    spec = importlib.util.spec_from_file_location("exported_model", module)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    model = m.build_model()
    model.load_state_dict(torch.load(bundle, weights_only=True)["state_dict"])
    by_path = m.predict(model, [str(photo)])[0]
    assert _close(by_path, dict(Predictor(bundle).predict_one(photo, len(CLASSES)).top))
    with Image.open(photo) as im:
        assert _close(m.predict(model, im)[0], by_path)
        assert _close(m.predict(model, ImageOps.exif_transpose(im))[0], by_path)
