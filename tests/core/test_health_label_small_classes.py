"""The label check on a folder with classes too small to be held out (a species
photographed once): it runs, trains on them in every fold, never judges them, names them in
one line, and still finds the other classes' wrong labels. What it refuses, it refuses for
the real cause, never blaming readable files."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from helpers import run_cli
from workbench.core.data.health.labels import (MIN_HELD_OUT, LabelQuality,
                                               cross_validated_probs, label_issues,
                                               label_quality, unchecked_line)
from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def _save(path, rgb, rng) -> None:
    noisy = np.array(rgb, np.int16) + rng.integers(-25, 26, (16, 16, 3))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path)


def _colour_folder(root):
    """Three colours of 10 tiny images (one red image filed as green), 'Boletus' of 1
    image, 'Amanita' of 2 and 'Lepiota' of 3 that the experiment excludes."""
    rng = np.random.default_rng(0)
    for name, rgb in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(10):
            _save(root / name / f"{name}_{i:02d}.png", rgb, rng)
    _save(root / "green" / "flipped.png", COLOURS["red"], rng)
    for name, n, rgb in (("Boletus", 1, (20, 20, 20)), ("Amanita", 2, (240, 240, 240)),
                         ("Lepiota", 3, (30, 200, 200))):
        (root / name).mkdir()
        for i in range(n):
            _save(root / name / f"img_{i:03d}.png", rgb, rng)
    return root


def test_a_one_image_class_is_trained_on_not_judged_and_named(tmp_path, capsys):
    root = _colour_folder(tmp_path / "d")
    exp = Experiment(name="small")
    exp.data.folder = str(root)
    exp.data.input_size = [16, 16]
    exp.data.exclude = [f"Lepiota/img_{i:03d}.png" for i in range(3)]  # a class, all out
    exp.training.device = "cpu"
    exp.training.epochs = 2
    exp.validate().save(tmp_path / "exp.json")

    code, out, err = run_cli(capsys, "check", "--experiment", tmp_path / "exp.json",
                             "--labels")
    assert code == 0, err
    assert "error" not in err and "readable" not in err
    lines = out.splitlines()
    assert "'Boletus' (1 image) was not checked: a class needs at least 2 images to be held " \
           "out (add images to check it)." in lines
    assert not any("Amanita" in ln and "not checked" in ln for ln in lines)  # 2: held out
    flagged = [ln for ln in lines if "filed as" in ln]
    assert any("green/flipped.png: filed as 'green', looks like 'red'" in ln
               for ln in flagged), out
    assert not any("Boletus" in ln or "Lepiota" in ln for ln in flagged)


def test_the_quality_and_the_issues_leave_the_unjudged_images_out():
    samples = [(f"a{i}", 0) for i in range(20)] + [(f"b{i}", 1) for i in range(20)] + \
        [("c0", 2), ("d0", 3)]
    probs = np.zeros((42, 4))
    probs[:20] = [0.9, 0.1, 0, 0]
    probs[20:40] = [0.1, 0.9, 0, 0]
    probs[3] = [0.05, 0.95, 0, 0]  # a3, filed as a, looks like b
    probs[40:] = np.eye(4)[[2, 3]]  # what cross_validated_probs gives the unjudged images
    q = label_quality(samples, probs, 2, classes=["a", "b", "Boletus", "Russula "])
    assert (q.images, q.accuracy, q.chance) == (40, 39 / 40, 0.5)
    assert q.unchecked == (("Boletus", 1), ("Russula ", 1))
    assert LabelQuality.from_dict(json.loads(json.dumps(q.to_dict()))) == q
    probs[40:] = [0.05, 0.95, 0, 0]  # even were they held out and doubted: not judged
    issues = label_issues(samples, probs, ["a", "b", "Boletus", "Russula "])
    assert [(i.path, i.suggested) for i in issues] == [("a3", "b")]

    line = unchecked_line(SimpleNamespace(label_quality=q.to_dict()))
    assert line == ("'Boletus' (1 image), 'Russula ' (1 image) were not checked: a class "
                    "needs at least 2 images to be held out (add images to check them).")
    many = LabelQuality(0.9, 0.5, 8, unchecked=tuple((f"c{i}", 1) for i in range(8)))
    assert unchecked_line(SimpleNamespace(label_quality=many)).startswith(
        "'c0' (1 image), 'c1' (1 image), 'c2' (1 image), 'c3' (1 image), 'c4' (1 image) "
        "and 3 more classes were not checked")
    assert unchecked_line(SimpleNamespace(label_quality=LabelQuality(0.9, 0.5, 8))) == ""
    assert unchecked_line(SimpleNamespace(label_quality=None)) == ""


@pytest.mark.parametrize("counts, words", [
    ((12, 1), "needs at least two classes of 2 images or more (fewer cannot be held "
              "out); d has 1: add images to the smaller classes"),
    ((4, 3, 1, 1), "needs at least 10 images in classes of 2 images or more (fewer cannot "
                   "be held out) (5 folds); d has 7"),
    ((12,), "needs at least two classes with images; d has 1"),
])
def test_a_set_too_small_to_check_is_refused_for_that_reason(counts, words):
    samples = [(f"{c}_{i}.png", c) for c, n in enumerate(counts) for i in range(n)]
    index = SimpleNamespace(root="d", classes=[f"c{c}" for c in range(len(counts))],
                            samples=samples, val_samples=None)
    with pytest.raises(WorkbenchError) as e:
        cross_validated_probs(Experiment(), index)  # refused before any training
    assert words in str(e.value) and "readable" not in str(e.value)
    assert MIN_HELD_OUT == 2
