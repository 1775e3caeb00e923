"""Defaults from the data: input size, channels and no mirror flips for digits or letters."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.core.data.defaults import (adopt_data_defaults, data_defaults,
                                          grayscale_suggestion, sample_paths)
from workbench.core.data.scan import scan_folder
from workbench.core.data.summary import summarize_images
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.presets import preset_experiment

DIGITS = tuple(str(i) for i in range(10))


def _digits(tmp_path, **kw):
    return make_image_folder(tmp_path / "digits", classes=DIGITS, per_class=3, size=28,
                             mode="L", **kw)


def test_grayscale_digits_get_their_size_one_channel_and_no_flip(tmp_path):
    folder = _digits(tmp_path)
    exp = preset_experiment("seed-cnn", folder)
    assert [t.type for t in exp.augment.transforms] == ["RandomHorizontalFlip"]  # the preset
    defaults = adopt_data_defaults(exp, scan_folder(folder))
    assert exp.data.input_size == [28, 28] and exp.data.channels == 1
    assert exp.data.mean == [0.5] and exp.data.std == [0.5]  # still valid for one channel
    assert exp.augment.transforms == []
    assert defaults.removed == ["RandomHorizontalFlip"]
    assert set(defaults.changes) == {"data.input_size", "data.channels", "augment.transforms"}
    text = defaults.describe()
    assert "input 28x28 and 1 channel" in text and "grayscale" in text
    assert "no horizontal flip" in text and "digits" in text and "'0'" in text
    exp.validate()  # what it wrote is a valid experiment


def test_colour_photos_of_cats_keep_the_flip_and_a_large_size_keeps_the_preset(tmp_path):
    folder = make_image_folder(tmp_path / "pets", classes=("cat", "dog"), per_class=3,
                               size=(320, 240))
    exp = preset_experiment("seed-cnn", folder)
    defaults = data_defaults(exp, scan_folder(folder))
    assert defaults.input_size == [32, 32] and defaults.channels == 3
    assert [t.type for t in defaults.transforms] == ["RandomHorizontalFlip"]
    assert defaults.changes == {}
    assert "input stays 32x32" in defaults.describe() and "320x240" in defaults.describe()
    assert "flip" not in defaults.describe()


def test_small_colour_photos_take_their_size_height_first(tmp_path):
    folder = make_image_folder(tmp_path / "pets", classes=("cat", "dog"), per_class=3,
                               size=(64, 48))
    defaults = data_defaults(Experiment(), scan_folder(folder))
    assert defaults.input_size == [48, 64] and defaults.channels == 3  # [height, width]
    assert defaults.changes == {"data.input_size": [48, 64]}
    assert "3 channels" in defaults.describe() and "colour" in defaults.describe()


def test_one_colour_image_among_grayscale_ones_keeps_three_channels(tmp_path):
    from PIL import Image

    folder = _digits(tmp_path)
    Image.new("RGB", (28, 28), (200, 10, 10)).save(tmp_path / "digits" / "3" / "red.png")
    defaults = data_defaults(preset_experiment("seed-cnn"), scan_folder(folder))
    assert defaults.channels == 3
    assert "RGB 1" in defaults.describe()


def test_a_backbone_takes_its_pretrained_size_normalisation_and_rgb(tmp_path):
    """A walkthrough: `init --preset resnet18 --data DIR` kept 32x32 and mean/std 0.5 for
    an ImageNet-pretrained backbone, which hurts transfer accuracy without a sign."""
    from workbench.core.model.backbone_weights import backbone_preprocessing

    from workbench.core.experiment import DataConfig

    folder = _digits(tmp_path)
    exp = preset_experiment("resnet18", folder)
    # The preset sets the backbone's preprocessing itself; a file written before it did (or
    # edited since) keeps the defaults: the dataset's defaults choose it too.
    exp.data = DataConfig(folder=str(folder))
    defaults = adopt_data_defaults(exp, scan_folder(folder))
    expected = backbone_preprocessing("resnet18")
    assert exp.data.input_size == expected["input_size"] == [224, 224]
    assert exp.data.channels == 3
    assert (exp.data.mean, exp.data.std) == (expected["mean"], expected["std"])
    text = defaults.describe()
    assert "resnet18's normalisation (mean 0.485, 0.456, 0.406" in text and "grayscale" in text
    assert set(defaults.changes) >= {"data.input_size", "data.mean", "data.std"}
    # The table said without torchvision is torchvision's own, for every torchvision arch.
    from workbench.core.data.defaults import pretrained_preprocessing
    from workbench.core.model.backbones import ARCHS

    for arch in (a for a in ARCHS if not a.startswith("timm/")):
        pre, own = pretrained_preprocessing(arch), backbone_preprocessing(arch)
        assert {k: pre[k] for k in ("input_size", "mean", "std")} == \
            {k: own[k] for k in ("input_size", "mean", "std")}, arch
    # Fitted once, it is left as it is.
    assert adopt_data_defaults(exp, scan_folder(folder)).changes == {}
    assert exp.augment.transforms == []  # digits still must not be mirrored


@pytest.mark.parametrize("classes, folder_name, mirrored", [
    (("a", "b", "c"), "set", True),                      # single letters
    (("six", "seven", "eight"), "set", True),            # number words
    (("digit_0", "digit_1"), "set", True),               # names say digits
    (("cat", "dog"), "mnist", True),                     # the dataset's name says digits
    (("cat", "dog"), "handwritten-letters", True),
    (("tshirt", "shoe"), "fashion-mnist", False),        # clothes, not digits
    (("cat", "dog", "x"), "pets", False),                # one letter among photos
    (("texture", "plain"), "fabrics", False),            # whole words only
    (tuple(str(i) for i in range(1, 21)), "flowers", False),  # numbered species, mostly
])
def test_mirror_sensitive_classes_lose_both_flips(tmp_path, classes, folder_name, mirrored):
    folder = make_image_folder(tmp_path / folder_name / "train", classes=classes, per_class=1)
    exp = Experiment()
    exp.augment.transforms = [Component("RandomHorizontalFlip"), Component("RandomRotation"),
                              Component("RandomVerticalFlip")]
    defaults = data_defaults(exp, scan_folder(folder))
    kept = [t.type for t in defaults.transforms]
    if mirrored:
        assert kept == ["RandomRotation"]
        assert "no horizontal or vertical flip" in defaults.describe()
    else:
        assert kept == [t.type for t in exp.augment.transforms]


def test_grayscale_suggestion_only_for_grayscale_data_kept_as_rgb(tmp_path):
    gray = scan_folder(_digits(tmp_path))
    summary = summarize_images(sample_paths(gray))
    exp = Experiment()
    assert grayscale_suggestion(exp, summary) == "All images are grayscale: use 1 channel"
    exp.data.channels = 1
    assert grayscale_suggestion(exp, summary) is None
    colour = scan_folder(make_image_folder(tmp_path / "colour"))
    assert grayscale_suggestion(Experiment(), summarize_images(sample_paths(colour))) is None
    assert grayscale_suggestion(preset_experiment("resnet18"), summary) is None  # needs RGB


def test_sample_paths_spread_over_every_class(tmp_path):
    index = scan_folder(make_image_folder(tmp_path / "d", classes=("a", "b", "c"),
                                          per_class=20))
    paths = sample_paths(index, limit=6)
    assert len(paths) == 6
    assert {p.split("/")[-2] for p in paths} == {"a", "b", "c"}


def test_unreadable_images_keep_the_experiment_values(tmp_path):
    for c in ("a", "b"):
        (tmp_path / "d" / c).mkdir(parents=True)
        (tmp_path / "d" / c / "x.png").write_bytes(b"not a png")
    defaults = data_defaults(Experiment(), scan_folder(tmp_path / "d"))
    assert defaults.input_size == [32, 32] and defaults.channels == 3
    assert "no image header could be read" in defaults.describe()


def test_preset_null_is_a_custom_network_and_round_trips(tmp_path):
    exp = Experiment.from_dict({"model": {"preset": None}})
    assert exp.model.preset is None
    assert exp.to_dict()["model"]["preset"] is None
    assert Experiment.from_json(exp.to_json()).model.preset is None
    # The Runs table reads it from a run folder's experiment.json without failing.
    from workbench.core.runs.record import read_record

    run = tmp_path / "2024-01-01_10-00-00-custom"
    run.mkdir()
    exp.save(run / "experiment.json")
    rec = read_record(run)
    assert isinstance(rec.preset, str) and "None" not in rec.preset


def test_colour_modes_are_named_and_and_more_counts_what_is_left():
    from collections import Counter

    from workbench.core.data.defaults import _modes
    from workbench.core.data.summary import ImageSummary

    # From a tester's photos: "modes RGB 64, RGBA 1, CMYK 1 and more" hid one grayscale.
    four = ImageSummary(modes=Counter({"RGB": 64, "RGBA": 1, "CMYK": 1, "L": 1}))
    assert _modes(four) == "modes RGB 64, RGBA 1, CMYK 1, L 1"
    five = ImageSummary(modes=Counter({"RGB": 60, "RGBA": 3, "CMYK": 2, "L": 1, "P": 1}))
    assert _modes(five) == "modes RGB 60, RGBA 3, CMYK 2 and 2 more (2 images)"


def test_mixed_sizes_choose_the_same_input_from_a_sample_as_from_every_image():
    """A walkthrough: `workbench init` (headers of a sample) chose 33x32 for a folder of
    16-48 px images where the app (every header) chose 32x32; the median of mixed sizes
    is rounded to a multiple of 8, so both choose one size."""
    from collections import Counter

    from workbench.core.data.summary import ImageSummary

    def chosen(sides):
        summary = ImageSummary(sizes=Counter((s + 1, s) for s in sides),
                               modes=Counter({"RGB": len(sides)}))
        return data_defaults(Experiment(), _Index(), summary)

    every, sample = chosen([29, 30, 31, 32, 33, 34, 35]), chosen([30, 31, 32, 33])
    assert every.input_size == sample.input_size == [32, 32]
    assert "rounded to a multiple of 8" in every.describe()
    assert chosen([60, 61, 62, 63, 64, 100, 120]).input_size == [64, 64]
    # One size that most images have is taken as it is.
    one = ImageSummary(sizes=Counter({(29, 27): 5, (40, 40): 2}), modes=Counter({"L": 7}))
    assert data_defaults(Experiment(), _Index(), one).input_size == [27, 29]


class _Index:
    classes = ["a", "b"]
    root = ""
    samples: list = []
    val_samples = None
