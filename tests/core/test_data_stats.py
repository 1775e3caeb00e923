"""Normalisation statistics of the training split, presets, and the imbalance ratio."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from workbench.core.data.stats import (NORMALIZATION_PRESETS, Cancelled, NoImagesError,
                                       class_imbalance, compute_mean_std,
                                       normalization_preset)
from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment


def _exp(channels=3, size=(4, 4)) -> Experiment:
    exp = Experiment()
    exp.data.channels = channels
    exp.data.mean = [0.5]
    exp.data.std = [0.5]
    exp.data.input_size = list(size)
    return exp


def _solid(tmp_path, name, colour, size=(6, 5), mode="RGB"):
    path = tmp_path / name
    Image.new(mode, size, colour).save(path)
    return str(path)


def test_two_solid_images_give_the_exact_mean_and_std(tmp_path):
    a = _solid(tmp_path, "a.png", (255, 0, 51))
    b = _solid(tmp_path, "b.png", (0, 0, 153), size=(20, 9))  # resized: same pixel weight
    mean, std = compute_mean_std([(a, 0), (b, 1)], _exp())
    assert mean == pytest.approx([0.5, 0.0, 0.4], abs=1e-9)
    assert std == pytest.approx([0.5, 1e-6, 0.2], abs=1e-9)  # std floored at 1e-6


def test_matches_numpy_on_random_images_and_grayscale(tmp_path):
    rng = np.random.default_rng(0)
    paths, arrays = [], []
    for i in range(3):
        arr = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
        arrays.append(arr)
    stack = np.stack(arrays).reshape(-1, 3) / 255.0
    mean, std = compute_mean_std(paths, _exp())
    assert mean == pytest.approx(stack.mean(0).tolist(), abs=1e-9)
    assert std == pytest.approx(stack.std(0).tolist(), abs=1e-9)
    gray = np.stack([np.asarray(Image.open(p).convert("L")) for p in paths]) / 255.0
    mean1, std1 = compute_mean_std(paths, _exp(channels=1))
    assert len(mean1) == len(std1) == 1
    assert mean1[0] == pytest.approx(gray.mean(), abs=1e-9)
    assert std1[0] == pytest.approx(gray.std(), abs=1e-9)


def test_bad_files_are_skipped_and_progress_is_reported(tmp_path):
    good = _solid(tmp_path, "good.png", (51, 102, 153))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    calls = []
    mean, _ = compute_mean_std([(str(bad), 0), (good, 1), (str(tmp_path / "gone.png"), 1)],
                               _exp(), progress=lambda d, t: calls.append((d, t)))
    assert mean == pytest.approx([0.2, 0.4, 0.6])
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    with pytest.raises(NoImagesError, match="none of the 1 training images"):
        compute_mean_std([str(bad)], _exp())


def test_cancel_raises_a_workbench_error(tmp_path):
    paths = [_solid(tmp_path, f"{i}.png", (i, i, i)) for i in range(5)]
    seen = []
    with pytest.raises(Cancelled, match="cancelled after 2 of 5") as info:
        compute_mean_std(paths, _exp(), progress=lambda d, t: seen.append(d),
                         is_cancelled=lambda: len(seen) > 2)
    assert isinstance(info.value, WorkbenchError)


def test_result_is_valid_for_the_experiment(tmp_path):
    paths = [_solid(tmp_path, "x.png", (10, 200, 30))]
    for channels in (1, 3):
        exp = _exp(channels=channels)
        exp.data.mean, exp.data.std = compute_mean_std(paths, exp)
        exp.validate()


def test_presets_and_their_grayscale_form():
    assert set(NORMALIZATION_PRESETS) == {"0.5 / 0.5", "ImageNet"}
    for mean, std in NORMALIZATION_PRESETS.values():
        assert len(mean) == len(std) == 3
    assert normalization_preset("ImageNet", 3) == ([0.485, 0.456, 0.406],
                                                   [0.229, 0.224, 0.225])
    mean, std = normalization_preset("ImageNet", 1)
    assert mean == [pytest.approx(0.449, abs=1e-4)] and std == [pytest.approx(0.226, abs=1e-4)]
    assert normalization_preset("0.5 / 0.5", 1) == ([0.5], [0.5])
    with pytest.raises(WorkbenchError, match="choose one of 0.5 / 0.5, ImageNet"):
        normalization_preset("CIFAR", 3)


def test_class_imbalance_ratio():
    assert class_imbalance({"a": 300, "b": 100, "c": 150}) == 3.0
    assert class_imbalance({"a": 5, "b": 5}) == 1.0
    assert class_imbalance({}) == 1.0
    assert class_imbalance({"a": 5, "b": 0}) == float("inf")
