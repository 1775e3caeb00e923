"""Property tests with Hypothesis: random input never crashes the parsers and loaders.

* Random JSON values (garbage and mutated real experiments) given to the Experiment parser
  raise only :class:`SpecError` or succeed, and whatever is accepted round-trips.
* Random layer stacks drawn from the layer registry either build and run a forward pass of
  the shape shape inference promised, or give a SpecError/ShapeError with a message.
* Random image bytes in a dataset folder are listed as unreadable with a reason (or read),
  and the Predictor gives them per-file errors: neither ever raises.

Sizes are kept small (a few channels, inputs up to 12x12) so that every drawn network is
cheap: the properties are about messages versus crashes, not about big networks.
"""

from __future__ import annotations

import copy
import json
import math
import struct
import tempfile
import zlib
from io import BytesIO
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from workbench.core.errors import ShapeError, SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.builder import build_network
from workbench.core.model.layers import LAYERS

FAST = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


# -- (a) Experiment JSON -------------------------------------------------------------------
def _registry_words() -> list[str]:
    from workbench.core.data.augment.transforms import TRANSFORMS
    from workbench.core.model.init import INITS
    from workbench.core.train.optim import LOSSES, OPTIMIZERS
    from workbench.core.train.schedules import SCHEDULERS

    words = []
    for reg in (LAYERS, TRANSFORMS, INITS, OPTIMIZERS, LOSSES, SCHEDULERS):
        for entry in reg:
            words.append(entry.name)
            words.extend(p.name for p in entry.params)
            for p in entry.params:
                words.extend(str(c) for c in (p.choices or ()) if isinstance(c, str))
    return sorted(set(words))


def _field_names(d, out):
    if isinstance(d, dict):
        for k, v in d.items():
            out.add(k)
            _field_names(v, out)
    elif isinstance(d, list):
        for v in d:
            _field_names(v, out)
    return out


VALID = Experiment().to_dict()
WORDS = _registry_words()
KEYS = sorted(_field_names(VALID, {"init", "share", "weight", "bias"}) | set(WORDS))

scalars = (st.none() | st.booleans()
           | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
           | st.sampled_from([0, 1, -1, 2 ** 31, 2 ** 63, 10 ** 30])
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(WORDS))
keys = st.sampled_from(KEYS) | st.text(max_size=8)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner,
                                                                         max_size=5),
    max_leaves=25)


def _paths(node, prefix=()):
    """Every (path, value) in a JSON document, containers included."""
    yield prefix, node
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


@st.composite
def mutated_experiments(draw):
    """A real experiment with 1-3 values replaced, keys added or keys removed."""
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in _paths(doc)]
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "add", "remove"]))
        if not path:
            target = doc
        else:
            target = parent[path[-1]]
        if action == "add" and isinstance(target, dict):
            target[draw(keys)] = draw(json_values)
        elif action == "add" and isinstance(target, list):
            target.insert(draw(st.integers(0, len(target))), draw(json_values))
        elif action == "remove" and path and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "remove" and path and isinstance(parent, list):
            parent.pop(path[-1])
        elif path:
            parent[path[-1]] = draw(json_values)
    return doc


def _parse_or_spec_error(data):
    """Experiment.from_dict(data), or None after a SpecError with a field or a message."""
    try:
        exp = Experiment.from_dict(data)
    except SpecError as e:
        assert str(e) and (e.field or e.problem)
        return None
    # Whatever is accepted is a real Experiment that round-trips through its JSON.
    again = Experiment.from_json(exp.to_json())
    assert again.to_dict() == exp.to_dict()
    return exp


@FAST
@given(json_values)
def test_random_json_never_crashes_the_experiment_parser(data):
    _parse_or_spec_error(data)
    try:
        text = json.dumps(data)
    except (ValueError, TypeError):
        return
    try:
        Experiment.from_json(text)
    except SpecError:
        pass


@FAST
@given(mutated_experiments())
def test_mutated_experiments_parse_or_name_the_field(data):
    exp = _parse_or_spec_error(data)
    try:
        Experiment.from_json(json.dumps(data), source="fuzz.json")
    except SpecError as e:
        assert exp is None and str(e)
    except ValueError:  # json.dumps of NaN is fine; only circular data would get here
        pass


WITH_INIT = copy.deepcopy(VALID)
WITH_INIT["model"]["layers"][0]["init"] = {"weight": {"type": "kaiming_normal", "params": {}}}
DICT_PATHS = [p for p, v in _paths(WITH_INIT) if isinstance(v, dict)]


@FAST
@given(st.dictionaries(st.integers() | st.text(max_size=4) | st.none() | st.booleans(),
                       json_values, min_size=1, max_size=4), st.sampled_from(DICT_PATHS))
def test_non_string_keys_from_a_pickled_experiment_are_spec_errors(extra, path):
    # A bundle's experiment comes from a pickle, whose dicts may have any hashable key.
    data = copy.deepcopy(WITH_INIT)
    node = data
    for k in path:
        node = node[k]
    node.update(extra)
    _parse_or_spec_error(data)


@st.composite
def valid_experiments(draw):
    """Experiments built from in-range values: a preset network, registry components with
    their defaults, and every declared data and training field drawn within its bounds."""
    import dataclasses

    from workbench.core.data.augment.transforms import TRANSFORMS
    from workbench.core.model.presets import list_presets, preset_experiment
    from workbench.core.train.optim import OPTIMIZERS
    from workbench.core.train.schedules import SCHEDULERS

    exp = preset_experiment(draw(st.sampled_from([n for n, _ in list_presets()])))
    for section in (exp.data, exp.training):
        for f in dataclasses.fields(section):
            p = f.metadata.get("param")
            if p is not None and draw(st.booleans()):
                setattr(section, f.name, draw(_in_range(p)))
    exp.data.mean, exp.data.std = [0.5], [0.25]  # one value fits any channel count
    exp.training.device = draw(st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "mps"]))
    exp.optimizer = Component(draw(st.sampled_from(OPTIMIZERS.names())))
    exp.scheduler = Component(draw(st.sampled_from(SCHEDULERS.names())))
    exp.augment.transforms = [Component(n) for n in draw(
        st.lists(st.sampled_from(TRANSFORMS.names()), max_size=4))]
    return exp


# -- (b) random layer stacks ---------------------------------------------------------------
FUZZ_LAYERS = [e for e in LAYERS if e.name != "Backbone"]  # torchvision nets: too slow here
SMALL = 16  # cap on in-range sizes: every drawn network stays tiny


def _in_range(p):
    if p.type is bool:
        return st.booleans()
    if p.type is str:
        return st.sampled_from(list(p.choices)) if p.choices else st.text(max_size=4)
    if p.type is list and p.item_type is str:  # e.g. data.exclude: any names
        return st.lists(st.text(max_size=8), max_size=3)
    if p.type is list:
        lo = int(p.min or 1)
        item = st.integers(lo, max(lo, min(int(p.max or SMALL), SMALL)))
        return st.lists(item, min_size=min(p.length or (1,)), max_size=max(p.length or (3,)))
    if p.choices:
        return st.sampled_from(list(p.choices))
    if p.type is int:
        lo = int(p.min if p.min is not None else 0)
        hi = int(p.max if p.max is not None else lo + SMALL)
        return st.integers(lo, max(lo, min(hi, lo + SMALL)))
    lo = p.min if p.min is not None else -10.0
    hi = p.max if p.max is not None else 10.0
    return st.floats(lo, hi, allow_nan=False)


def _out_of_range(p):
    bad = [None, "x", [1], {"a": 1}, float("nan"), float("inf")]
    if p.type is int:
        bad += [2.5, True]
    if p.min is not None:
        bad.append(p.min - 1)
    if p.max is not None:
        bad.append(p.max * 2 + 1)
    if p.choices:
        bad.append("not-a-choice")
    return st.sampled_from(bad)


@FAST
@given(valid_experiments())
def test_valid_experiments_round_trip(exp):
    data = exp.to_dict()
    parsed = Experiment.from_dict(data)  # valid values must never be refused
    assert parsed.to_dict() == Experiment.from_dict(data).to_dict()
    assert Experiment.from_json(parsed.to_json()).to_json() == parsed.to_json()


def _clean(p):
    """In-range values that make small networks likely to fit: sizes left auto, kernels,
    strides and paddings of at most 2."""
    if p.auto is not None:
        return st.none()
    if p.type is int and not p.choices and p.name in ("kernel_size", "stride", "padding",
                                                       "dilation", "output_size", "groups"):
        lo = int(p.min or 0)
        return st.integers(lo, max(lo, 2))
    return _in_range(p)


@st.composite
def layer_stacks(draw):
    """Half the stacks are "clean" (in range, ordered image layers then flat ones) so a fair
    share builds; the others mix every layer with in-range, out-of-range and wrong values."""
    if draw(st.booleans()):
        image = [e for e in FUZZ_LAYERS if e.meta.get("input") in ("image", "any")]
        flat = [e for e in FUZZ_LAYERS if e.meta.get("input") in ("flat", "any")]
        picks = draw(st.lists(st.sampled_from(image), max_size=3)) + [LAYERS.get("Flatten")] \
            + draw(st.lists(st.sampled_from(flat), max_size=2))
        layers = [Component(e.name, {p.name: draw(_clean(p)) for p in e.params
                                     if draw(st.booleans())}) for e in picks]
        return layers + [Component("Linear")]
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        entry = draw(st.sampled_from(FUZZ_LAYERS))
        params = {}
        for p in entry.params:
            how = draw(st.sampled_from(["default", "default", "in", "in", "out"]))
            if how == "in":
                params[p.name] = draw(_in_range(p))
            elif how == "out":
                params[p.name] = draw(_out_of_range(p))
        layers.append(Component(entry.name, params))
    if draw(st.booleans()):  # often end like a classifier, so more stacks build
        layers += [Component("Flatten"), Component("Linear")]
    return layers


@FAST
@given(layer_stacks(), st.sampled_from([1, 3]), st.integers(1, 12), st.integers(4, 12),
       st.integers(2, 5))
def test_random_layer_stacks_build_and_run_or_explain(layers, channels, h, w, classes):
    try:
        model, summary = build_network(layers, (channels, h, w), classes)
    except SpecError as e:
        event("SpecError")
        assert e.field.startswith("model.layers[") and e.problem
        return
    except ShapeError as e:
        event("ShapeError")
        assert str(e) and (e.index is None or 0 <= e.index < len(layers))
        return
    event("built")
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, channels, h, w))
    assert tuple(out.shape) == (2, classes) == (2, *summary.output_shape)


# -- (c) random image bytes ----------------------------------------------------------------
def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (a decompression bomb when huge)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(
        b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"")


def _valid(fmt: str, size=(6, 5)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


VALID_IMAGES = [_valid("PNG"), _valid("JPEG"), _valid("GIF")]
HEADERS = [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"GIF87a", b"\xff\xd8\xff\xe0", b"BM",
           b"RIFF\x00\x00\x00\x00WEBP", b"II*\x00"]
CRAFTED = [_png_header(65535, 65535), _png_header(20000, 20000), _png_header(0, 0),
           b"GIF89a\xff\xff\xff\xff" + b"\x00" * 20]


@st.composite
def image_bytes(draw):
    kind = draw(st.sampled_from(["random", "header", "truncated", "flipped", "crafted"]))
    if kind == "random":
        return draw(st.binary(max_size=512))
    if kind == "header":
        return draw(st.sampled_from(HEADERS)) + draw(st.binary(max_size=256))
    if kind == "crafted":
        return draw(st.sampled_from(CRAFTED))
    data = bytearray(draw(st.sampled_from(VALID_IMAGES)))
    if kind == "truncated":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """A grayscale and an RGB bundle of an untrained 8x8 network (weights do not matter)."""
    from workbench.core.bundle import save_bundle

    root = tmp_path_factory.mktemp("fuzz_bundles")
    out = {}
    for channels in (1, 3):
        exp = Experiment()
        exp.data.input_size = [8, 8]
        exp.data.channels = channels
        exp.data.mean, exp.data.std = [0.5] * channels, [0.5] * channels
        exp.model.layers = [Component("Flatten"), Component("Linear")]
        exp.validate()
        model, _ = build_network(exp.model.layers, (channels, 8, 8), 2)
        out[channels] = save_bundle(root / f"b{channels}.pt", exp, ["a", "b"],
                                    model.state_dict())
    return out


# Pillow warns (and then copes) about the broken EXIF blocks random bytes are full of.
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(image_bytes(), st.sampled_from([".png", ".jpg", ".gif", ".PNG"])),
                min_size=1, max_size=4), st.sampled_from([1, 3]))
def test_random_image_bytes_never_crash_scan_or_predict(bundles, files, channels):
    from workbench.core.data.scan import scan_folder
    from workbench.core.predict import Predictor

    with tempfile.TemporaryDirectory(prefix="wb-fuzz-") as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "b").mkdir()
        (root / "b" / "ok.png").write_bytes(VALID_IMAGES[0])
        paths = []
        for i, (data, ext) in enumerate(files):
            path = root / "a" / f"f{i}{ext}"
            path.write_bytes(data)
            paths.append(str(path))

        index = scan_folder(root, verify=True)
        read = {p for p, _ in index.samples}
        bad = {u.path: u.reason for u in index.unreadable}
        for p in paths:
            event("read" if p in read else "unreadable")
            assert (p in read) != (p in bad), p
            assert p not in bad or (isinstance(bad[p], str) and bad[p])

        predictions = Predictor(bundles[channels]).predict(paths, top_k=2)
        assert [pr.path for pr in predictions] == paths
        for pr in predictions:
            if pr.error is None:
                assert len(pr.top) == 2 and all(0 <= prob <= 1 for _, prob in pr.top)
                assert math.isclose(sum(prob for _, prob in pr.top), 1.0, rel_tol=1e-4)
            else:
                assert isinstance(pr.error, str) and pr.error and not pr.top
        # What the scan could decode, prediction reads too (and the other way round).
        assert {pr.path for pr in predictions if pr.error is None} == read & set(paths)
