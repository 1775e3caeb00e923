"""Code export's preprocessing: the header lists the ONNX JSON's steps, and the generated
``predict()`` gives Workbench's probabilities on awkward files (EXIF-rotated JPEG,
transparency, grayscale, palette, 16-bit, large images), run without Workbench."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.bundle import save_bundle
from workbench.core.experiment import Experiment
from workbench.core.export.code import export_code
from workbench.core.export.preprocessing import preprocessing_document
from workbench.core.model.builder import build_network
from workbench.core.model.codegen import network_code
from workbench.core.predict import Predictor
from workbench.core.registry import Component as C

CLASSES = ["triangle", "hexagon", "circle"]


def _experiment(kind: str) -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    if kind == "gray":
        exp.data.channels, exp.data.mean, exp.data.std = 1, [0.4], [0.3]
        exp.model.layers = [C("Flatten"), C("Linear", {"out_features": 8}), C("ReLU"),
                            C("Linear")]
    else:
        exp.model.layers = [C("Conv2d", {"out_channels": 4}), C("ReLU"), C("Flatten"),
                            C("Linear")]
    if kind == "crop":
        exp.augment.transforms = [C("Resize", {"size": [20]}),
                                  C("CenterCrop", {"size": [16, 16]}), C("Grayscale"),
                                  C("Normalize", {"mean": [0.4], "std": [0.3]})]
    return exp.validate()


def _bundle(tmp_path, kind: str):
    exp = _experiment(kind)
    torch.manual_seed(0)
    model, _ = build_network(exp.model.layers, (exp.data.channels, 16, 16), len(CLASSES))
    with torch.no_grad():  # larger weights: probabilities far from uniform, so they differ
        for p in model.parameters():
            p.mul_(4)
    return save_bundle(tmp_path / f"{kind}.pt", exp, CLASSES, model.state_dict())


def _images(folder) -> list[str]:
    """Files that take each of load_image's paths."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 240)[None, :, None] * np.ones((160, 1, 3))
    photo = (ramp * 0.7 + rng.integers(0, 70, (160, 240, 3))).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: turning it upright changes what the model sees
    Image.fromarray(photo).save(folder / "rotated.jpg", quality=90, exif=exif)
    big = np.concatenate([photo] * 4, axis=1).repeat(3, axis=0)  # 480x960: reduced
    Image.fromarray(big).save(folder / "big.png")
    rgba = np.dstack([photo, np.linspace(0, 255, 240)[None, :].repeat(160, 0)])
    Image.fromarray(rgba.astype(np.uint8), "RGBA").save(folder / "cutout.png")
    Image.fromarray(photo[..., 0], "L").save(folder / "gray.png")
    palette = Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.save(folder / "palette.png", transparency=3)
    deep = (photo[..., 1].astype(np.uint16) * 257)
    Image.fromarray(deep).save(folder / "deep.png")
    return [str(folder / n) for n in ("rotated.jpg", "big.png", "cutout.png", "gray.png",
                                      "palette.png", "deep.png")]


def test_exported_predict_gives_workbenchs_probabilities_without_workbench(tmp_path):
    images = _images(tmp_path / "images")
    cases = {}
    for kind in ("rgb", "gray", "crop"):
        bundle = _bundle(tmp_path, kind)
        cases[kind] = (str(export_code(bundle, tmp_path / f"{kind}_net.py")), str(bundle))
    script = textwrap.dedent(f"""
        import json, runpy, sys
        sys.modules["workbench"] = None  # the exported file must not need Workbench
        import torch
        out = {{}}
        for kind, (code, bundle) in {cases!r}.items():
            ns = runpy.run_path(code)
            model = ns["build_model"]()
            model.load_state_dict(torch.load(bundle, weights_only=True)["state_dict"])
            out[kind] = {{"probs": ns["predict"](model, {images!r}),
                         "inputs": [ns["preprocess"](p).tolist() for p in {images!r}]}}
        json.dump(out, open({str(tmp_path / "out.json")!r}, "w"))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads((tmp_path / "out.json").read_text())
    for kind, (_, bundle) in cases.items():
        predictor = Predictor(bundle)
        for path, probs, x in zip(images, got[kind]["probs"], got[kind]["inputs"]):
            ours = dict(predictor.predict_one(path, top_k=len(CLASSES)).top)
            assert list(probs) == CLASSES, path
            for name in CLASSES:
                assert probs[name] == pytest.approx(ours[name], abs=1e-5), (kind, path, name)
            torch.testing.assert_close(torch.tensor(x), predictor.load(path), rtol=0,
                                       atol=1e-6, msg=f"{kind} {path}")


def test_the_test_images_need_more_than_convert_and_resize(tmp_path):
    # Guards the test above: what the tester did by the old header (convert('RGB') and a
    # resize) must differ clearly from Workbench's input on these files.
    images = dict(zip(["rotated", "big", "cutout"], _images(tmp_path / "images")))
    predictor = Predictor(_bundle(tmp_path, "rgb"))
    for name in ("rotated", "cutout"):
        naive = Image.open(images[name]).convert("RGB").resize((16, 16), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(naive).copy()).permute(2, 0, 1).float() / 255
        data = predictor.bundle.experiment.data
        x = (x - torch.tensor(data.mean).view(-1, 1, 1)) / torch.tensor(data.std).view(-1, 1, 1)
        ours = predictor.load(images[name])
        assert (x - ours).abs().max() > 0.2, name


@pytest.mark.parametrize("kind", ["rgb", "gray", "crop"])
def test_code_header_lists_the_onnx_json_steps(kind):
    exp = _experiment(kind)
    doc = preprocessing_document(exp, CLASSES, "net.onnx", "image", "logits")
    code = network_code(exp, len(CLASSES), CLASSES, module_name="net")
    header = code.split("from __future__")[0]
    at = 0
    for i, (text, step) in enumerate(zip(doc["description"], doc["steps"]), 1):
        line = f"#   {i}. {text} [{step['op']}]"
        assert line in header, line
        assert header.index(line) > at, "steps out of order"
        at = header.index(line)
    rules = [r["id"] for r in doc["steps"][0]["rules"]]
    assert {"jpeg_draft", "reduce", "exif_orientation", "transparency"} <= set(rules)
    for rule in rules:
        assert f"#        - {rule}" in header, rule
    flat = " ".join(line.lstrip("# ") for line in header.splitlines())
    for words in ("make it upright (EXIF)", "composite transparency onto white",
                  f"image.draft(image.mode, ({doc['steps'][0]['rules'][1]['min_side']}",
                  "from net import build_model, predict"):
        assert words in flat, words
