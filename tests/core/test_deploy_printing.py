"""Class names a console cannot encode (an emoji or CJK name on a Windows console, or any
stdout redirected to a file there: cp1252; ``PYTHONIOENCODING=ascii``) are printed as
their escapes by ``workbench predict`` and by the exported module's ``python model.py
BUNDLE IMAGE``, instead of stopping with a UnicodeEncodeError; a file name that is not
UTF-8 is still printed as its own bytes."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from PIL import Image

from workbench.core.bundle import save_bundle
from workbench.core.experiment import Experiment
from workbench.core.export.code import export_code
from workbench.core.model.builder import build_network
from workbench.core.registry import Component as C

CLASSES = ["cat 🐱", "Zoë", "日本"]


def _bundle(path):
    exp = Experiment()
    exp.data.input_size = [8, 8]
    exp.model.layers = [C("Flatten"), C("Linear")]
    exp.validate()
    model, _ = build_network(exp.model.layers, (3, 8, 8), len(CLASSES))
    return save_bundle(path, exp, CLASSES, model.state_dict())


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_workbench_predict_prints_names_the_console_cannot_encode(tmp_path, monkeypatch,
                                                                  encoding):
    from workbench.cli import main

    bundle = _bundle(tmp_path / "bundle.pt")
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "red.png")
    bad = os.fsdecode(b"caf\xe9.png")  # a name that is not UTF-8 (Latin-1 bytes)
    Image.new("RGB", (8, 8), (30, 30, 200)).save(os.path.join(str(tmp_path), bad))
    raw = io.BytesIO()
    # Python's own stdout there: strict, in the console's code page.
    out = io.TextIOWrapper(raw, encoding=encoding, errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    code = main(["predict", str(bundle), str(tmp_path / "red.png"),
                 os.path.join(str(tmp_path), bad)])
    printed = raw.getvalue()
    assert code == 0, printed
    assert b"cat \\U0001f431" in printed and b"\\u65e5\\u672c" in printed
    assert ("Zoë".encode(encoding, "backslashreplace")) in printed
    assert b"caf\xe9.png" in printed  # the file's own bytes, as before


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_the_exported_module_prints_names_the_console_cannot_encode(tmp_path, encoding):
    bundle = _bundle(tmp_path / "bundle.pt")
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "red.png")
    module = export_code(bundle, tmp_path / "model.py")
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    proc = subprocess.run([sys.executable, str(module), str(bundle), str(tmp_path / "red.png")],
                          capture_output=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    line = proc.stdout.splitlines()[-1]
    assert line.startswith(str(tmp_path / "red.png").encode())
    assert b"cat \\U0001f431 0." in line and b"\\u65e5\\u672c 0." in line
