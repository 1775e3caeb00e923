"""A size that is not square is said with its order named, the same way everywhere a
person reads it (``init``/``check``, train's cache line, the HTML report, a Resize step's
text, the exported code's header): "48x40 (width x height)" for an input of 40 rows and 48
columns (``data.input_size`` [40, 48]); a square size stays "32x32"."""

from __future__ import annotations

import json

from PIL import Image

from workbench.core.data.augment.pipeline import split_pipeline
from workbench.core.data.augment.transforms import TRANSFORMS
from workbench.core.data.cache import DecodedCache
from workbench.core.experiment import Experiment
from workbench.core.model.codegen import network_code
from workbench.core.registry import Component as C
from workbench.core.runs.report import build_report

SAID = "48x40 (width x height)"


def _exp(folder: str = "", size=(40, 48)) -> Experiment:
    exp = Experiment(name="wide")
    exp.data.folder = folder
    exp.data.input_size = list(size)
    exp.model.layers = [C("Flatten"), C("Linear")]
    return exp.validate()


def test_the_resize_steps_name_the_order_of_a_size_that_is_not_square():
    resize = TRANSFORMS.get("Resize").meta["describe"]
    assert resize({"size": [40, 48]}, None) == f"Resize to {SAID}"
    assert resize({"size": [32, 32]}, None) == "Resize to 32x32"
    crop = TRANSFORMS.get("CenterCrop").meta["describe"]
    assert crop({"size": [40, 48]}, None) == f"Crop the centre {SAID}"


def test_the_cache_line_names_the_order(tmp_path):
    (tmp_path / "a").mkdir()
    Image.new("RGB", (48, 40)).save(tmp_path / "a" / "x.png")
    cache = DecodedCache([str(tmp_path / "a" / "x.png")], split_pipeline(_exp()), "ram")
    assert f"1 images at {SAID}," in cache.describe()


def test_the_exported_code_header_names_the_order():
    code = network_code(_exp(), 2, ["a", "b"])
    assert f"RGB images, {SAID} pixels." in code
    assert "(batch, 3, 40, 48)" in code  # the tensor's own shape stays channels, h, w


def test_the_report_names_the_order(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _exp().save(run / "experiment.json")
    (run / "run.json").write_text(json.dumps({"status": "finished", "name": "wide"}))
    text = build_report(run)
    assert f"input {SAID}, 3 channel(s)" in text


def test_the_pipelines_own_resize_steps_name_the_order(tmp_path):
    from workbench.core.data.augment.transforms import describe_pipeline

    assert describe_pipeline(_exp(), True)[1] == f"Resize to {SAID} (data.input_size)"
    exp = _exp(str(tmp_path))
    exp.augment.transforms = [C("RandomResizedCrop", {"size": [40, 48]})]
    assert f"Resize to {SAID} (evaluation counterpart of RandomResizedCrop)" in \
        describe_pipeline(exp, False)
    assert split_pipeline(exp).texts[-1] == f"Resize to {SAID} (cached size)"
