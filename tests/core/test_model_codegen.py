"""Code export: the generated module rebuilds Workbench's network exactly.

Exported code is held to Workbench's own model: the same outputs once the bundle's
state_dict is loaded (every preset, random stacks of every registered layer type), the same
initial weights for the same seed, and the same weight ties.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from workbench.core.errors import ShapeError, SpecError, WorkbenchError
from workbench.core.registry import Component as C
from workbench.core.experiment import Experiment
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.model.codegen import layer_call, network_code
from workbench.core.model.init import INITS, apply_init
from workbench.core.model.layers import LAYERS
from workbench.core.model.presets import list_presets, preset_experiment

# Too big for random stacks (tens of millions of parameters); covered by the per-type test.
HEAVY = {"Backbone"}


def _experiment(layers, shape=(3, 16, 16), init=None) -> Experiment:
    exp = Experiment()
    exp.data.channels, exp.data.input_size = shape[0], [shape[1], shape[2]]
    exp.data.mean, exp.data.std = [0.5] * shape[0], [0.25] * shape[0]
    exp.model.layers = layers
    if init is not None:
        exp.init = init
    return exp


def _exec(code: str) -> dict:
    """Run exported code in a fresh namespace, as ``import model`` would."""
    namespace = {"__name__": "exported_model"}
    exec(compile(code, "model.py", "exec"), namespace)
    return namespace


def _workbench_model(exp: Experiment, num_classes: int, seed: int = 0) -> nn.Sequential:
    """The network as the Trainer makes it: built, tied, initialised from a seed."""
    torch.manual_seed(seed)
    h, w = exp.data.input_size
    model, _ = build_network(exp.model.layers, (exp.data.channels, h, w), num_classes)
    apply_init(model, exp.init, layers=exp.model.layers)
    return model


def _scramble(model: nn.Module, seed: int) -> None:
    """Give every parameter and float buffer (BatchNorm statistics too) random values, as
    training would, so equal outputs cannot come from equal initial weights."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]:
            t.copy_(torch.rand(t.shape, generator=gen) * 0.5 + 0.1)


def _assert_same_outputs(exp: Experiment, num_classes: int, seed: int = 0) -> str:
    code = network_code(exp, num_classes)
    ours = _workbench_model(exp, num_classes)
    _scramble(ours, seed)
    exported = _exec(code)["build_model"]()
    exported.load_state_dict(ours.state_dict())
    ours.eval(), exported.eval()
    x = torch.randn(3, exp.data.channels, *exp.data.input_size,
                    generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        torch.testing.assert_close(exported(x), ours(x), rtol=0, atol=0)
    return code


# -- presets and every layer type ----------------------------------------------------------
@pytest.mark.parametrize("name", [name for name, _ in list_presets()])
def test_every_preset_exports_to_the_same_network(name):
    exp = preset_experiment(name)
    missing = sorted({c.type for c in exp.model.layers} - set(LAYERS.names()))
    if missing:
        pytest.skip(f"preset {name} uses layers not registered yet: {missing}")
    exp.data.input_size = [32, 32]
    exp.validate()
    _assert_same_outputs(exp, num_classes=5)


def _fitting_network_with(entry_name: str):
    """A small network around one layer type (defaults), placed where its input fits."""
    for shape in ((3, 32, 32), (1, 12, 12)):
        for before, after in (([], [C("Flatten")]), ([C("Flatten")], []),
                              ([C("Conv2d", {"out_channels": 8})], [C("Flatten")])):
            layers = before + [C(entry_name)] + after + [C("Linear")]
            if infer_shapes(layers, shape, 3).ok:
                return layers, shape
    return None, None


@pytest.mark.parametrize("name", LAYERS.names())
def test_every_registered_layer_type_exports(name):
    layers, shape = _fitting_network_with(name)
    if layers is None:
        pytest.skip(f"{name} with its default parameters fits none of the small test networks")
    _assert_same_outputs(_experiment(layers, shape), num_classes=3)


# -- random stacks -------------------------------------------------------------------------
def _random_value(rng: random.Random, p):
    if p.auto is not None and rng.random() < 0.8:
        return None
    if p.choices:
        return rng.choice(p.choices)
    if p.words and rng.random() < 0.2:
        return rng.choice(p.words)
    if p.type is bool:
        return rng.random() < 0.5
    if p.type is int:
        low = int(p.min if p.min is not None else 0)
        return rng.randint(low, max(low, min(int(p.max if p.max is not None else 8), low + 5)))
    if p.type is float:
        low = p.min if p.min is not None else 0.0
        return low + rng.random() * min(1.0, (p.max if p.max is not None else 1.0) - low)
    return p.default


def _random_stack(seed: int):
    """A random network over every registered (light) layer type, with random parameters;
    ``None`` when it does not fit (misfits are the builder tests' business)."""
    rng = random.Random(seed)
    shape = (rng.choice([1, 3]), rng.randint(6, 20), rng.randint(6, 20))
    entries = [e for e in LAYERS if e.name not in HEAVY]
    layers, current = [], shape
    for _ in range(rng.randint(1, 7)):
        wants = "image" if len(current) == 3 else "flat"
        entry = rng.choice([e for e in entries if e.meta.get("input", "any") in ("any", wants)])
        params = {p.name: _random_value(rng, p) for p in entry.params
                  if p.type is not list and rng.random() < 0.7}
        summary = infer_shapes(layers + [C(entry.name, params)], shape, 4)
        if summary.layers[-1].output_shape is None:
            continue  # this layer does not fit here: try another
        layers.append(C(entry.name, params))
        current = summary.layers[-1].output_shape
    if len(current) != 1:
        layers.append(C("Flatten"))
    layers.append(C("Linear"))
    return (layers, shape) if infer_shapes(layers, shape, 4).ok else None


STACKS = [s for s in range(300) if _random_stack(s) is not None][:60]


def test_random_stacks_cover_the_registered_types():
    used = {c.type for s in STACKS for c in _random_stack(s)[0]}
    light = {e.name for e in LAYERS} - HEAVY
    assert len(STACKS) == 60
    assert len(used & light) >= 0.8 * len(light), sorted(light - used)


@pytest.mark.parametrize("seed", STACKS)
def test_random_stacks_export_to_the_same_network(seed):
    layers, shape = _random_stack(seed)
    _assert_same_outputs(_experiment(layers, shape), num_classes=4, seed=seed)


# -- initialisation and ties ---------------------------------------------------------------
def _tied_network():
    return [C("Conv2d", {"out_channels": 4}), C("ReLU"),
            C("Conv2d", {"out_channels": 4}, init={"weight": {"type": "orthogonal"},
                                                  "bias": {"type": "constant",
                                                           "params": {"val": 0.1}}}),
            C("Conv2d", {"out_channels": 4}, share=2), C("BatchNorm2d"),
            C("Conv2d", {"out_channels": 4}, share=2), C("Flatten"),
            C("Linear", {"out_features": 8}), C("Tanh"),
            C("Linear", {"out_features": 8}, init={"weight": {"type": "default"}}),
            C("Linear", {"out_features": 8}, share=9), C("Linear")]


INIT_CASES = {
    "default": (None, lambda: [C("Flatten"), C("Linear", {"out_features": 6}), C("Linear")]),
    "kaiming, seed-cnn": (C("kaiming_normal"), lambda: preset_experiment("seed-cnn")
                          .model.layers),
    "xavier, overrides and ties": (C("xavier_uniform", {"gain": 1.5}), _tied_network),
    "uniform, recurrent": (C("uniform", {"a": -0.1, "b": 0.2}),
                           lambda: [C("RowGRU", {"hidden_size": 5}), C("Linear")]),
    # dozens of convolutions inside one layer: written as a loop over its modules
    "kaiming, random backbone": (C("kaiming_uniform"), lambda: [
        C("Backbone", {"arch": "mobilenet_v3_small", "weights": "random",
                       "mode": "fine_tune"}), C("Linear")]),
}


@pytest.mark.parametrize("case", INIT_CASES)
def test_seeded_build_model_starts_from_workbenchs_initial_weights(case):
    init, layers = INIT_CASES[case]
    exp = _experiment(layers(), shape=(3, 32, 32), init=init).validate()
    code = network_code(exp, 3)
    if "backbone" in case:
        assert "for m in model[0].modules():" in code
    build_model = _exec(code)["build_model"]
    for seed in (0, 7):
        ours = _workbench_model(exp, 3, seed).state_dict()
        torch.manual_seed(seed)
        theirs = build_model().state_dict()
        assert list(theirs) == list(ours)
        for key in ours:
            assert torch.equal(theirs[key], ours[key]), key


def test_exported_code_does_not_carry_the_backbones_weights_file_path():
    # The bundle's weights are loaded into the network build_model() builds: a path on the
    # trainer's machine means nothing on another one, and says where the user keeps files.
    exp = _experiment([C("Backbone", {"arch": "mobilenet_v3_small", "weights": "pretrained",
                                      "weights_file": "/home/ana/private/mnv3.pth"}),
                       C("Linear")], shape=(3, 32, 32)).validate()
    code = network_code(exp, 3)
    assert "/home/ana" not in code and "weights_file=" not in code
    assert 'Backbone(arch="mobilenet_v3_small", weights="pretrained")' in code
    model = _exec(code)["build_model"]().eval()
    assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 3)


def test_ties_survive_export():
    exp = _experiment(_tied_network()).validate()
    code = _assert_same_outputs(exp, 3)
    assert "model[3].weight = model[2].weight" in code
    assert "model[10].bias = model[9].bias" in code
    model = _exec(code)["build_model"]()
    ours = _workbench_model(exp, 3)
    _scramble(ours, 1)
    model.load_state_dict(ours.state_dict())
    for i, j in ((2, 3), (2, 5), (9, 10)):
        assert model[j].weight is model[i].weight and model[j].bias is model[i].bias
    # One tensor, counted once: as Workbench counts the network.
    h, w = exp.data.input_size
    summary = infer_shapes(exp.model.layers, (3, h, w), 3)
    assert sum(p.numel() for p in model.parameters()) == summary.total_params


@pytest.mark.parametrize("scheme", [e.name for e in INITS if e.name != "default"])
def test_every_init_scheme_is_written_as_the_call_workbench_makes(scheme):
    from workbench.core.model.codegen_init import init_call

    entry = INITS.get(scheme)
    params = entry.validate({}, "init.params")
    ours, theirs = torch.empty(6, 5), torch.empty(6, 5)
    torch.manual_seed(3)
    entry.builder(**params)(ours, None)
    torch.manual_seed(3)
    eval(init_call(C(scheme, params), "t"), {"nn": nn, "t": theirs})
    assert torch.equal(ours, theirs)


# -- the file itself -----------------------------------------------------------------------
def test_sizes_are_explicit_and_defaults_left_out():
    assert layer_call("Conv2d", {"in_channels": 3, "out_channels": 32, "kernel_size": 3,
                                 "stride": 1, "padding": 1, "dilation": 1, "groups": 1,
                                 "bias": True}, qualified=True) == \
        "nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3, padding=1)"
    assert layer_call("Linear", {"in_features": 3136, "out_features": 10, "bias": False}) == \
        "Linear(in_features=3136, out_features=10, bias=False)"
    assert layer_call("ReLU", {}) == "ReLU()"


def test_header_says_what_it_is_and_how_to_load_it():
    exp = preset_experiment("seed-cnn")
    exp.data.input_size, exp.data.channels = [28, 28], 1
    exp.data.mean, exp.data.std = [0.1307], [0.3081]
    exp.validate()
    code = network_code(exp, 2, ["cat", "dog"], bundle_name="pets.pt", module_name="pets")
    header = code.split("from __future__")[0]
    for words in ("(batch, 1, 28, 28)", "grayscale", "0: cat", "1: dog", "0.1307", "0.3081",
                  "from pets import build_model",
                  'torch.load("pets.pt", weights_only=True)["state_dict"]'):
        assert words in header, words
    namespace = _exec(code)
    assert namespace["CLASSES"] == ["cat", "dog"] and namespace["INPUT_SHAPE"] == (1, 28, 28)
    assert namespace["MEAN"] == [0.1307] and namespace["STD"] == [0.3081]
    tree = ast.parse(code)

    def imported(nodes):
        return {n.names[0].name.split(".")[0] if isinstance(n, ast.Import) else
                (n.module or "").split(".")[0]
                for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))}

    # Importing the file (build_model) needs torch alone; preprocess() imports Pillow and
    # numpy when it is called, and pillow_heif where installed, for a HEIC photo.
    assert imported(tree.body) <= {"__future__", "torch", "torchvision", "sys", "math", "typing"}
    assert imported(ast.walk(tree)) <= {"__future__", "torch", "torchvision", "sys", "math",
                                        "typing", "PIL", "numpy", "platform", "pillow_heif"}


def test_custom_layer_source_is_copied():
    exp = _experiment([C("RowLSTM", {"hidden_size": 6, "bidirectional": True}), C("Linear")])
    code = _assert_same_outputs(exp.validate(), 3)
    assert "class RowLSTM(nn.Module):" in code and "class RowGRU" not in code


_GADGETS = '''
from __future__ import annotations

import math
import torch.nn.functional as F
from typing import Optional
from torch import nn

from workbench.core.errors import WorkbenchError

SCALE = 2.5
UNUSED = 99


def _squash(x, scale: Optional[float] = None):
    return F.softsign(x) * (scale or SCALE) + math.pi


class _Base(nn.Module):
    def extra(self):
        return SCALE


class Gadget(_Base):
    def __init__(self, features: int = 4):
        super().__init__()
        self.linear = nn.Linear(features, features)

    def forward(self, x):
        return _squash(self.linear(x))


class Broken(nn.Module):
    def forward(self, x):
        raise WorkbenchError("never")
'''


@pytest.fixture
def gadgets(tmp_path, monkeypatch):
    """A module of custom layers outside Workbench, registered for the test only."""
    from workbench.core.registry import Entry, Param

    (tmp_path / "wb_test_gadgets.py").write_text(_GADGETS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import wb_test_gadgets

    monkeypatch.delitem(sys.modules, "wb_test_gadgets")
    for name in ("Gadget", "Broken"):
        entry = Entry(name, getattr(wb_test_gadgets, name),
                      (Param("features", int, None, min=1, auto="input features"),)
                      if name == "Gadget" else (), "test layer", "test",
                      {"input": "flat", "auto": {"features": "features"} if name == "Gadget"
                       else {},
                       "shape": lambda p, s: s, "torch": f"wb_test_gadgets.{name}"})
        monkeypatch.setitem(LAYERS._entries, name, entry)


def test_helpers_constants_and_imports_of_a_custom_layer_come_along(gadgets):
    exp = _experiment([C("Flatten"), C("Gadget"), C("Linear")], shape=(1, 3, 3))
    code = _assert_same_outputs(exp, 3)
    for line in ("import math", "import torch.nn.functional as F",
                 "from typing import Optional", "SCALE = 2.5", "def _squash(",
                 "class _Base(nn.Module):", "class Gadget(_Base):"):
        assert line in code, line
    assert "UNUSED" not in code and "Broken" not in code and "WorkbenchError" not in code
    # Definitions keep their module's order, so each is defined before it is used.
    assert code.index("SCALE = 2.5") < code.index("def _squash(") < code.index("class Gadget")


def test_a_custom_layer_that_needs_workbench_is_refused(gadgets):
    exp = _experiment([C("Flatten"), C("Broken"), C("Linear")], shape=(1, 3, 3))
    with pytest.raises(WorkbenchError, match="Broken.*WorkbenchError from workbench.core.errors"
                                             ".*stand alone"):
        network_code(exp, 3)


def test_misfits_and_bad_specs_are_user_errors():
    exp = _experiment([C("Linear"), C("Flatten")])
    with pytest.raises(ShapeError, match=r"layer 1 \(Linear\).*add Flatten"):
        network_code(exp, 3)
    exp = _experiment([C("Flatten"), C("Linear", {"out_features": "ten"})])
    with pytest.raises(SpecError, match=r"model\.layers\[1\]\.params\.out_features"):
        network_code(exp, 3)
    with pytest.raises(WorkbenchError, match="2 class names"):
        network_code(_experiment([C("Flatten"), C("Linear")]), 3, ["a", "b"])


def test_exported_file_runs_alone_in_a_fresh_python(tmp_path):
    from workbench.core.bundle import Bundle, save_bundle
    from workbench.core.export.code import export_code

    exp = preset_experiment("cnn-bn")
    exp.data.input_size = [16, 16]
    exp.model.layers[4] = C("Conv2d", {"out_channels": 32}, share=0)
    exp.model.layers[0] = C("Conv2d", {"out_channels": 32, "in_channels": 3})
    exp.model.layers.insert(1, C("Conv2d", {"out_channels": 32}))
    exp.model.layers[5] = C("Conv2d", {"out_channels": 32}, share=1)
    exp.validate()
    ours = _workbench_model(exp, 3)
    _scramble(ours, 5)
    bundle_path = save_bundle(tmp_path / "bundle.pt", exp, ["a", "b", "c"], ours.state_dict())
    code_path = export_code(bundle_path, tmp_path / "net.py")
    x = torch.randn(4, 3, 16, 16)
    torch.save(x, tmp_path / "x.pt")
    script = textwrap.dedent(f"""
        import runpy, sys
        sys.modules["workbench"] = None  # the exported file must not need Workbench
        import torch
        sys.argv = [{str(code_path)!r}, {str(bundle_path)!r}]
        ns = runpy.run_path(sys.argv[0], run_name="__main__")  # its own quick look
        model = ns["build_model"]()
        model.load_state_dict(torch.load(sys.argv[1], weights_only=True)["state_dict"])
        model.eval()
        with torch.no_grad():
            torch.save(model(torch.load({str(tmp_path / 'x.pt')!r})), {str(tmp_path / 'y.pt')!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "output shape (1, 3)" in proc.stdout
    expected = Bundle(exp, ["a", "b", "c"], ours.state_dict()).build_model()
    with torch.no_grad():
        torch.testing.assert_close(torch.load(tmp_path / "y.pt"), expected(x), rtol=0, atol=0)
