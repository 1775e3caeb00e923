"""Experiment and search-space JSON a user got wrong: each mistake is refused with one line
that names the field (or the line and column) and what to do, and nothing is loaded."""

from __future__ import annotations

import json

import pytest

from helpers import one_line
from workbench.cli import main
from workbench.core.errors import SpecError
from workbench.core.experiment import FORMAT_VERSION, Experiment
from workbench.core.tune.space import SearchSpace


# -- Experiment JSON -----------------------------------------------------------------------
def test_malformed_experiment_json_names_line_and_column(tmp_path, capsys):
    path = tmp_path / "exp.json"
    path.write_text('{\n  "name": "x",\n  "data": {"batch_size": 8,}\n}\n')
    with pytest.raises(SpecError) as e:
        Experiment.load(path)
    assert "line 3" in str(e.value) and "column" in str(e.value) and str(path) in str(e.value)
    one_line(capsys, main(["train", str(path), "--out", str(tmp_path / "r")]), "line 3")


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage", b"[" * 100000,
                                     b'{"a": ' * 50000])
def test_empty_binary_or_absurdly_nested_experiment_files(tmp_path, content):
    path = tmp_path / "exp.json"
    path.write_bytes(content)
    with pytest.raises(SpecError) as e:
        Experiment.load(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("data, field, words", [
    ({"format_version": FORMAT_VERSION + 1}, "format_version", "upgrade"),
    ({"format_version": "one"}, "format_version", "positive integer"),
    ({"model": {"layers": [{"type": "Conv3000"}]}}, "model.layers[0].type", "unknown layer"),
    ({"model": {"layers": ["Flatten", {"type": "Linear", "params": {"out_features": -3}}]}},
     "model.layers[1].params.out_features", "minimum"),
    ({"model": {"layers": [{"type": "Linear", "params": {"eval": "os.system('x')"}}]}},
     "model.layers[0].params.eval", "unknown parameter"),
    ({"augment": {"transforms": [{"type": "__import__('os')"}]}}, "augment.transforms[0].type",
     "unknown transform"),
    ({"augment": {"transforms": [{"type": "RandomHorizontalFlip", "params": {"p": 2}}]}},
     "augment.transforms[0].params.p", "maximum"),
    ({"optimizer": {"type": "Adamm"}}, "optimizer.type", "unknown optimizer"),
    ({"optimizer": {"type": "SGD", "params": {"lr": "fast"}}}, "optimizer.params.lr",
     "a number"),
    ({"optimizer": {"type": "Adam", "params": {"lr": float("nan")}}}, "optimizer.params.lr",
     "finite"),
    ({"loss": "Nope"}, "loss.type", "unknown loss"),
    ({"scheduler": 3}, "scheduler", "expected an object"),
    ({"data": {"batch_size": 0}}, "data.batch_size", "minimum"),
    ({"data": {"batch_size": 10 ** 30}}, "data.batch_size", "maximum"),
    ({"data": {"batch_size": True}}, "data.batch_size", "an integer"),
    ({"data": {"batch_size": 2.5}}, "data.batch_size", "an integer"),
    ({"data": {"input_size": [32]}}, "data.input_size", "2 values"),
    ({"data": {"input_size": "32x32"}}, "data.input_size", "a list"),
    ({"data": {"channels": 4}}, "data.channels", "not one of"),
    ({"data": {"val_fraction": -0.1}}, "data.val_fraction", "minimum"),
    ({"data": {"mean": [0.5, 0.5]}}, "data.mean", "1 or 3 values"),
    ({"data": []}, "data", "expected an object"),
    ({"data": {"folder": None}}, "data.folder", "required"),
    ({"training": {"epochs": 0}}, "training.epochs", "minimum"),
    ({"training": {"device": "tpu"}}, "training.device", "not a device"),
    ({"training": {"amp": "yes"}}, "training.amp", "not one of"),
    ({"training": {"resume": True}}, "training.resume", "unknown field"),
    ({"modle": {}}, "modle", "unknown field"),
])
def test_experiment_mistakes_name_the_field(data, field, words):
    with pytest.raises(SpecError) as e:
        Experiment.from_dict(data)
    assert e.value.field == field, str(e.value)
    assert words in str(e.value)
    with pytest.raises(SpecError) as e2:  # the same through the JSON text
        Experiment.from_json(json.dumps(data))
    assert e2.value.field == field


def test_experiment_that_is_not_an_object(tmp_path):
    for text in ("[]", "null", "3", '"experiment"'):
        with pytest.raises(SpecError, match="expected a JSON object"):
            Experiment.from_json(text)


# -- search-space JSON ---------------------------------------------------------------------
def _space(**over):
    base = {"params": {"optimizer.params.lr": {"type": "float", "low": 1e-4, "high": 0.1,
                                               "log": True}}}
    return {**base, **over}


@pytest.mark.parametrize("data, field, words", [
    (_space(format_version=2), "space.format_version", "format 1"),
    (_space(sampler="bayes"), "space.sampler", "not one of"),
    (_space(metric="f1"), "space.metric", "not one of"),
    (_space(pruner={"type": "os.system"}), "space.pruner", "expected one of"),
    (_space(epochs=0), "space.epochs", "at least 1"),
    (_space(epochs="5"), "space.epochs", "integer"),
    (_space(trials=5), "space.trials", "unknown field"),
    (_space(params={}), "space.params", "at least one"),
    (_space(params=[1]), "space.params", "at least one"),
    (_space(params={"lr": 0.1}), "space.params.lr", "expected an object"),
    (_space(params={"a..b": {"type": "float", "low": 0, "high": 1}}), "space.params.a..b",
     "not a field name"),
    (_space(params={"x": {"type": "normal", "low": 0, "high": 1}}), "space.params.x.type",
     "not one of"),
    (_space(params={"x": {"type": "float", "low": 1, "high": 0}}), "space.params.x",
     "must be below"),
    (_space(params={"x": {"type": "float", "low": "0", "high": 1}}), "space.params.x.low",
     "a number"),
    (_space(params={"x": {"type": "int", "low": 0.5, "high": 3}}), "space.params.x.low",
     "an integer"),
    (_space(params={"x": {"type": "float", "low": 0, "high": 1, "log": True}}),
     "space.params.x.low", "above 0"),
    (_space(params={"x": {"type": "int", "low": 0, "high": 9, "step": -1}}),
     "space.params.x.step", "positive"),
    (_space(params={"x": {"type": "categorical", "choices": []}}), "space.params.x.choices",
     "non-empty"),
    (_space(params={"x": {"type": "categorical", "choices": [[1]]}}),
     "space.params.x.choices", "a choice must be"),
    (_space(sampler="grid", params={"x": {"type": "float", "low": 0, "high": 1}}),
     "space.params.x", "finite list"),
    (_space(sampler="grid", params={"x": {"type": "int", "low": 0, "high": 10 ** 15}}),
     "space.params.x", "grid values"),
])
def test_search_space_mistakes_name_the_field(data, field, words):
    with pytest.raises(SpecError) as e:
        SearchSpace.from_dict(data)
    assert e.value.field == field, str(e.value)
    assert words in str(e.value)


def test_search_space_file_mistakes(tmp_path):
    path = tmp_path / "space.json"
    with pytest.raises(SpecError, match="does not exist"):
        SearchSpace.load(path)
    path.write_text('{"params": {"optimizer.params.lr": {"type": "float" "low": 1}}}')
    with pytest.raises(SpecError) as e:
        SearchSpace.load(path)
    assert "line 1" in str(e.value) and "column" in str(e.value)
    for text in ("[]", "null"):
        path.write_text(text)
        with pytest.raises(SpecError, match="expected a JSON object"):
            SearchSpace.load(path)
    path.write_bytes(b"[" * 100000)
    with pytest.raises(SpecError):
        SearchSpace.load(path)
