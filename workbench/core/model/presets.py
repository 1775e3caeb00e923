"""Ready-made networks to start from.

Plain data, no torch: listing presets and writing an Experiment must stay instant (the CLI's
``workbench init`` and the GUI's preset menu use it). Parameters left out take the layer's
defaults when the Experiment is validated; ``in_channels``/``in_features`` stay auto and the
last Linear's ``out_features`` is auto (the number of classes), so every preset fits any
dataset and channel count.
"""

from __future__ import annotations

from typing import Any

from workbench.core.errors import SpecError
from workbench.core.experiment import SEED_CNN, DataConfig, Experiment, ModelConfig
from workbench.core.registry import Component


def _conv(out: int, k: int, pad: int, bias: bool = True) -> tuple[str, dict[str, Any]]:
    params = {"out_channels": out, "kernel_size": k, "stride": 1, "padding": pad}
    if not bias:  # BatchNorm follows: its own offset makes the convolution's redundant
        params["bias"] = False
    return ("Conv2d", params)


def _pool(kind: str = "MaxPool2d", k: int = 2) -> tuple[str, dict[str, Any]]:
    return (kind, {"kernel_size": k, "stride": None, "padding": 0})


def _linear(out: int | None) -> tuple[str, dict[str, Any]]:
    return ("Linear", {"out_features": out})


_R: tuple[str, dict[str, Any]] = ("ReLU", {})
_T: tuple[str, dict[str, Any]] = ("Tanh", {})
_F: tuple[str, dict[str, Any]] = ("Flatten", {})


def _vgg_block(out: int) -> list[tuple[str, dict[str, Any]]]:
    """3x3 convolution, BatchNorm, ReLU: the unit VGG-style networks are stacked from."""
    return [_conv(out, 3, 1, bias=False), ("BatchNorm2d", {}), _R]


# name -> (description, layers). Order is the order shown to the user.
_PRESETS: dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]] = {
    "seed-cnn": (
        "Small CNN: two 3x3 convolution blocks (32, 64 filters) with max pooling, then a "
        "128-unit hidden layer. A good first model for small images.",
        # A new Experiment's network, so its layers are declared with the Experiment's
        # defaults: Conv2d(32, 3, padding 1), ReLU, MaxPool2d(2), Conv2d(64, ...), ReLU,
        # MaxPool2d(2), Flatten, Linear(128), ReLU, Linear(auto).
        [(kind, dict(params)) for kind, params in SEED_CNN]),
    "mlp": (
        "Multilayer perceptron: flattens the pixels into two hidden layers (256, 128). "
        "Ignores where pixels are; compare it with a CNN.",
        [_F, _linear(256), _R, _linear(128), _R, _linear(None)]),
    "lenet5": (
        "LeNet-5 (LeCun et al., 1998): 5x5 convolutions (6, 16 filters) with tanh and "
        "average pooling, then 120- and 84-unit layers. Made for 28x28 or 32x32 digits.",
        [_conv(6, 5, 2), _T, _pool("AvgPool2d"), _conv(16, 5, 0), _T, _pool("AvgPool2d"), _F,
         _linear(120), _T, _linear(84), _T, _linear(None)]),
    "cnn-bn": (
        "CNN with batch normalisation: three Conv-BatchNorm-ReLU blocks (32, 64, 128 filters) "
        "and global average pooling, so it works at any input size from 8x8 up.",
        [step for out in (32, 64, 128) for step in
         (_conv(out, 3, 1), ("BatchNorm2d", {}), _R, _pool())]
        + [("AdaptiveAvgPool2d", {"output_size": 1}), _F, ("Dropout", {"p": 0.2}),
           _linear(None)]),
    "logistic": (
        "Logistic regression: one Linear layer on the raw pixels. The simplest baseline.",
        [_F, _linear(None)]),
    "vgg-small": (
        "Small VGG-style network: pairs of 3x3 convolutions with batch normalisation (32-32, "
        "64-64, then 128) between max poolings, global average pooling and dropout. Deeper "
        "and stronger than seed-cnn; any input size from 8x8 up.",
        _vgg_block(32) + _vgg_block(32) + [_pool()] + _vgg_block(64) + _vgg_block(64)
        + [_pool()] + _vgg_block(128) + [_pool(), ("AdaptiveAvgPool2d", {"output_size": 1}),
                                         _F, ("Dropout", {"p": 0.3}), _linear(None)]),
    "row-lstm": (
        "Recurrent network: an LSTM (128 units) reads the image row by row, top to bottom, "
        "and a Linear layer classifies its final memory. Compare it with a CNN on digits.",
        [("RowLSTM", {"hidden_size": 128}), _linear(None)]),
    "resnet18": (
        "Transfer learning: a ResNet-18 trained on ImageNet extracts features (frozen) and "
        "one Linear layer learns your classes. Strong with few images; needs RGB input of "
        "at least 32x32 and the pretrained weights file (else it starts from random "
        "weights, with a warning).",
        [("Backbone", {"arch": "resnet18", "weights": "auto", "mode": "feature_extraction"}),
         _linear(None)]),
}


def list_presets() -> list[tuple[str, str]]:
    """Every preset as ``(name, one-paragraph description)``, in display order."""
    return [(name, desc) for name, (desc, _) in _PRESETS.items()]


def preset_layers(name: str) -> list[Component]:
    """A fresh copy of the preset's layers.

    Raises
    ------
    SpecError
        For an unknown name, listing the presets there are.
    """
    if name not in _PRESETS:
        raise SpecError("model.preset", f"unknown preset {name!r}; choose one of "
                                        f"{', '.join(_PRESETS)}")
    return [Component(kind, dict(params)) for kind, params in _PRESETS[name][1]]


#: What a network is called when its layers are not (or no longer) a preset's.
CUSTOM = "custom"


#: What validation fills in for the settings a preset leaves out, per layer type it uses
#: (the layer registry's defaults, which need torch: kept here so that naming a network
#: stays torch-free; a test holds the two equal).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "Conv2d": {"in_channels": None, "out_channels": 32, "kernel_size": 3, "stride": 1,
               "padding": 1, "dilation": 1, "groups": 1, "bias": True},
    "BatchNorm2d": {"num_features": None, "momentum": 0.1},
    "MaxPool2d": {"kernel_size": 2, "stride": None, "padding": 0},
    "AvgPool2d": {"kernel_size": 2, "stride": None, "padding": 0},
    "AdaptiveAvgPool2d": {"output_size": 1},
    "Linear": {"in_features": None, "out_features": None, "bias": True},
    "Dropout": {"p": 0.5},
    "RowLSTM": {"input_size": None, "hidden_size": 128, "num_layers": 1,
                "bidirectional": False},
    "Backbone": {"arch": "resnet18", "weights": "auto", "weights_file": "",
                 "mode": "feature_extraction", "backbone_lr_scale": 0.1},
    "ReLU": {}, "Tanh": {}, "Flatten": {},
}


def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists), to compare a file with code."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


#: Settings that say where a layer's weights come from or how they train, not what the
#: network is: a preset whose Backbone reads its weights from a file the user chose, is
#: fine-tuned, or has its own learning-rate scale is still that preset's network (the same
#: modules and shapes, the same exported code), so it keeps the preset's name.
NOT_ARCHITECTURE: dict[str, frozenset[str]] = {
    "Backbone": frozenset({"weights", "weights_file", "mode", "backbone_lr_scale"}),
}


def same_layers(preset: list, layers: list, architecture_only: bool = False) -> bool:
    """Whether ``layers`` (Components or their dicts) are the ``preset`` layers: the same
    types in the same order, with the same value of every setting once the settings left
    out are filled in with their defaults (as validation does), and neither a layer's own
    initialisation nor a weight tie (a preset has none).

    ``architecture_only``: settings of :data:`NOT_ARCHITECTURE` (a Backbone's weights file,
    mode...) may differ: the same network, named after the preset all the same."""
    def spec(layer: Any) -> tuple[str, dict, bool]:
        if isinstance(layer, dict):
            own = layer.get("init") or layer.get("share") is not None
            return str(layer.get("type", "")), dict(layer.get("params") or {}), bool(own)
        own = getattr(layer, "init", None) or getattr(layer, "share", None) is not None
        return layer.type, dict(layer.params or {}), bool(own)

    if len(preset) != len(layers):
        return False
    for x, y in zip(preset, layers):
        (xt, xp, _), (yt, yp, own) = spec(x), spec(y)
        if xt != yt or own:
            return False
        defaults = _DEFAULTS.get(xt, {})
        xp, yp = {**defaults, **xp}, {**defaults, **yp}
        if architecture_only:
            free = NOT_ARCHITECTURE.get(xt, frozenset())
            xp = {k: v for k, v in xp.items() if k not in free}
            yp = {k: v for k, v in yp.items() if k not in free}
        if xp.keys() != yp.keys() or any(_plain(xp[k]) != _plain(yp[k]) for k in xp):
            return False
    return True


def network_label(preset: Any, layers: list) -> str:
    """The preset's name when ``layers`` are still that preset's network, else
    :data:`CUSTOM` (edited away from it, or built without one): what the Runs table, the
    run's name and the code export call the network. Where a Backbone's weights come from
    and how it trains (:data:`NOT_ARCHITECTURE`) do not make it another network."""
    if not isinstance(preset, str) or preset not in _PRESETS:
        return CUSTOM
    return preset if same_layers(preset_layers(preset), layers, architecture_only=True) \
        else CUSTOM


def preset_experiment(name: str, folder: str = "") -> Experiment:
    """A default Experiment whose model is the preset (not validated: no torch needed).

    Parameters
    ----------
    name
        Preset name (see :func:`list_presets`).
    folder
        Dataset folder; empty means the built-in demo dataset.

    The preset's other settings are applied too
    (:func:`~.preset_settings.preset_changes`: a pretrained backbone's input size and
    normalisation, the feature views of its cache), as the Model tab's preset chooser does.
    """
    from workbench.core.model.preset_settings import apply_preset_changes, preset_changes

    layers = preset_layers(name)
    exp = Experiment(name=name, data=DataConfig(folder=str(folder)),
                     model=ModelConfig(layers=layers, preset=name))
    apply_preset_changes(exp, preset_changes(name, layers, exp))
    return exp
