"""Exported code keeps the bundle's class names exactly: emoji (outside the Basic
Multilingual Plane), CJK, quotes, backslashes and control characters read back as the same
strings, so ``predict()`` keys match the bundle's names and print without error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from helpers import run_cli
from workbench.core.bundle import save_bundle
from workbench.core.experiment import Experiment
from workbench.core.model.builder import build_network
from workbench.core.model.codegen_source import literal
from workbench.core.registry import Component as C

NAMES = ["🐦 bird", "🦉🦅🦆", "日本語", 'say "hi"', "it's", "back\\slash", "tab\there",
         "new\nline", "v1.2.3", "café"]


def _bundle(tmp_path):
    exp = Experiment()
    exp.data.input_size = [8, 8]
    exp.model.layers = [C("Flatten"), C("Linear")]
    exp.validate()
    model, _ = build_network(exp.model.layers, (3, 8, 8), len(NAMES))
    return save_bundle(tmp_path / "bundle.pt", exp, NAMES, model.state_dict())


def test_exported_module_has_the_bundles_class_names_and_predicts_with_them(tmp_path,
                                                                            capsys):
    bundle = _bundle(tmp_path)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "red.png")
    code, _, err = run_cli(capsys, "export", bundle, "--code", tmp_path / "m.py")
    assert code == 0, err
    script = textwrap.dedent(f"""
        import json, sys, torch
        sys.modules["workbench"] = None
        sys.path.insert(0, {str(tmp_path)!r})
        import m
        model = m.build_model()
        model.load_state_dict(torch.load({str(bundle)!r}, weights_only=True)["state_dict"])
        model.eval()
        probs = m.predict(model, [{str(tmp_path / "red.png")!r}])[0]
        print(*m.CLASSES, sep="|")  # printing must not fail on any name
        json.dump({{"classes": m.CLASSES, "keys": list(probs)}},
                  open({str(tmp_path / "out.json")!r}, "w"))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=tmp_path,
                          timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    got = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert got["classes"] == NAMES
    assert got["keys"] == NAMES
    assert "🐦 bird" in proc.stdout.decode("utf-8")
    text = (tmp_path / "m.py").read_text(encoding="utf-8")
    assert '"🐦 bird"' in text and "\\ud83d" not in text  # readable, not surrogate escapes


@pytest.mark.parametrize("value", [
    "🐦 bird", "日本語", 'a "quoted" \\ name\n', "\udc80", "", 1, -3, 0.25, 1e-300,
    float("inf"), float("-inf"), True, False, None, [1, [2.5, "x"], []], (1,), (),
    (3, 16, 16), {"a": [None, True], "b": {"c": "🦉"}},
])
def test_literal_reads_back_as_the_same_value(value):
    text = literal(value)
    back = eval(text, {})  # noqa: S307 - the point of the test: Python reads it back
    assert back == value and type(back) is type(value), text


def test_literal_writes_nan_as_python_can_read_it():
    back = eval(literal(float("nan")), {})  # noqa: S307
    assert back != back
