"""The ONNX JSON's ``mean``/``std``/``input.color`` and the code export's ``MEAN``/``STD``
tell the whole preprocessing when the Augment list holds a Grayscale and a Normalize of its
own: the normalize steps fold into one, so a program that follows the resize/crop/grayscale
steps and then the summary's mean/std feeds the model what ``preprocess()`` feeds it; where
they cannot fold, the summary says it is partial."""

from __future__ import annotations

import torch

from workbench.core.experiment import Experiment
from workbench.core.export.preprocessing import preprocessing_document
from workbench.core.model.codegen import network_code
from workbench.core.registry import Component as C


def _experiment(transforms) -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [C("Flatten"), C("Linear")]
    exp.augment.transforms = transforms
    return exp.validate()


def _document(exp: Experiment) -> dict:
    return preprocessing_document(exp, ["a", "b"], "m.onnx", "image", "logits")


def _normalized(x: torch.Tensor, mean, std) -> torch.Tensor:
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def test_an_augment_normalize_and_grayscale_are_in_the_summary():
    exp = _experiment([C("Resize", {"size": [20]}), C("CenterCrop", {"size": [16, 16]}),
                       C("Grayscale"), C("Normalize", {"mean": [0.1], "std": [0.9]})])
    doc = _document(exp)
    normalizes = [s for s in doc["steps"] if s["op"] == "normalize"]
    assert len(normalizes) == 2  # the Augment tab's, then the experiment's own
    x = torch.rand(3, 16, 16)  # after the steps before them: scaled to [0, 1]
    expected = x
    for step in normalizes:
        expected = _normalized(expected, step["mean"], step["std"])
    summary = _normalized(x, doc["mean"], doc["std"])
    assert torch.allclose(summary, expected, atol=1e-5), (summary - expected).abs().max()
    assert doc["summary_complete"] is True and "summary_note" not in doc
    assert doc["input"]["color"] == "grayscale (3 equal channels)"
    code = network_code(exp, 2, ["a", "b"])
    assert f"MEAN = {doc['mean']!r}" in code and f"STD = {doc['std']!r}" in code
    assert "grayscale (3 equal channels) images" in code
    assert "MEAN and STD the normalize steps folded into one" in code


def test_a_normalize_that_does_not_fold_makes_the_summary_say_it_is_partial():
    exp = _experiment([C("Normalize", {"mean": [0.4], "std": [0.3]}),
                       C("Resize", {"size": [20]})])  # the resize runs between the two
    doc = _document(exp)
    assert doc["summary_complete"] is False and "follow 'steps'" in doc["summary_note"]
    assert doc["input"]["color"] == "RGB"
    code = network_code(exp, 2, ["a", "b"])
    assert "part of the steps only: see preprocess()" in code


def test_the_experiments_own_normalize_alone_is_summed_up_as_before():
    exp = _experiment([])
    exp.data.channels, exp.data.mean, exp.data.std = 1, [0.5], [0.25]
    doc = _document(exp.validate())
    assert (doc["mean"], doc["std"], doc["summary_complete"]) == ([0.5], [0.25], True)
    assert doc["input"]["color"] == "grayscale"
