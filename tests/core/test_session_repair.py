"""A damaged session file keeps whatever still reads (tester report "reopen", items 2 and
11): one bad value resets that field alone, a file cut short keeps what came before the
cut, the small keys are written first so a cut keeps them, and a binary file is called
damaged in words."""

from __future__ import annotations

import json

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.session import read_session, session_text
from workbench.core.session_repair import read_partial, repaired_experiment


def _custom() -> Experiment:
    exp = Experiment(name="pets")
    exp.data.folder = "/data/pets"
    exp.data.input_size = [64, 64]
    exp.model.layers.insert(7, Component("Dropout", {"p": 0.3}))
    exp.model.preset = None
    exp.augment.transforms = [Component("RandomRotation", {"degrees": 12.0}),
                              Component("RandomHorizontalFlip", {"p": 0.5})]
    exp.optimizer = Component("SGD", {"lr": 0.05, "momentum": 0.8})
    exp.training.epochs = 7
    return exp.validate()


def test_each_bad_value_resets_only_its_field_and_says_to_what():
    doc = _custom().to_dict()
    doc["data"]["val_fraction"] = 5
    doc["data"]["input_size"] = [64, "x"]
    doc["data"]["colour"] = "yes"  # a field of another version
    doc["model"]["layers"][0]["params"]["kernel_size"] = -4
    doc["model"]["layers"][3]["type"] = "Conv9d"
    doc["augment"]["transforms"][0]["params"]["spin"] = 3
    doc["optimizer"]["type"] = "Lion"
    exp, resets = repaired_experiment(doc)
    assert resets == [
        "data.colour: unknown field (removed)",
        "data.input_size[1]: expected an integer, got 'x' (reset to [32, 32])",
        "data.val_fraction: 5.0 is above the maximum 0.9 (reset to 0.2)",
        "augment.transforms[0].params.spin: unknown parameter of RandomRotation (removed)",
        "model.layers[0].params.kernel_size: -4 is below the minimum 1 (reset to 3)",
        "model.layers[3].type: unknown layer 'Conv9d' (layer 4, Conv9d, was removed from "
        "the network; the other layers were kept)",
        "optimizer.type: unknown optimizer 'Lion' (reset to the default: Adam (lr 0.001, "
        "betas [0.9, 0.999], eps 1e-08, amsgrad false, weight_decay 0.0))"]
    kept = _custom().to_dict()
    expected_layers = kept["model"]["layers"][:3] + kept["model"]["layers"][4:]
    assert exp.to_dict()["model"]["layers"][1:] == expected_layers[1:]
    assert exp.data.folder == "/data/pets" and exp.training.epochs == 7
    assert [t.type for t in exp.augment.transforms] == ["RandomRotation",
                                                        "RandomHorizontalFlip"]
    assert exp.augment.transforms[0].params["degrees"] == 12.0


def test_a_removed_layer_keeps_the_ties_of_the_others():
    doc = _custom().to_dict()
    doc["model"]["layers"] = [{"type": "Flatten"}, {"type": "Linear", "params": {
        "out_features": 12}}, {"type": "NoSuchLayer"}, {"type": "Linear", "params": {
            "out_features": 12}}, {"type": "Linear", "share": 1}]
    exp, resets = repaired_experiment(doc)
    layers = exp.model.layers
    assert [layer.type for layer in layers] == ["Flatten", "Linear", "Linear", "Linear"]
    assert layers[3].share == 1  # still the same layer
    doc["model"]["layers"][4]["share"] = 3  # tied to the layer after the removed one
    exp, _ = repaired_experiment(doc)
    assert exp.model.layers[3].share == 2


def test_what_cannot_be_isolated_resets_its_section_or_the_whole_keeping_the_folder():
    doc = _custom().to_dict()
    doc["data"]["channels"], doc["data"]["mean"] = 1, [0.5, 0.5]  # fits no channel count
    exp, resets = repaired_experiment(doc)
    assert exp.data.folder == "/data/pets" and exp.optimizer.type == "SGD"
    assert resets[-1].endswith("(the data settings were reset to their defaults; the "
                               "dataset folder was kept)")
    doc = _custom().to_dict()
    doc["format_version"] = 99
    exp, resets = repaired_experiment(doc)
    assert exp.data.folder == "/data/pets" and exp.optimizer.type == "Adam"
    assert "on the same dataset folder" in resets[0] and "newer" in resets[0]
    exp, resets = repaired_experiment([1, 2])
    assert exp.to_dict() == Experiment().to_dict() and "expected an object" in resets[0]


def test_a_partial_read_keeps_every_member_before_the_break():
    assert read_partial('{"a": 1, "b": {"c": [1, 2], "d": {"e": 3, "f": [4, ') == \
        ({"a": 1, "b": {"c": [1, 2], "d": {"e": 3, "f": [4]}}}, "b.d.f")
    assert read_partial('{"a": 1, "b": 2} trailing') == ({"a": 1, "b": 2}, "")
    assert read_partial('{"a": 1,, "b": 2}') == ({"a": 1}, "(top level)")  # a hand edit
    assert read_partial('{"a"') == ({}, "(start)")
    assert read_partial("[1, 2") == (None, "")
    assert read_partial('{"a": 1, "b": ' + "[" * 100000) == ({"a": 1}, "b")


def test_the_small_keys_come_first_so_any_cut_in_the_experiment_keeps_them(tmp_path):
    text = session_text(_custom(), b"geometry", "Model", "/runs/a-1", run_name="mine",
                        runs_selected=["/runs/a-1"], splitters={"model.x": b"state"},
                        tune={"sampler": "random", "trials": 3})
    assert list(json.loads(text)) == ["session_version", "train", "runs", "window", "tune",
                                      "experiment"]
    path = tmp_path / "session.json"
    start = text.index('"experiment"')
    for cut in range(start, len(text) - 2, 97):
        path.write_text(text[:cut])
        session = read_session(path)
        assert (session.last_run, session.run_name, session.runs_selected, session.tab,
                session.geometry, session.splitters, session.tune) == \
            ("/runs/a-1", "mine", ["/runs/a-1"], "Model", b"geometry",
             {"model.x": b"state"}, {"sampler": "random", "trials": 3}), cut
        assert "cut short or damaged" in session.problem
        if session.experiment is not None:  # from the data section on
            assert session.experiment.data.folder == "/data/pets"


def test_a_bad_value_in_an_optional_key_is_dropped_alone(tmp_path):
    doc = json.loads(session_text(_custom(), b"geo", "Model", "/runs/a-1"))
    doc["train"]["run_name"] = 7
    doc["runs"] = {"selected": "not a list"}
    doc["window"]["splitters"] = {"a": "not base64!", "b": 3, "c": "c3RhdGU="}
    doc["tune"] = ["sampler"]
    path = tmp_path / "session.json"
    path.write_text(json.dumps(doc))
    session = read_session(path)
    assert not session.damaged and session.experiment.name == "pets"
    assert (session.run_name, session.runs_selected, session.splitters, session.tune) == \
        ("", [], {"c": b"state"}, {})
    assert session.last_run == "/runs/a-1" and session.geometry == b"geo"


def test_a_binary_file_is_called_damaged_not_a_codec_error(tmp_path):
    path = tmp_path / "session.json"
    path.write_bytes(b'{"session_version": 1, \x81\xfe\x00' + bytes(range(200)))
    session = read_session(path)
    assert session.experiment is None
    assert session.problem == (f"the session file {path} is damaged (it is not text); the "
                               f"app starts with the default experiment")
