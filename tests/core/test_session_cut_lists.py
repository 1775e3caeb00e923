"""A session file cut inside a list keeps the list's elements that read whole: a network
cut inside a layer keeps the layers before it (not the default seed-cnn), the reset line says
so plainly, and the sections the cut lost are named, for the last run's settings to give
back (:func:`~workbench.core.session.with_run_sections`)."""

from __future__ import annotations

import json

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.core.session import read_session, session_text
from workbench.core.session_repair import read_partial


def _network() -> list[Component]:
    layers = preset_layers("cnn-bn")
    layers.insert(len(layers) - 1, Component("Dropout", {"p": 0.3}))
    return layers


def _experiment() -> Experiment:
    exp = Experiment(name="phones")
    exp.data.folder = "/data/phones"
    exp.data.input_size = [96, 96]
    exp.model.layers, exp.model.preset = _network(), None
    exp.optimizer = Component("AdamW", {"lr": 0.003})
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 40
    return exp.validate()


def test_a_list_cut_short_keeps_its_elements_that_read_whole():
    assert read_partial('{"a": [1, {"b": 2}, [3, 4], {"c": ') == \
        ({"a": [1, {"b": 2}, [3, 4]]}, "a")
    assert read_partial('{"a": 1, "b": [2, 3') == ({"a": 1, "b": [2]}, "b")  # 3 may go on
    assert read_partial('{"a": 1, "b": 4') == ({"a": 1}, "b")  # 4 of a cut 40: not kept
    assert read_partial('{"a": 1, "b": [') == ({"a": 1}, "b")  # nothing whole: its default


def test_a_network_cut_inside_a_layer_keeps_the_layers_before_it(tmp_path):
    exp = _experiment()
    layers = [c.to_dict() for c in exp.model.layers]
    text = session_text(exp, last_run="/runs/phones-second")
    cut = text.index('"AdaptiveAvgPool2d"') + 5  # inside that layer, as the walker cut it
    path = tmp_path / "session.json"
    path.write_text(text[:cut])
    session = read_session(path)
    kept = [c.to_dict() for c in session.experiment.model.layers]
    n = next(i for i, layer in enumerate(layers) if layer["type"] == "AdaptiveAvgPool2d")
    assert kept == layers[:n] and n > 5
    assert session.experiment.model.preset is None  # its own layers, no preset's
    assert session.experiment.data.input_size == [96, 96]  # what came before, kept
    said = [line for line in session.resets if line.startswith("model.layers")]
    assert said == [f"model.layers was cut short after layer {n} ({layers[n - 1]['type']}): "
                    f"the first {n} layers were kept, and whatever followed is lost (check "
                    f"how the network ends on the Model tab)"]
    assert "what followed in it takes its defaults" not in " ".join(session.resets)
    # What the cut lost: the model, and every section after it.
    assert session.lost == ["model", "init", "optimizer", "loss", "scheduler", "training"]
    # A cut before the first layer says the default network is used.
    path.write_text(text[:text.index('"layers": [') + 12])
    session = read_session(path)
    assert session.experiment.model.layers == Experiment().validate().model.layers
    assert any("cut short before its first layer: the default network (seed-cnn) is used"
               in line for line in session.resets), session.resets


def test_trailing_text_resets_nothing_and_loses_nothing(tmp_path):
    path = tmp_path / "session.json"
    path.write_text(session_text(_experiment()) + "garbage")
    session = read_session(path)
    assert "text follows its end" in session.problem
    assert session.resets == [] and session.lost == []


def test_the_last_runs_settings_give_back_the_sections_lost(tmp_path):
    from workbench.core.session import with_run_sections

    run = tmp_path / "run"
    run.mkdir()
    full = _experiment()
    full.save(run / "experiment.json")
    restored = Experiment(name="phones")
    restored.data.folder = "/data/phones"
    restored.data.input_size = [96, 96]
    restored.model.layers = _network()[:13]
    exp = with_run_sections(restored, str(run), ["model", "optimizer", "scheduler",
                                                 "training"])
    assert [c.to_dict() for c in exp.model.layers] == \
        [c.to_dict() for c in _experiment().model.layers]
    assert exp.optimizer.type == "AdamW" and exp.training.epochs == 40
    assert exp.data.input_size == [96, 96]
    (run / "experiment.json").write_text("{")
    with pytest.raises(WorkbenchError, match="cannot read the last run's settings"):
        with_run_sections(restored, str(run), ["model"])
    (run / "experiment.json").write_text(json.dumps({"model": {"layers": "x"}}))
    with pytest.raises(WorkbenchError, match="cannot be used"):
        with_run_sections(restored, str(run), ["model"])
