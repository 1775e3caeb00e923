"""The architecture JSON file and the text summary of a network."""

from __future__ import annotations

import json
import os

import pytest

from workbench.core.errors import SpecError
from workbench.core.registry import Component as C
from workbench.core.experiment import Experiment, ModelConfig
from workbench.core.model.architecture import (ARCHITECTURE_FORMAT, load_architecture,
                                               save_architecture, summary_text)
from workbench.core.model.builder import infer_shapes
from workbench.core.model.presets import preset_layers


def _model() -> ModelConfig:
    layers = [C("Conv2d", {"out_channels": 8}, init={"weight": {"type": "kaiming_normal"}}),
              C("ReLU"), C("Conv2d", {"out_channels": 8}), C("Conv2d", {"out_channels": 8},
                                                          share=2),
              C("Flatten"), C("Linear", {"out_features": 16}), C("Linear")]
    return ModelConfig(layers=layers, preset="custom")


def test_round_trip_keeps_layers_init_and_ties(tmp_path):
    path = save_architecture(tmp_path / "net.json", _model())
    data = json.loads(path.read_text())
    assert data["format"] == ARCHITECTURE_FORMAT and data["format_version"] == 1
    assert data["layers"][3]["share"] == 2 and "share" not in data["layers"][2]
    assert data["layers"][0]["init"]["weight"]["type"] == "kaiming_normal"
    assert "init" not in data["layers"][1]  # optional keys only when set
    model = load_architecture(path)
    expected = Experiment(model=_model()).validate().model  # defaults filled, as on load
    assert model.preset == "custom"
    assert [c.to_dict() for c in model.layers] == [c.to_dict() for c in expected.layers]
    assert os.listdir(tmp_path) == ["net.json"]  # no temporary file left behind


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = save_architecture(tmp_path / "net.json", _model())
    before = path.read_text()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        save_architecture(path, ModelConfig(layers=[C("Flatten"), C("Linear")]))
    assert path.read_text() == before and os.listdir(tmp_path) == ["net.json"]


def _write(tmp_path, data) -> str:
    path = tmp_path / "net.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def _doc(**changes):
    doc = {"format": ARCHITECTURE_FORMAT, "format_version": 1,
           "layers": [{"type": "Flatten"}, {"type": "Linear", "params": {}}]}
    doc.update(changes)
    return doc


@pytest.mark.parametrize("data, field, words", [
    ("{\"format\": ", "", ["net.json", "not valid JSON", "line 1"]),
    ([1, 2], "format", ["not a Workbench architecture"]),
    (_doc(format_version=2), "format_version", ["newer Workbench", "upgrade"]),
    (_doc(format_version="1"), "format_version", ["positive integer"]),
    (_doc(colour="red"), "colour", ["unknown field"]),
    (_doc(layers={"type": "ReLU"}), "layers", ["must list its layers"]),
    (_doc(layers=[{"type": "Flatten"}, {"type": "Conv3d"}]), "layers[1].type",
     ["unknown layer 'Conv3d'", "net.json"]),
    (_doc(layers=[{"type": "Linear", "params": {"out_features": -1}}]),
     "layers[0].params.out_features", ["below the minimum"]),
    (_doc(layers=[{"type": "Flatten"}, {"type": "Linear", "share": 0}]), "layers[1].share",
     ["same type"]),
])
def test_mistakes_name_the_field(tmp_path, data, field, words):
    with pytest.raises(SpecError) as info:
        load_architecture(_write(tmp_path, data))
    assert info.value.field == field
    for word in words:
        assert word in str(info.value), word


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="nope.json does not exist"):
        load_architecture(tmp_path / "nope.json")


def test_an_experiment_file_gives_its_model(tmp_path):
    exp = Experiment(model=_model())
    exp.save(tmp_path / "exp.json")
    model = load_architecture(tmp_path / "exp.json")
    assert [c.type for c in model.layers] == [c.type for c in _model().layers]
    assert model.layers[3].share == 2


# -- summary ------------------------------------------------------------------------------
def test_summary_of_a_preset_reads_like_print_model():
    summary = infer_shapes(preset_layers("seed-cnn"), (3, 28, 28), 10)
    text = summary_text(summary)
    lines = text.splitlines()
    assert lines[0] == "Sequential(  # input (3, 28, 28)"
    linear = next(line for line in lines if line.startswith("  (7):"))
    assert linear.split() == ["(7):", "Linear(in_features=3136,", "out_features=128)", "->",
                              "(128,)", "401,536", "params"]
    conv = lines[1].split("->")[0].split(":", 1)[1].strip()
    assert conv == "Conv2d(in_channels=3, out_channels=32, kernel_size=3, padding=1)"
    relu = next(line for line in lines if line.startswith("  (1):"))
    assert relu.split() == ["(1):", "ReLU()", "->", "(32,", "28,", "28)"]  # no params, no count
    assert f"Total params:         {summary.total_params:,}" in lines
    assert f"Trainable params:     {summary.trainable_params:,}" in lines
    macs = getattr(summary, "total_macs", 0)
    if macs:
        assert any(line.startswith(f"Multiply-adds:        {macs:,} per image")
                   for line in lines)
    # every shape and count shown is the summary's
    for info in summary.layers:
        row = lines[1 + info.index]
        assert f"-> {tuple(info.output_shape)}" in row
        assert (f"{info.num_params:,} params" in row) == bool(info.num_params)


def test_summary_shows_a_misfit_under_its_layer_and_ties():
    summary = infer_shapes([C("Flatten"), C("Linear", {"out_features": 6}),
                            C("Linear", {"out_features": 6}), C("Linear", {"out_features": 6},
                                                                share=2),
                            C("Conv2d"), C("Linear")], (1, 4, 4), 3)
    lines = summary_text(summary).splitlines()
    assert lines[4].rstrip().endswith("weights shared with (2)")
    assert "-> ?" in lines[5]
    assert lines[6].strip().startswith("^ layer 5 (Conv2d)") and "Flatten" in lines[6]
    assert "Output shape:         ?" in lines
