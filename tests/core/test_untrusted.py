"""Untrusted files and no network: what a user opens is data, never code.

Bundles and checkpoints are read with ``torch.load(weights_only=True)``: a pickle that would
run code is refused with a message saying so, and nothing runs (a marker file proves it).
Damaged, foreign and newer files each give a one-line message naming the thing (JSON a user
got wrong: ``test_untrusted_json.py``). Nothing in ``workbench/`` evaluates text or unpickles
freely, and training, prediction and export never open a network connection.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import socket
import urllib.request
import zipfile
from pathlib import Path

import pytest
import torch

from helpers import one_line
from workbench.cli import main
from workbench.core.bundle import BUNDLE_FORMAT_VERSION, load_bundle
from workbench.core.errors import BundleError, WorkbenchError
from workbench.core.experiment import FORMAT_VERSION, Experiment
from workbench.core.registry import Component
from workbench.core.predict import Predictor
from workbench.core.train.checkpoint import (CHECKPOINT_FORMAT_VERSION, CheckpointError,
                                             load_checkpoint)

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real run folder (bundle.pt, checkpoints/last.pt) from a 1-epoch CLI training."""
    from helpers import make_image_folder

    root = tmp_path_factory.mktemp("untrusted")
    exp = Experiment()
    exp.data.folder = make_image_folder(root / "data", per_class=6)
    exp.data.input_size = [8, 8]
    exp.data.batch_size = 8
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 8}),
                        Component("ReLU"), Component("Linear")]
    exp.training.epochs = 1
    exp.training.device = "cpu"
    exp.save(root / "exp.json")
    out = root / "run"
    assert main(["train", str(root / "exp.json"), "--out", str(out)]) == 0
    return out


@pytest.fixture
def marker(tmp_path):
    """A file that exists only if a loaded file ran code."""
    return tmp_path / "pwned"


class SystemCall:
    """Unpickling this runs a shell command (the classic malicious pickle)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class ExecCall:
    """Unpickling this runs Python code through builtins.exec."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f"open({self.marker!r}, 'w').close()",))


def evil_payload(kind, marker, base):
    """``base`` (a real bundle or checkpoint dict) with a code-running object inside."""
    evil = (SystemCall if kind == "system" else ExecCall)(marker)
    return {**base, "classes": evil}


# -- code-running pickles ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["system", "exec"])
def test_a_pickle_that_would_run_code_is_refused_everywhere(run, tmp_path, marker, kind,
                                                             capsys):
    bundle_data = torch.load(run / "bundle.pt", weights_only=True)
    ckpt_data = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    evil_run = tmp_path / "evil_run"
    (evil_run / "checkpoints").mkdir(parents=True)
    bundle = evil_run / "bundle.pt"
    torch.save(evil_payload(kind, marker, bundle_data), bundle)
    torch.save(evil_payload(kind, marker, ckpt_data), evil_run / "checkpoints" / "last.pt")
    image = next((Path(Experiment.load(run / "experiment.json").data.folder) / "red").iterdir())

    for load in (load_bundle, Predictor):
        with pytest.raises(BundleError, match="could run code"):
            load(bundle)
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(evil_run)
    one_line(capsys, main(["predict", str(bundle), str(image)]), "could run code")
    one_line(capsys, main(["resume", str(evil_run), "--epochs", "1"]), "could run code")
    one_line(capsys, main(["export", str(bundle), "--code", str(tmp_path / "m.py")]),
             "could run code")
    one_line(capsys, main(["evaluate", str(bundle)]), "could run code")
    assert not marker.exists(), "a loaded file ran code"
    assert not (tmp_path / "m.py").exists()


def test_the_refusal_names_what_the_file_asked_for(tmp_path, marker):
    path = tmp_path / "b.pt"
    torch.save({"state_dict": SystemCall(marker)}, path)
    with pytest.raises(BundleError) as e:
        load_bundle(path)
    assert "system" in str(e.value) and str(path) in str(e.value)
    assert not marker.exists()


# -- damaged and foreign bundles -----------------------------------------------------------
def test_a_truncated_bundle_is_named_wherever_it_is_cut(run, tmp_path):
    data = (run / "bundle.pt").read_bytes()
    for cut in (1, 16, 200, len(data) // 3, len(data) // 2, len(data) - 200, len(data) - 1):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(data[:cut])
        with pytest.raises(BundleError, match="not a readable bundle") as e:
            load_bundle(path)
        assert str(path) in str(e.value)


def test_a_truncated_checkpoint_is_named(run, tmp_path):
    data = (run / "checkpoints" / "last.pt").read_bytes()
    for cut in (1, 200, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            load_checkpoint(path)


def _zip_not_torch(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")


@pytest.mark.parametrize("make, words", [
    (lambda p: torch.save(torch.zeros(3), p), "not a Workbench bundle"),
    (lambda p: torch.save({"weight": torch.ones(2)}, p), "not a Workbench bundle"),
    (lambda p: torch.save([1, 2, 3], p), "not a Workbench bundle"),
    (_zip_not_torch, "not a readable bundle"),
    (lambda p: p.write_text("name,label\na.png,cat\n"), "not a readable bundle"),
    (lambda p: p.write_bytes(os.urandom(4096)), "not a readable bundle"),
])
def test_foreign_files_are_not_bundles_or_checkpoints(tmp_path, make, words):
    path = tmp_path / "foreign.pt"
    make(path)
    with pytest.raises(BundleError, match=words):
        load_bundle(path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert str(path) in str(e.value)


def _saved(tmp_path, data, name="b.pt"):
    path = tmp_path / name
    torch.save(data, path)
    return path


def test_a_bundle_from_a_newer_workbench_says_upgrade(run, tmp_path):
    data = torch.load(run / "bundle.pt", weights_only=True)
    data["format_version"] = BUNDLE_FORMAT_VERSION + 1
    with pytest.raises(BundleError, match="newer Workbench.*upgrade"):
        load_bundle(_saved(tmp_path, data))
    data["format_version"] = "1"
    with pytest.raises(BundleError, match="format_version"):
        load_bundle(_saved(tmp_path, data))


def test_a_checkpoint_from_a_newer_workbench_says_upgrade(run, tmp_path):
    data = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    data["format_version"] = CHECKPOINT_FORMAT_VERSION + 1
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(_saved(tmp_path, data))
    del data["epoch"]
    data["format_version"] = CHECKPOINT_FORMAT_VERSION
    with pytest.raises(CheckpointError, match="damaged checkpoint"):
        load_checkpoint(_saved(tmp_path, data))


@pytest.mark.parametrize("alter, words", [
    (lambda sd: sd.update({k: torch.zeros(3, 3) for k in list(sd)[:1]}), "size mismatch"),
    (lambda sd: sd.pop(next(iter(sd))), "Missing key"),
    (lambda sd: sd.update({"99.weight": torch.zeros(1)}), "Unexpected key"),
])
def test_weights_that_do_not_fit_the_bundles_own_experiment(run, tmp_path, alter, words,
                                                            capsys):
    data = torch.load(run / "bundle.pt", weights_only=True)
    alter(data["state_dict"])
    path = _saved(tmp_path, data)
    with pytest.raises(BundleError, match="do not fit") as e:
        Predictor(path)
    assert words in str(e.value)
    one_line(capsys, main(["predict", str(path), str(path)]), "do not fit")


def test_a_bundle_with_more_classes_than_its_weights(run, tmp_path):
    data = torch.load(run / "bundle.pt", weights_only=True)
    data["classes"] = data["classes"] + ["extra"]
    with pytest.raises(BundleError, match="do not fit"):
        Predictor(_saved(tmp_path, data))


@pytest.mark.parametrize("experiment, words", [
    ({"model": {"layers": [{"type": "Evil"}]}}, "model.layers[0].type"),
    ({"format_version": FORMAT_VERSION + 1}, "newer"),
    ({"data": {"batch_size": -1}}, "data.batch_size"),
    ("not an experiment", "expected a JSON object"),
    ({"__class__": "os.system"}, "__class__"),
])
def test_a_bundle_whose_experiment_is_invalid(run, tmp_path, experiment, words):
    data = torch.load(run / "bundle.pt", weights_only=True)
    data["experiment"] = experiment
    with pytest.raises(BundleError, match="its experiment is invalid") as e:
        load_bundle(_saved(tmp_path, data))
    assert words in str(e.value)


def test_odd_keys_and_classes_in_a_bundle_are_refused_with_a_message(run, tmp_path):
    data = torch.load(run / "bundle.pt", weights_only=True)
    odd = {**data, "experiment": {**data["experiment"], 7: "seven"}}  # pickles allow any key
    with pytest.raises(BundleError, match="its experiment is invalid"):
        load_bundle(_saved(tmp_path, odd))
    for classes in ("cats", [1, 2], []):
        path = _saved(tmp_path, {**data, "classes": classes})
        with pytest.raises(BundleError) as e:
            Predictor(path)
        assert "classes" in str(e.value).replace(str(path), "")
    with pytest.raises(BundleError, match="state_dict"):
        load_bundle(_saved(tmp_path, {**data, "state_dict": {"0.weight": [1.0, 2.0]}}))


# -- nothing is executed or unpickled freely -----------------------------------------------
def _calls(tree):
    """``(node, owner, name)`` of every call: ``eval(x)`` -> ``None, "eval"``;
    ``torch.load(p)`` -> ``"torch", "load"``; ``self.model.eval()`` -> ``"?", "eval"``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                yield node, None, f.id
            elif isinstance(f, ast.Attribute):
                yield node, f.value.id if isinstance(f.value, ast.Name) else "?", f.attr


def test_no_eval_exec_pickle_or_unsafe_torch_load_in_the_package():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, owner, name in _calls(tree):
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if owner in (None, "builtins") and name in ("eval", "exec", "compile"):
                problems.append(f"{where}: {name}()")
            if owner in ("pickle", "cPickle", "dill", "marshal", "shelve") and \
                    name in ("load", "loads", "open", "Unpickler"):
                problems.append(f"{where}: {owner}.{name}()")
            if name == "Unpickler" or (owner == "yaml" and name == "load"):
                problems.append(f"{where}: {owner}.{name}()")
            if owner == "torch" and name == "load":
                kw = {k.arg: k.value for k in node.keywords}
                safe = isinstance(kw.get("weights_only"), ast.Constant) and \
                    kw["weights_only"].value is True
                if not safe:
                    problems.append(f"{where}: torch.load without weights_only=True")
            if name in ("load_state_dict_from_url", "download_url_to_file", "urlopen"):
                problems.append(f"{where}: {name}() downloads")
    assert not problems, "\n".join(problems)


def test_the_ast_check_would_catch_each_kind():
    bad = ("eval(s)\nexec(s)\npickle.loads(b)\ntorch.load(p)\n"
           "torch.load(p, weights_only=False)\ntorch.load(p, weights_only=flag)\n")
    found = [(owner, name) for _, owner, name in _calls(ast.parse(bad))]
    assert found == [(None, "eval"), (None, "exec"), ("pickle", "loads")] + \
        [("torch", "load")] * 3
    assert list(_calls(ast.parse("self.model.eval()")))[0][1:] == ("?", "eval")


# -- no network ----------------------------------------------------------------------------
class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Every way out to the network raises (and is recorded)."""
    attempts = []

    def refuse(what):
        def _refuse(*args, **kwargs):
            attempts.append((what, args[1:2] if what == "connect" else args[:1]))
            raise NetworkUsed(f"network access attempted: {what}{args[1:2]}")
        return _refuse

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse("urlopen"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse("download_url_to_file"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse("load_state_dict_from_url"))
    return attempts


def test_training_predict_and_export_use_no_network(tiny_experiment, tmp_path, no_network,
                                                    capsys):
    exp_path = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_path)
    out = tmp_path / "run"
    assert main(["train", str(exp_path), "--out", str(out)]) == 0
    image = next((Path(tiny_experiment.data.folder) / "blue").iterdir())
    assert main(["predict", str(out / "bundle.pt"), str(image), "--json"]) == 0
    assert main(["export", str(out / "bundle.pt"), "--code", str(tmp_path / "m.py")]) == 0
    assert main(["scan", tiny_experiment.data.folder]) == 0
    assert (tmp_path / "m.py").exists()
    assert no_network == []


def test_backbone_auto_without_a_local_file_falls_back_offline(tmp_path, monkeypatch,
                                                               no_network):
    from workbench.core.registry import Component as C
    from workbench.core.model.backbone_weights import backbone_notes, load_backbone_weights
    from workbench.core.model.builder import build_network

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # an empty cache
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    layers = [C("Backbone", {"arch": "mobilenet_v3_small", "weights": "auto"}), C("Linear")]
    model = build_network(layers, (3, 32, 32), 3)[0]
    notes = load_backbone_weights(model)
    assert len(notes) == 1 and "random weights" in notes[0]
    assert backbone_notes(layers) == notes
    with pytest.raises(WorkbenchError, match="not found"):  # "pretrained" says where to put it
        load_backbone_weights(build_network(
            [C("Backbone", {"arch": "mobilenet_v3_small", "weights": "pretrained"}),
             C("Linear")], (3, 32, 32), 3)[0])
    assert no_network == []
    assert not (tmp_path / "torch_home" / "hub" / "checkpoints").exists() or not any(
        (tmp_path / "torch_home" / "hub" / "checkpoints").iterdir())
