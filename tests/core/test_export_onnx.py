"""ONNX export: parity with PyTorch under onnxruntime, a dynamic batch dimension, the
preprocessing JSON beside the file, the CLI, and one-line errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.core.bundle import save_bundle
from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.registry import Component as C
from workbench.core.experiment import Experiment
from workbench.core.model.builder import build_network
from workbench.core.model.layers import LAYERS
from workbench.core.model.presets import list_presets, preset_experiment

ort = pytest.importorskip("onnxruntime")
from workbench.core.export import onnx as export_module  # noqa: E402
from workbench.core.export.onnx import export_onnx  # noqa: E402


def _bundle(tmp_path, exp: Experiment, classes=("cat", "dog", "fox"), name="bundle.pt"):
    """A bundle of ``exp``'s network with random weights and BatchNorm statistics (as
    training would leave them, so parity cannot come from identity normalisation)."""
    exp.validate()
    h, w = exp.data.input_size
    model, _ = build_network(exp.model.layers, (exp.data.channels, h, w), len(classes))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name_, buf in model.named_buffers():
            if name_.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape, generator=gen) * 0.1)
            elif name_.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)
    return save_bundle(tmp_path / name, exp, list(classes), model.state_dict()), model.eval()


def _exp(layers, channels=3, size=(12, 12)) -> Experiment:
    exp = Experiment()
    exp.data.channels = channels
    exp.data.input_size = list(size)
    exp.data.mean, exp.data.std = [0.5] * channels, [0.25] * channels
    exp.model.layers = layers
    return exp


def _run_onnx(path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": x.numpy()})[0]


# -- parity ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [name for name, _ in list_presets()])
def test_every_preset_matches_pytorch_under_onnxruntime(tmp_path, name):
    exp = preset_experiment(name)
    for comp in exp.model.layers:
        if comp.type == "Backbone":  # no pretrained file: random weights, as the brief's
            comp.params["weights"] = "random"
    bundle, _ = _bundle(tmp_path, exp)
    report = export_onnx(bundle, tmp_path / "model.onnx")
    assert report.matches and report.warnings == [], report.warnings
    assert report.max_abs_diff <= report.tolerance
    assert report.samples == 4 and report.batch_sizes == (1, 4)
    # The preset's own input (resnet18: the 224x224 its pretrained weights expect).
    assert report.input_shape == ["batch", 3, *exp.data.input_size] and report.opset >= 18


# Networks that between them hold every registered layer type but Backbone (resnet18 preset).
_LAYER_NETWORKS = {
    "image-and-flat": [
        C("Conv2d", {"out_channels": 8}), C("BatchNorm2d"), C("GroupNorm", {"num_groups": 4}),
        C("PReLU"), C("LeakyReLU"), C("ELU"), C("Dropout2d"), C("MaxPool2d"), C("SiLU"),
        C("AvgPool2d"), C("GELU"), C("AdaptiveAvgPool2d"), C("Flatten"),
        C("Linear", {"out_features": 16}), C("BatchNorm1d"), C("LayerNorm"), C("Sigmoid"),
        C("Identity"), C("ReLU"), C("Dropout"), C("Tanh"), C("Linear"), C("LogSoftmax"),
        C("Softmax")],
    "RowRNN": [C("RowRNN", {"hidden_size": 8, "num_layers": 2, "bidirectional": True,
                            "nonlinearity": "relu"}), C("Linear")],
    "RowGRU": [C("RowGRU", {"hidden_size": 8, "bidirectional": True}), C("Linear")],
    "RowLSTM": [C("RowLSTM", {"hidden_size": 8, "num_layers": 2, "bidirectional": True}),
                C("Linear")],
}


def test_the_layer_networks_cover_every_registered_layer_type():
    used = {c.type for layers in _LAYER_NETWORKS.values() for c in layers} | {"Backbone"}
    assert set(LAYERS.names()) <= used, sorted(set(LAYERS.names()) - used)


@pytest.mark.parametrize("key", list(_LAYER_NETWORKS))
def test_every_layer_type_exports_with_parity(tmp_path, key):
    bundle, _ = _bundle(tmp_path, _exp([C(c.type, dict(c.params)) for c in _LAYER_NETWORKS[key]]))
    report = export_onnx(bundle, tmp_path / "model.onnx", samples=3)
    assert report.matches, report.warnings


def test_the_batch_dimension_is_dynamic(tmp_path):
    bundle, model = _bundle(tmp_path, _exp([C("Conv2d", {"out_channels": 4}), C("ReLU"),
                                            C("Flatten"), C("Linear")]))
    path = export_onnx(bundle, tmp_path / "model.onnx", check=False).path
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert isinstance(session.get_inputs()[0].shape[0], str)  # symbolic, not a number
    for batch in (1, 5):
        x = torch.randn(batch, 3, 12, 12)
        got = session.run(None, {"image": x.numpy()})[0]
        with torch.no_grad():
            np.testing.assert_allclose(got, model(x).numpy(), atol=1e-5, rtol=0)


def test_real_images_of_the_experiments_folder_join_the_check(tmp_path, tiny_experiment):
    bundle, _ = _bundle(tmp_path, tiny_experiment)
    report = export_onnx(bundle, tmp_path / "model.onnx", samples=2)
    assert report.real_images == 2 and report.samples == 4 and report.batch_sizes == (1, 4)
    assert report.matches


# -- the preprocessing JSON ----------------------------------------------------------------
def test_the_json_is_enough_to_predict_without_workbench(tmp_path, tiny_folder):
    """Follow the JSON by hand (PIL, torchvision, onnxruntime only) and get the
    probabilities Workbench's Predictor gives for the same image."""
    from PIL import Image
    from torchvision.transforms.v2 import functional as F

    from workbench.core.predict import Predictor

    exp = _exp([C("Conv2d", {"out_channels": 4}), C("Tanh"), C("Flatten"), C("Linear")],
               channels=1, size=(8, 10))
    exp.data.folder = tiny_folder
    exp.augment.transforms = [C("RandomResizedCrop"), C("RandomHorizontalFlip")]
    bundle, _ = _bundle(tmp_path, exp, classes=("blue", "green", "red"))
    report = export_onnx(bundle, tmp_path / "net.onnx")
    assert report.preprocessing_path == tmp_path / "net.json"
    doc = json.loads(report.preprocessing_path.read_text())
    assert doc["classes"] == ["blue", "green", "red"] and doc["model"] == "net.onnx"
    assert doc["input"]["name"] == "image" and doc["input"]["shape"] == ["batch", 1, 8, 10]
    assert doc["output"]["name"] == "logits" and "softmax" in doc["output"]["meaning"]
    assert doc["input_size"] == [8, 10] and doc["channels"] == 1
    assert doc["mean"] == [0.5] and doc["std"] == [0.25]
    # The random flip is dropped; the random crop's evaluation form is a resize.
    assert [s["op"] for s in doc["steps"]] == ["convert", "resize", "scale", "normalize"]

    image_path = next((tmp_path / "tiny" / "red").iterdir())
    img = Image.open(image_path).convert(doc["steps"][0]["mode"])
    x = F.pil_to_tensor(img)
    resize = doc["steps"][1]
    x = F.resize(x, resize["size"], interpolation=F.InterpolationMode(resize["interpolation"]),
                 antialias=resize["antialias"])
    x = x.float() / doc["steps"][2]["divide_by"]
    x = (x - torch.tensor(doc["mean"])[:, None, None]) / torch.tensor(doc["std"])[:, None, None]
    logits = torch.from_numpy(_run_onnx(report.path, x[None]))
    probs = torch.softmax(logits, dim=1)[0]

    expected = Predictor(bundle).predict_one(image_path, top_k=3).top
    for cls, p in expected:
        assert probs[doc["classes"].index(cls)].item() == pytest.approx(p, abs=1e-5)


# -- CLI and errors ------------------------------------------------------------------------
def _cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_both_files_and_reports_the_difference(capsys, tmp_path, tiny_experiment):
    bundle, _ = _bundle(tmp_path, tiny_experiment)
    out_file = tmp_path / "exported" / "model.onnx"
    out_file.parent.mkdir()  # a file output's folder is not made (a mistyped one is refused)
    code, out, err = _cli(capsys, "export", str(bundle), "--onnx", str(out_file))
    assert code == 0 and out == ""
    json_file = out_file.with_suffix(".json")
    assert f"wrote {out_file} (opset " in err and f"dynamic batch) and {json_file};" in err
    assert "onnxruntime matches PyTorch to" in err and "over 6 inputs" in err
    assert "warning" not in err
    assert out_file.is_file() and json_file.is_file()


def test_a_difference_above_the_tolerance_is_a_warning(capsys, tmp_path, tiny_experiment,
                                                       monkeypatch):
    bundle, _ = _bundle(tmp_path, tiny_experiment)
    # Any difference, even 0, is now above tolerance: the reporting path is what is tested.
    monkeypatch.setattr(export_module, "RELATIVE_TOLERANCE", -1.0)
    code, _, err = _cli(capsys, "export", str(bundle), "--onnx", str(tmp_path / "m.onnx"))
    assert code == 0 and "DIFFERS from PyTorch" in err
    assert "workbench export: warning: onnxruntime's outputs differ" in err


@pytest.mark.parametrize("target, words", [
    (lambda p: p / "file.txt" / "sub" / "model.onnx", ["cannot write", "file.txt is a file"]),
    (lambda p: p, ["is a folder"]),
])
def test_an_unusable_output_path_is_one_line(capsys, tmp_path, tiny_experiment, target, words):
    bundle, _ = _bundle(tmp_path, tiny_experiment)
    (tmp_path / "file.txt").write_text("in the way")
    code, out, err = _cli(capsys, "export", str(bundle), "--onnx", str(target(tmp_path)))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    for word in words:
        assert word in err
    assert not list(tmp_path.rglob("*.onnx"))


def test_a_read_only_folder_is_one_line(capsys, tmp_path, tiny_experiment):
    bundle, _ = _bundle(tmp_path, tiny_experiment)
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    if os.access(folder, os.W_OK):
        pytest.skip("running as root: every folder is writable")
    code, _, err = _cli(capsys, "export", str(bundle), "--onnx", str(folder / "m.onnx"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"cannot write {folder / 'm.onnx'}: Permission denied" in err


def test_a_missing_bundle_is_one_line(capsys, tmp_path):
    code, out, err = _cli(capsys, "export", str(tmp_path / "nope.pt"), "--onnx",
                          str(tmp_path / "m.onnx"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "nope.pt does not exist" in err and not (tmp_path / "m.onnx").exists()


class _NotExportable(torch.nn.Module):
    def forward(self, x):  # a branch on the data: one graph cannot hold it
        return x * 2 if x.sum() > 0 else x


def test_a_layer_that_cannot_be_exported_is_named(tmp_path, tiny_experiment, monkeypatch):
    from workbench.core.bundle import Bundle

    bundle, _ = _bundle(tmp_path, tiny_experiment)
    real = Bundle.build_model

    def broken(self):
        model = real(self)
        model[2] = _NotExportable()  # in place of the ReLU
        return model

    monkeypatch.setattr(Bundle, "build_model", broken)
    with pytest.raises(WorkbenchError, match=r"^layer 2 \(ReLU\) cannot be exported to "
                                             r"ONNX: Could not guard on data-dependent") as info:
        export_onnx(bundle, tmp_path / "m.onnx")
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("kwargs, field", [({"samples": 1}, "samples"),
                                           ({"opset": 7}, "opset"), ({"opset": 999}, "opset")])
def test_bad_samples_or_opset_name_the_parameter(tmp_path, kwargs, field):
    with pytest.raises(SpecError) as info:
        export_onnx(tmp_path / "never-read.pt", tmp_path / "m.onnx", **kwargs)
    assert info.value.field == field


# -- the JSON's conversions, followed literally --------------------------------------------
def _png16(path, values: np.ndarray) -> None:
    """A 16-bit grayscale PNG (Pillow opens it as mode I;16)."""
    from PIL import Image

    Image.fromarray(values.astype(np.uint16)).save(path)


def _images(tmp_path):
    """Files whose decoding is more than Image.open(...).convert(mode)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    made = {}
    made["gray16"] = tmp_path / "gray16.png"
    _png16(made["gray16"], rng.integers(0, 65536, (13, 17)))
    made["rgba"] = tmp_path / "rgba.png"
    Image.fromarray(rng.integers(0, 256, (11, 14, 4)).astype(np.uint8), "RGBA").save(made["rgba"])
    made["palette"] = tmp_path / "palette.png"
    pal = Image.fromarray(rng.integers(0, 16, (12, 9)).astype(np.uint8), "P")
    pal.putpalette(list(rng.integers(0, 256, 16 * 3).astype(int)))
    pal.save(made["palette"], transparency=3)
    made["exif"] = tmp_path / "exif.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to show it upright
    Image.fromarray(rng.integers(0, 256, (9, 16, 3)).astype(np.uint8)).save(made["exif"],
                                                                           exif=exif)
    # A photo much larger than the model's input: decoded at a fraction of its size, and
    # turned upright after that.
    made["photo"] = tmp_path / "photo.jpg"
    y, x = np.mgrid[0:120, 0:200]
    photo = np.stack([x % 256, y * 2, (x + y) % 256], -1).astype(np.uint8)
    Image.fromarray(photo).save(made["photo"], quality=90, exif=exif)
    made["scan"] = tmp_path / "scan.png"  # a large PNG: reduced by a whole factor
    Image.fromarray(photo).save(made["scan"], exif=exif)
    return made


def _follow_the_json(doc: dict, path) -> np.ndarray:
    """The model's input for ``path``, made by reading the JSON's steps and rules (by id)
    and doing what they say with Pillow and numpy (torchvision's resize, which the resize
    step names)."""
    from PIL import Image, ImageOps
    from torchvision.transforms.v2 import functional as F

    convert = doc["steps"][0]
    assert convert["op"] == "convert"
    rules = {r["id"]: r for r in convert["rules"]}
    target = convert["mode"]
    im = Image.open(path)
    draft = rules["jpeg_draft"]
    if im.format in draft["formats"] and min(im.size) >= 2 * draft["min_side"]:
        im.draft(im.mode, (draft["min_side"], draft["min_side"]))
    im.load()
    reduce = rules["reduce"]
    factor = min(min(im.size) // reduce["min_side"], reduce["largest_factor"])
    if im.mode in ("RGB", "L") and factor >= reduce["smallest_factor"]:
        info, exif = dict(im.info), im.getexif()
        im = im.reduce(factor)
        im.info = info
        im.getexif().update(exif)
    im = ImageOps.exif_transpose(im)
    if not (im.mode == target and "transparency" not in im.info):
        if im.mode.startswith("I;16") or (im.mode == "I" and np.asarray(im).max() > 255):
            rule = rules["sixteen_bit"]
            lo, hi = rule["clip"]
            v = np.clip(np.asarray(im).astype(np.int64), lo, hi) / rule["divide_by"]
            im = Image.fromarray(np.rint(v).astype(np.uint8), "L")
        if im.mode in ("P", "PA"):
            im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
        if im.mode in ("RGBA", "LA", "RGBa", "La") or "transparency" in im.info:
            rgba = np.asarray(im.convert("RGBA")).astype(np.int64)
            c, a = rgba[..., :3], rgba[..., 3:]
            bg = np.array(rules["transparency"]["background"])
            im = Image.fromarray(np.floor((c * a + bg * (255 - a)) / 255 + 0.5)
                                 .astype(np.uint8), "RGB")
        if im.mode != target:
            if target == "L" and im.mode == "RGB":
                w = np.array(rules["to_mode"]["luma_weights"])
                luma = (np.asarray(im).astype(np.int64) @ w + 32768) >> rules["to_mode"][
                    "luma_shift"]
                im = Image.fromarray(luma.astype(np.uint8), "L")
            else:
                im = im.convert(target)
    x = np.asarray(im)
    x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
    for step in doc["steps"][1:]:
        if step["op"] == "resize":
            x = F.resize(torch.from_numpy(np.array(x)), step["size"],
                         interpolation=F.InterpolationMode(step["interpolation"]),
                         antialias=step["antialias"]).numpy()
        elif step["op"] == "scale":
            x = x.astype(np.float32) / np.float32(step["divide_by"])
        elif step["op"] == "normalize":
            mean = np.array(step["mean"], np.float32)[:, None, None]
            std = np.array(step["std"], np.float32)[:, None, None]
            x = (x - mean) / std
        else:
            raise AssertionError(f"unexpected step {step['op']}")
    return x[None].astype(np.float32)


@pytest.mark.parametrize("channels, name", [(1, "gray16"), (3, "gray16"), (3, "rgba"),
                                            (1, "rgba"), (3, "palette"), (3, "exif"),
                                            (3, "photo"), (1, "photo"), (3, "scan")])
def test_following_the_json_gives_the_probabilities_predict_gives(capsys, tmp_path, channels,
                                                                  name):
    """The issue's case: a 16-bit PNG read by convert('L') alone (what the JSON used to
    imply) gave probabilities 0.29 away from predict's."""
    from PIL import Image

    exp = _exp([C("Conv2d", {"out_channels": 4}), C("Tanh"), C("Flatten"), C("Linear")],
               channels=channels, size=(8, 10))
    bundle, _ = _bundle(tmp_path, exp, classes=("blue", "green", "red"))
    report = export_onnx(bundle, tmp_path / "net.onnx", check=False)
    doc = json.loads(report.preprocessing_path.read_text())
    image = _images(tmp_path)[name]

    x = _follow_the_json(doc, image)
    probs = torch.softmax(torch.from_numpy(_run_onnx(report.path, torch.from_numpy(x))), 1)[0]
    assert main(["predict", str(bundle), str(image), "--json", "--top-k", "3"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    for entry in top:
        assert probs[doc["classes"].index(entry["class"])].item() == pytest.approx(
            entry["prob"], abs=1e-5)
    if name == "gray16":  # the shortcut the JSON must not leave a reader to take
        naive = np.asarray(Image.open(image).convert(doc["steps"][0]["mode"]))
        assert naive.max() == 255 and np.mean(naive == 255) > 0.9  # mostly white


def test_the_json_names_every_conversion(tmp_path):
    exp = _exp([C("Flatten"), C("Linear")], channels=3, size=(8, 8))
    exp.augment.transforms = [C("Resize", {"size": [10]}), C("CenterCrop"), C("Grayscale")]
    bundle, _ = _bundle(tmp_path, exp)
    doc = json.loads(export_onnx(bundle, tmp_path / "m.onnx", check=False)
                     .preprocessing_path.read_text())
    ops = [s["op"] for s in doc["steps"]]
    assert ops == ["convert", "resize", "center_crop", "grayscale", "scale", "normalize"]
    ids = [r["id"] for r in doc["steps"][0]["rules"]]
    assert ids == ["decode", "jpeg_draft", "reduce", "exif_orientation", "already_done",
                   "sixteen_bit", "thirty_two_bit", "float", "palette", "transparency",
                   "to_mode", "to_array"]
    text = json.dumps(doc)
    for words in ("v >> 8", "/ 257", "exif_transpose", "first frame", "opaque white",
                  "int(size[0] * longer / shorter)", "padded with zeros", "0.2989"):
        assert words in text
    assert doc["steps"][1]["mode"] == "shorter_side"
