"""``workbench export --int8`` and ``--safetensors``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import make_planted_digits, run_cli
from workbench.core.experiment import Experiment
from workbench.core.train.run import run_training


@pytest.fixture(scope="module")
def digits_bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("int8")
    root, _ = make_planted_digits(tmp / "digits", conflicts=0, near=0, flips=0)
    exp = Experiment(name="digits")
    exp.data.folder = root
    exp.data.input_size, exp.data.channels = [32, 32], 1
    exp.data.mean, exp.data.std = [0.3], [0.4]
    exp.augment.transforms = []
    exp.training.epochs = 5
    exp.training.device = "cpu"
    outcome = run_training(exp.validate(), tmp / "run")
    assert outcome.status == "finished"
    return outcome.bundle_path


def test_int8_onnx_runs_and_keeps_the_float_accuracy_on_the_digits(digits_bundle, capsys,
                                                                   tmp_path):
    import onnxruntime as ort

    out = tmp_path / "model.onnx"
    code, _, err = run_cli(capsys, "export", digits_bundle, "--onnx", out, "--int8")
    assert code == 0, err
    m = re.search(r"float ([\d.]+)%, int8 ([\d.]+)%", err)
    assert m, err
    float_acc, int8_acc = float(m.group(1)), float(m.group(2))
    assert float_acc > 85 and abs(float_acc - int8_acc) <= 1.5
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    kinds = {n.op_type for n in __import__("onnx").load(str(out)).graph.node}
    assert "QuantizeLinear" in kinds and "DequantizeLinear" in kinds  # really int8
    x = np.random.default_rng(0).standard_normal((3, 1, 32, 32)).astype(np.float32)
    assert session.run(None, {"image": x})[0].shape == (3, 10)
    assert json.loads(out.with_suffix(".json").read_text())["classes"][0] == "0"
    code, _, err = run_cli(capsys, "export", digits_bundle, "--code", tmp_path / "m.py",
                           "--int8")
    assert code == 2 and "--onnx" in err


def test_int8_of_a_bundle_whose_dataset_moved_writes_nothing_or_takes_data(
        digits_bundle, capsys, tmp_path):
    # From a user's day: with the dataset renamed, --int8 wrote the float model under the
    # int8 name, then failed with "dataset folder ... does not exist", and nothing could
    # point it at the dataset's new place.
    import shutil

    from workbench.core.export.code import read_bundle

    folder = Path(read_bundle(digits_bundle).experiment.data.folder)
    moved = folder.with_name(folder.name + "_moved")
    out = tmp_path / "model.onnx"
    shutil.move(folder, moved)
    try:
        code, _, err = run_cli(capsys, "export", digits_bundle, "--onnx", out, "--int8")
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert str(folder) in err and "--data" in err
        assert list(tmp_path.iterdir()) == []  # no float model left under the int8 name
        code, _, err = run_cli(capsys, "export", digits_bundle, "--onnx", out, "--int8",
                               "--data", moved)
        assert code == 0 and re.search(r"float [\d.]+%, int8 [\d.]+%", err), err
        kinds = {n.op_type for n in __import__("onnx").load(str(out)).graph.node}
        assert "QuantizeLinear" in kinds
    finally:
        shutil.move(moved, folder)
    code, _, err = run_cli(capsys, "export", digits_bundle, "--code", tmp_path / "m.py",
                           "--data", folder)
    assert code == 2 and "--int8" in err and not (tmp_path / "m.py").exists()


def test_safetensors_load_into_the_exported_code_without_pickle(digits_bundle, capsys,
                                                                tmp_path):
    code, _, err = run_cli(capsys, "export", digits_bundle, "--code", tmp_path / "model.py",
                           "--safetensors", tmp_path / "model.safetensors")
    assert code == 0, err
    doc = json.loads((tmp_path / "model.safetensors.json").read_text())
    assert doc["classes"] == [str(i) for i in range(10)] and doc["experiment"]["data"]
    # A fresh interpreter with plain PyTorch, safetensors and the exported code only.
    script = f"""
import sys, torch
sys.path.insert(0, {str(tmp_path)!r})
from safetensors.torch import load_file
from model import build_model
model = build_model()
model.load_state_dict(load_file({str(tmp_path / "model.safetensors")!r}))
torch.manual_seed(0)
print(model.eval()(torch.randn(2, 1, 32, 32)).argmax(1).tolist())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    import torch

    from workbench.core.bundle import load_bundle

    bundle = load_bundle(digits_bundle)
    ref = bundle.build_model().eval()
    torch.manual_seed(0)
    assert out.stdout.strip() == str(ref(torch.randn(2, 1, 32, 32)).argmax(1).tolist())


def test_int8_export_says_which_model_each_check_is_of_and_marks_the_sidecar(
        digits_bundle, capsys, tmp_path):
    """The float model's onnxruntime check was printed as if it were the int8 file's, and
    the JSON beside the int8 model did not say it was quantized."""
    out = tmp_path / "model.onnx"
    code, _, err = run_cli(capsys, "export", digits_bundle, "--onnx", out, "--int8")
    assert code == 0, err
    float_line = next(ln for ln in err.splitlines() if "matches PyTorch to" in ln)
    assert "exported the float model to quantize" in float_line
    assert "the float model in onnxruntime matches PyTorch to" in float_line
    assert f"wrote {out} (opset" not in err  # the file that stays is the int8 one
    m = re.search(r"against PyTorch on those images the int8 model gives the same top class "
                  r"for ([\d.]+)% of them, its logits differing by up to ([\d.e+-]+)", err)
    assert m, err
    assert float(m.group(1)) > 90 and float(m.group(2)) > 0
    q = json.loads(out.with_suffix(".json").read_text())["quantization"]
    assert q["type"] == "int8" and q["compared_with_pytorch"]["top1_agreement"] > 0.9
