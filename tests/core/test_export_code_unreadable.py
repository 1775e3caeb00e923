"""The exported PyTorch code's ``predict()`` skips a file it cannot read, saying which and
why, and classifies the others (it raised UnidentifiedImageError on the first one)."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from helpers import random_bundle
from workbench.core.export.code import export_code


def _exported(tmp_path, tiny_experiment):
    bundle, _ = random_bundle(tmp_path / "bundle.pt", tiny_experiment)
    export_code(bundle, tmp_path / "model.py")
    good = tmp_path / "good.png"
    Image.new("RGB", (12, 12), (200, 30, 30)).save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is no image")
    return bundle, good, bad


def _run(tmp_path, *args):
    return subprocess.run([sys.executable, "model.py", *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_predict_skips_an_unreadable_file_and_classifies_the_rest(tmp_path,
                                                                  tiny_experiment):
    bundle, good, bad = _exported(tmp_path, tiny_experiment)
    code = ("import torch, model; m = model.build_model(); "
            "m.load_state_dict(torch.load('bundle.pt', weights_only=True)['state_dict']); "
            f"r = model.predict(m, [{str(bad)!r}, {str(good)!r}]); "
            "print(r[0] is None, sorted(r[1]) == sorted(model.CLASSES))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    assert f"skipped {bad}: not an image file (format not recognised)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_command_line_fails_only_when_nothing_could_be_read(tmp_path, tiny_experiment):
    bundle, good, bad = _exported(tmp_path, tiny_experiment)
    done = _run(tmp_path, bundle, bad, good)
    assert done.returncode == 0, done.stderr
    assert f"{good} " in done.stdout and f"{bad} " not in done.stdout
    assert f"skipped {bad}: not an image file (format not recognised)" in done.stderr
    assert "1 of 2 files skipped" in done.stderr
    done = _run(tmp_path, bundle, bad)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "none of the 1 files could be read as an image" in done.stderr
