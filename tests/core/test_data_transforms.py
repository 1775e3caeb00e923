"""The transform registry and the train/eval pipelines built from one spec."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.data.augment.transforms import (TRANSFORMS, build_eval_transform,
                                            build_train_transform, describe_pipeline)
from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

NAMES = ["Resize", "CenterCrop", "RandomResizedCrop", "RandomCrop", "RandomHorizontalFlip",
         "RandomVerticalFlip", "RandomRotation", "ColorJitter", "Grayscale", "Normalize",
         "RandomAffine", "RandomPerspective", "RandomGrayscale", "GaussianBlur",
         "GaussianNoise", "RandomErasing", "RandAugment", "TrivialAugmentWide", "AutoAugment",
         "MixUp", "CutMix"]
NEW = NAMES[10:19]
BATCH = ["MixUp", "CutMix"]


def _exp(transforms=(), **data) -> Experiment:
    exp = Experiment()
    exp.augment.transforms = [Component(t, dict(p)) if isinstance(t, str) else t
                              for t, p in transforms]
    for k, v in data.items():
        setattr(exp.data, k, v)
    return exp


def _gradient(w=40, h=30) -> Image.Image:
    """An asymmetric test picture: flips, crops and rotations all change it."""
    x = np.linspace(0, 255, w)[None, :, None]
    y = np.linspace(0, 255, h)[:, None, None]
    arr = np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)),
                          np.full((h, w, 1), 40.0)], axis=2)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def test_registry_names_params_and_meta():
    assert TRANSFORMS.names() == NAMES
    for entry in TRANSFORMS:
        assert entry.help and isinstance(entry.meta["random"], bool)
        assert "eval" in entry.meta and callable(entry.meta["describe"])
        for p in entry.params:
            assert p.help, f"{entry.name}.{p.name} has no help text"
            entry.validate({})  # defaults are valid
        if entry.meta["random"]:
            assert entry.meta["eval"] is None or entry.name in ("RandomResizedCrop",
                                                                "RandomCrop")
        else:
            assert callable(entry.meta["eval"])


def test_every_entry_builds_and_runs_with_defaults():
    img = _gradient()
    exp = Experiment()
    for entry in TRANSFORMS:
        out = build_train_transform(_exp([(entry.name, {})]))(img)
        assert out.shape == (3, 32, 32), entry.name
        assert entry.builder(**entry.validate({}), exp=exp) is not None


@pytest.mark.parametrize("size", [[32, 32], [24, 40], [7, 9]])
def test_output_shape_dtype_and_type(size):
    exp = _exp(input_size=size)
    for build in (build_train_transform, build_eval_transform):
        x = build(exp)(_gradient())
        assert type(x) is torch.Tensor  # a plain tensor, not a tv_tensors.Image
        assert x.dtype == torch.float32 and x.shape == (3, *size)


def test_scaled_then_normalised_per_channel():
    exp = _exp(mean=[0.1, 0.2, 0.3], std=[0.5, 0.25, 0.2])
    x = build_eval_transform(exp)(Image.new("RGB", (10, 10), (255, 51, 0)))
    expected = torch.tensor([(1.0 - 0.1) / 0.5, (0.2 - 0.2) / 0.25, (0.0 - 0.3) / 0.2])
    assert torch.allclose(x[:, 4, 4], expected, atol=1e-6)
    assert torch.allclose(x, expected[:, None, None].expand(3, 32, 32), atol=1e-6)


def test_one_mean_value_applies_to_every_channel():
    exp = _exp(mean=[0.5], std=[0.5])
    x = build_eval_transform(exp)(Image.new("RGB", (4, 4), (255, 0, 255)))
    assert x[:, 0, 0].tolist() == [1.0, -1.0, 1.0]


def test_mean_length_must_fit_channels():
    with pytest.raises(SpecError) as info:
        build_train_transform(_exp(channels=1, mean=[0.5, 0.5, 0.5], std=[0.5]))
    assert info.value.field == "data.mean"


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA", "RGB", "I;16"])
@pytest.mark.parametrize("channels", [1, 3])
def test_any_colour_mode_comes_out_with_the_experiment_channels(mode, channels):
    img = Image.new("RGB", (12, 10), (90, 160, 30)).convert(mode)
    mean = [0.5] * channels
    for build in (build_train_transform, build_eval_transform):
        x = build(_exp(channels=channels, mean=mean, std=mean))(img)
        assert x.shape == (channels, 32, 32)


def test_eval_is_deterministic_and_drops_random_steps():
    spec = [("RandomResizedCrop", {}), ("RandomRotation", {"degrees": 30}),
            ("ColorJitter", {"hue": 0.1}), ("RandomHorizontalFlip", {}),
            ("RandomVerticalFlip", {})]
    exp = _exp(spec)
    img = _gradient()
    ev = build_eval_transform(exp)
    a, b = ev(img), ev(img)
    assert torch.equal(a, b)
    # RandomResizedCrop's counterpart is a resize of the whole image: the same as a
    # pipeline with no augmentation at all.
    assert torch.allclose(a, build_eval_transform(_exp())(img), atol=1e-6)
    torch.manual_seed(0)
    tr = build_train_transform(exp)
    outs = [tr(img) for _ in range(4)]
    assert any(not torch.equal(outs[0], o) for o in outs[1:])


def test_train_applies_the_listed_steps():
    img = _gradient()
    flipped = build_train_transform(_exp([("RandomHorizontalFlip", {"p": 1.0})]))(img)
    plain = build_eval_transform(_exp([("RandomHorizontalFlip", {"p": 1.0})]))(img)
    assert torch.allclose(flipped, plain.flip(-1), atol=1e-6)
    assert not torch.allclose(flipped, plain)


def test_grayscale_keeps_the_channel_count():
    img = Image.new("RGB", (8, 8), (255, 0, 0))
    x = build_eval_transform(_exp([("Grayscale", {})]))(img)
    assert x.shape == (3, 32, 32)
    assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])
    assert abs(x[0, 0, 0].item() - (76 / 255 - 0.5) / 0.5) < 0.01
    one = build_eval_transform(_exp([("Grayscale", {})], channels=1, mean=[0.5], std=[0.5]))
    assert one(img).shape == (1, 32, 32)


def test_sizes_auto_explicit_and_the_final_fit():
    # Only a flip: the image is first resized to the input size.
    lines = describe_pipeline(_exp([("RandomHorizontalFlip", {})]), train=True)
    assert lines[1] == "Resize to 32x32 (data.input_size)"
    # Resize of the shorter side then an auto centre crop: no extra resize needed.
    exp = _exp([("Resize", {"size": [36]}), ("CenterCrop", {})])
    lines = describe_pipeline(exp, train=True)
    assert sum("Resize" in line for line in lines) == 1
    assert build_train_transform(exp)(_gradient(60, 40)).shape == (3, 32, 32)
    # A size that is not the input size is fixed by a final resize.
    exp = _exp([("Resize", {"size": [20]})])
    assert describe_pipeline(exp, train=False)[-3] == "Resize to 32x32 (data.input_size)"
    assert build_eval_transform(exp)(_gradient(60, 40)).shape == (3, 32, 32)


def test_describe_lists_train_and_eval_steps():
    exp = _exp([("RandomResizedCrop", {"size": [16]}), ("RandomHorizontalFlip", {"p": 0.5}),
                ("Grayscale", {})], input_size=[16, 16])
    train = describe_pipeline(exp, train=True)
    ev = describe_pipeline(exp, train=False)
    assert train[0] == "Convert to RGB (3 channels)"
    assert any("left-right" in line for line in train)
    assert not any("left-right" in line for line in ev)
    assert "Resize to 16x16 (evaluation counterpart of RandomResizedCrop)" in ev
    assert any("grayscale" in line for line in ev)
    assert train[-1].startswith("Normalize with data.mean") and ev[-1] == train[-1]
    assert train[-2] == ev[-2] == "Scale pixel values to [0, 1] (float32)"


def test_user_normalize_runs_on_floats_in_order():
    exp = _exp([("Normalize", {"mean": [0.5], "std": [0.5]})], mean=[0.0], std=[1.0])
    x = build_eval_transform(exp)(Image.new("RGB", (4, 4), (255, 0, 255)))
    assert x[:, 0, 0].tolist() == [1.0, -1.0, 1.0]
    with pytest.raises(SpecError, match="before Normalize"):
        build_train_transform(_exp([("Normalize", {}), ("ColorJitter", {})]))


@pytest.mark.parametrize("spec, field", [
    ([("Blur", {})], "augment.transforms[0].type"),
    ([("RandomHorizontalFlip", {}), ("RandomRotation", {"degrees": 500})],
     "augment.transforms[1].params.degrees"),
    ([("RandomResizedCrop", {"scale": [0.9, 0.5]})], "augment.transforms[0].params.scale"),
    ([("Resize", {"size": [1, 2, 3]})], "augment.transforms[0].params.size"),
    ([("Normalize", {"mean": [0.1, 0.2, 0.3]})], "augment.transforms[0].params.mean"),
])
def test_bad_specs_name_the_field(spec, field):
    exp = _exp(spec, channels=1, mean=[0.5], std=[0.5])
    for fn in (build_train_transform, build_eval_transform,
               lambda e: describe_pipeline(e, True)):
        with pytest.raises(SpecError) as info:
            fn(exp)
        assert info.value.field == field


def test_pipelines_pickle_for_worker_processes():
    exp = _exp([("RandomResizedCrop", {}), ("ColorJitter", {}), ("Grayscale", {})])
    ev = build_eval_transform(exp)
    again = pickle.loads(pickle.dumps(ev))
    assert torch.equal(again(_gradient()), ev(_gradient()))
    pickle.loads(pickle.dumps(build_train_transform(exp)))(_gradient())


def test_tensor_input_with_matching_channels_is_accepted():
    t = torch.full((3, 10, 10), 255, dtype=torch.uint8)
    x = build_eval_transform(_exp())(t)
    assert x.shape == (3, 32, 32) and torch.allclose(x, torch.ones_like(x))
    with pytest.raises(TypeError):
        build_eval_transform(_exp())(torch.zeros(1, 10, 10, dtype=torch.uint8))


# -- the entries added for issue 3 -------------------------------------------------------
@pytest.mark.parametrize("name", NEW + BATCH)
@pytest.mark.parametrize("channels", [1, 3])
def test_new_entries_run_in_both_pipelines_on_tiny_images(name, channels):
    exp = _exp([(name, {})], channels=channels, mean=[0.5], std=[0.5], input_size=[8, 8])
    exp.validate()
    torch.manual_seed(0)
    for img in (_gradient(8, 8), _gradient(3, 5)):
        for build in (build_train_transform, build_eval_transform):
            t = build(exp)
            for _ in range(4):
                x = t(img)
                assert x.shape == (channels, 8, 8) and x.dtype == torch.float32, name
                assert torch.isfinite(x).all()
    # Random (and batch) steps are dropped from evaluation: it equals the empty pipeline.
    assert torch.equal(build_eval_transform(exp)(_gradient()),
                       build_eval_transform(_exp(channels=channels, mean=[0.5], std=[0.5],
                                                 input_size=[8, 8]))(_gradient()))
    pickle.loads(pickle.dumps(build_train_transform(exp)))(_gradient())


def test_new_entries_declare_bounds_and_helpful_tooltips():
    for name in NEW + BATCH:
        entry = TRANSFORMS.get(name)
        assert entry.meta["random"] is True and entry.meta["eval"] is None
        assert bool(entry.meta.get("batch")) == (name in BATCH)
        for p in entry.params:
            assert len(p.help) > 20, f"{name}.{p.name}"
            if p.type in (int, float) or p.item_type in (int, float):
                assert p.min is not None and p.max is not None, f"{name}.{p.name}"


def test_new_entries_change_the_image_when_forced():
    base = build_train_transform(_exp())(_gradient())
    for name, params in [("RandomAffine", {"degrees": 90, "translate": [0.3, 0.3]}),
                         ("RandomPerspective", {"distortion_scale": 0.8, "p": 1.0}),
                         ("GaussianBlur", {"kernel_size": 9, "sigma": [3.0, 4.0]}),
                         ("GaussianNoise", {"sigma": 0.3}),
                         ("RandomErasing", {"p": 1.0, "scale": [0.3, 0.5]}),
                         ("RandAugment", {"num_ops": 4, "magnitude": 20})]:
        torch.manual_seed(1)
        outs = [build_train_transform(_exp([(name, params)]))(_gradient()) for _ in range(3)]
        assert any(not torch.allclose(o, base) for o in outs), name


@pytest.mark.parametrize("channels", [1, 3])
def test_random_grayscale_keeps_the_channel_count(channels):
    exp = _exp([("RandomGrayscale", {"p": 1.0})], channels=channels,
               mean=[0.0], std=[1.0])
    x = build_train_transform(exp)(_gradient())
    assert x.shape[0] == channels
    if channels == 3:
        assert torch.allclose(x[0], x[1]) and torch.allclose(x[1], x[2])


def test_erasing_fills_with_value_on_the_0_1_scale():
    exp = _exp([("RandomErasing", {"p": 1.0, "scale": [0.4, 0.4], "value": 1.0})],
               mean=[0.0], std=[1.0])
    x = build_train_transform(exp)(Image.new("RGB", (32, 32), (0, 0, 0)))
    share = (x == 1.0).all(0).float().mean().item()
    assert 0.3 < share < 0.5  # a rectangle of ~40% of the area is white, the rest black


def test_auto_augment_policies():
    for policy in ("imagenet", "cifar10", "svhn"):
        build_train_transform(_exp([("AutoAugment", {"policy": policy})]))(_gradient())
    with pytest.raises(SpecError) as info:
        build_train_transform(_exp([("AutoAugment", {"policy": "mnist"})]))
    assert info.value.field == "augment.transforms[0].params.policy"


@pytest.mark.parametrize("spec, field", [
    (("GaussianBlur", {"kernel_size": 4}), "augment.transforms[0].params.kernel_size"),
    (("GaussianBlur", {"sigma": [2.0, 1.0]}), "augment.transforms[0].params.sigma"),
    (("RandomAffine", {"scale": [1.2, 0.8]}), "augment.transforms[0].params.scale"),
    (("RandomErasing", {"ratio": [3.0, 0.3]}), "augment.transforms[0].params.ratio"),
    (("MixUp", {"alpha": 0}), "augment.transforms[0].params.alpha"),
])
def test_bad_new_params_name_the_field(spec, field):
    exp = _exp([spec])
    with pytest.raises(SpecError) as info:
        exp.validate()
    assert info.value.field == field
    if not spec[0] == "MixUp":
        with pytest.raises(SpecError) as info:
            build_train_transform(_exp([spec]))
        assert info.value.field == field


def test_batch_steps_are_skipped_per_image_and_described_last():
    plain = _exp([("RandomHorizontalFlip", {"p": 0.0})])
    mixed = _exp([("CutMix", {}), ("RandomHorizontalFlip", {"p": 0.0}), ("MixUp", {})])
    img = _gradient()
    assert torch.equal(build_train_transform(mixed)(img), build_train_transform(plain)(img))
    train = describe_pipeline(mixed, True)
    assert train[:-3] == describe_pipeline(plain, True)
    assert train[-3] == "Then, per batch, one of:"
    assert train[-2].startswith("CutMix") and train[-1].startswith("MixUp")
    assert describe_pipeline(mixed, False) == describe_pipeline(plain, False)


def test_noise_is_added_after_scaling_and_before_normalising():
    exp = _exp([("GaussianNoise", {"sigma": 0.1})])
    lines = describe_pipeline(exp, True)
    assert lines.index("Scale pixel values to [0, 1] (float32)") < \
        lines.index("Gaussian noise, mean 0, sigma 0.1 (values in [0, 1])") < len(lines) - 1


def test_an_entry_used_without_an_experiment_sizes_itself_like_a_default_experiment():
    # common.DEFAULT_DATA stands in for DataConfig() (the registry may not import the
    # experiment module), so the two must agree.
    from workbench.core.data.augment.common import DEFAULT_DATA
    from workbench.core.experiment import DataConfig

    assert list(DEFAULT_DATA.input_size) == DataConfig().input_size
    assert DEFAULT_DATA.channels == DataConfig().channels
    assert TRANSFORMS.get("Resize").build().size == DataConfig().input_size
