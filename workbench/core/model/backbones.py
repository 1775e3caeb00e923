"""Pretrained backbones: transfer learning from torchvision's ImageNet models.

One layer type, ``"Backbone"``, holds a whole torchvision classifier (resnet18, resnet50,
mobilenet_v3_small, efficientnet_b0 or vgg16) with its 1000-class head replaced by
``nn.Identity``: it takes an RGB image and outputs flat features, so the layers after it in
the Sequential are the new head (usually one ``Linear``).

Weights are never downloaded. Building the layer gives random weights and reads no file (cheap,
so shape inference and loading a bundle, whose own weights replace them, cost nothing);
the Trainer then calls :func:`load_backbone_weights`, *after* the initialisation scheme has
run so a global scheme cannot overwrite pretrained weights. It reads ``weights_file`` or
torchvision's cache file ``<torch.hub.get_dir()>/checkpoints/<file name of the weights
URL>``, the file ``torchvision.models.resnet18(weights="DEFAULT")`` would have saved.

Modes: ``feature_extraction`` freezes the backbone (no gradients, and its BatchNorm keeps
its ImageNet statistics even while the Sequential trains); ``fine_tune`` trains it too, at
the learning rate times ``backbone_lr_scale`` (see
:func:`workbench.core.train.optim.parameter_groups`).
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.registry import Entry, Param

# Smallest height/width: every arch halves the image five times; below 32x32 the last
# stages see less than one pixel (vgg16 fails outright, the others learn nothing useful).
MIN_SIZE = 32


class Backbone(nn.Module):
    """A torchvision ImageNet classifier without its head: image in, flat features out.

    Parameters
    ----------
    arch
        ``"resnet18"``, ``"resnet50"``, ``"mobilenet_v3_small"``, ``"efficientnet_b0"`` or
        ``"vgg16"``.
    weights
        ``"auto"``, ``"pretrained"`` or ``"random"``: which weights :meth:`load_pretrained`
        is meant to give (construction itself always gives random ones and reads no file).
    weights_file
        Path of the pretrained weights; ``""``: torchvision's cache file.
    mode
        ``"feature_extraction"`` (frozen, BatchNorm in eval mode) or ``"fine_tune"``.
    backbone_lr_scale
        Fine-tune only: the backbone's learning rate is the optimizer's times this.

    Notes
    -----
    The torchvision model is the attribute ``net``, so state_dict keys are torchvision's own
    under ``net.`` (``"0.net.layer1.0.conv1.weight"``). The class imports nothing but torch
    and torchvision, so code export can copy it as is.
    """

    # Per arch: the head attribute replaced by nn.Identity, and the feature size it received.
    HEADS = {"resnet18": ("fc", 512), "resnet50": ("fc", 2048),
             "mobilenet_v3_small": ("classifier", 576), "efficientnet_b0": ("classifier", 1280),
             "vgg16": ("classifier", 25088)}

    def __init__(self, arch: str = "resnet18", weights: str = "auto", weights_file: str = "",
                 mode: str = "feature_extraction", backbone_lr_scale: float = 0.1):
        super().__init__()
        if arch not in self.HEADS:
            raise ValueError(f"unknown backbone {arch!r}; choose one of {', '.join(self.HEADS)}")
        self.arch, self.weights, self.weights_file = arch, weights, weights_file
        self.mode, self.backbone_lr_scale = mode, float(backbone_lr_scale)
        self.net = self._make(arch)
        # Pretrained weights replace whatever a global init scheme would draw: skip it (for
        # vgg16 that is 14M values drawn for nothing). Random weights keep torchvision's own
        # initialisation unless the experiment's scheme says otherwise.
        self.workbench_keep_init = weights != "random"
        if self.frozen:
            self.net.requires_grad_(False)

    @classmethod
    def _make(cls, arch: str) -> nn.Module:
        import torchvision

        head = cls.HEADS[arch][0]
        if arch != "vgg16":
            net = torchvision.models.get_model(arch, weights=None)
            setattr(net, head, nn.Identity())
            return net
        # vgg16's classifier holds 124M of its 138M parameters: initialising them only to
        # throw them away takes seconds and half a gigabyte. Build on the meta device, drop
        # the head, then allocate and initialise what is left as torchvision does.
        device = torch.empty(0).device  # the ambient default (meta during shape inference)
        with torch.device("meta"):
            net = torchvision.models.vgg16(weights=None)
        net.classifier = nn.Identity()
        net.to_empty(device=device)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
        return net

    @property
    def frozen(self) -> bool:
        """True in feature-extraction mode: the backbone is not trained."""
        return self.mode == "feature_extraction"

    @property
    def lr_scale(self) -> float:
        """Factor on the optimizer's learning rate for this layer's parameters."""
        return self.backbone_lr_scale if self.mode == "fine_tune" else 1.0

    def weights_url(self) -> str:
        """Where torchvision downloads this arch's default ImageNet weights from."""
        import torchvision

        return torchvision.models.get_model_weights(self.arch).DEFAULT.url

    def pretrained_path(self) -> "Path":
        """The file :meth:`load_pretrained` reads: ``weights_file`` or torchvision's cache."""
        # Imported here, like torchvision, so the class stands alone when exported.
        import os
        from pathlib import Path
        from urllib.parse import urlparse

        if self.weights_file:
            return Path(os.path.expanduser(self.weights_file))
        name = os.path.basename(urlparse(self.weights_url()).path)
        return Path(torch.hub.get_dir()) / "checkpoints" / name

    def load_pretrained(self, path: "str | os.PathLike | None" = None) -> "Path":
        """Copy pretrained weights into the backbone; returns the file read.

        The file's classifier head (ImageNet's 1000 classes) is dropped. A checkpoint that
        wraps the state_dict (``{"state_dict": ...}``, ``{"model": ...}``) or saved it from
        DistributedDataParallel (``"module."`` prefixes) is accepted too.

        Raises
        ------
        FileNotFoundError
            The file does not exist.
        ValueError
            It cannot be read as PyTorch weights, or does not hold this arch's weights.
        """
        from pathlib import Path

        path = Path(path) if path is not None else self.pretrained_path()
        if not path.is_file():
            raise FileNotFoundError(str(path))
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # pickle, zip and I/O errors all mean "not a weights file"
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"cannot be read as PyTorch weights ({reason[:200]})") from None
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                                  for v in state.values()):
            raise ValueError("holds no state_dict (a mapping of names to tensors)")
        head = self.HEADS[self.arch][0] + "."
        state = {k.removeprefix("module."): v for k, v in state.items()}
        state = {k: v for k, v in state.items() if not k.startswith(head)}
        own = self.net.state_dict()
        missing = [k for k in own if k not in state]
        extra = [k for k in state if k not in own]
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        for keys, what in ((missing, "lacks"), (extra, "has unexpected"), (wrong, "has a wrong "
                                                                           "shape for")):
            if keys:
                more = f" and {len(keys) - 1} more" if len(keys) > 1 else ""
                raise ValueError(f"{what} {keys[0]!r}{more}: it is not {self.arch} weights")
        self.net.load_state_dict(state)
        return path

    def train(self, mode: bool = True) -> "Backbone":
        super().train(mode)
        if self.frozen:
            # A frozen backbone keeps its BatchNorm statistics and switches dropout off:
            # the features the head learns from must not drift with the new data's batches.
            self.net.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}, mode={self.mode!r}"


ARCHS = tuple(Backbone.HEADS)


def _check(params: dict[str, Any], shape: tuple[int, ...]) -> str | None:
    c, h, w = shape
    arch = params["arch"]
    if c != 3:
        return (f"expects RGB images (3 channels) as {arch} was trained on, but receives "
                f"{c} channel{'s' if c != 1 else ''}: set data.channels to 3 (grayscale "
                f"images are converted)")
    if h < MIN_SIZE or w < MIN_SIZE:
        return (f"gets a {h}x{w} input, smaller than the {MIN_SIZE}x{MIN_SIZE} {arch} needs: "
                f"set data.input_size to at least {MIN_SIZE}x{MIN_SIZE} (224x224 is what it "
                f"was pretrained at)")
    return None


def _shape(params: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
    return (Backbone.HEADS[params["arch"]][1],)


@functools.lru_cache(maxsize=64)
def _arch_macs(arch: str, h: int, w: int) -> int:
    """Multiply-adds of ``arch`` at h x w, counted as the layer registry counts them.

    Convolutions and linear layers count their weight multiplications, normalisation one
    per element; measured by one forward pass on the meta device (shapes only, no maths).
    Cached: the Model panel re-infers shapes on every edit.
    """
    total = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * (module.in_channels // module.groups) * k
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            total += inputs[0][0].numel()

    with torch.device("meta"):
        net = Backbone(arch, weights="random").eval()
        hooks = [m.register_forward_hook(count) for m in net.modules()]
        net(torch.empty((1, 3, h, w)))
    for hook in hooks:
        hook.remove()
    return total


def _macs(params: dict[str, Any], shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    return _arch_macs(params["arch"], shape[1], shape[2])


_PARAMS = (
    Param("arch", str, "resnet18", choices=ARCHS,
          help="The pretrained network: resnet18 (fast, 11M parameters), resnet50 (stronger, "
               "slower), mobilenet_v3_small (smallest, for CPUs), efficientnet_b0 (accurate "
               "for its size), vgg16 (large, 25088 features)."),
    Param("weights", str, "auto", choices=("auto", "pretrained", "random"),
          help="auto: ImageNet weights if the file is on this machine, else random weights "
               "with a warning; pretrained: stop if the file is missing; random: train from "
               "scratch. Never downloaded."),
    Param("weights_file", str, "",
          help="Path of the .pth weights file; empty: torchvision's cache "
               "(~/.cache/torch/hub/checkpoints, or $TORCH_HOME/hub/checkpoints)."),
    Param("mode", str, "feature_extraction", choices=("feature_extraction", "fine_tune"),
          help="feature_extraction: keep the backbone fixed and train only the layers after "
               "it (fast, good for small datasets); fine_tune: train it too, gently."),
    Param("backbone_lr_scale", float, 0.1, min=0.0, max=1.0,
          help="fine_tune only: the backbone learns at the learning rate times this; 0.1 "
               "keeps its pretrained features from being wrecked early on."),
)

#: The "Backbone" layer entry; :mod:`.layers` adds it to :data:`~.layers.LAYERS`, last.
BACKBONE = Entry(
    "Backbone", Backbone, _PARAMS,
    "Pretrained backbone (transfer learning): a torchvision ImageNet network without its "
    "classifier; turns an RGB image into flat features. Follow it with Linear(auto) as the "
    "new head.", "pretrained",
    {"input": "image", "auto": {}, "check": _check, "shape": _shape, "macs": _macs,
     "torch": f"{__name__}.Backbone", "export_always": ("arch",)})


def backbone_preprocessing(arch: str) -> dict[str, Any]:
    """The input preprocessing ``arch``'s pretrained weights expect.

    Returns
    -------
    dict
        ``{"mean": [r, g, b], "std": [r, g, b], "input_size": [h, w], "resize_size": n}``
        from the torchvision weights' evaluation transforms: ImageNet's mean and standard
        deviation, the crop size it was evaluated at (``input_size``) and the size its
        shorter side is resized to first.

    Raises
    ------
    WorkbenchError
        For an unknown arch.
    """
    if arch not in Backbone.HEADS:
        raise WorkbenchError(f"unknown backbone {arch!r}: choose one of {', '.join(ARCHS)}")
    import torchvision

    t = torchvision.models.get_model_weights(arch).DEFAULT.transforms()
    crop = list(t.crop_size) * (2 if len(t.crop_size) == 1 else 1)
    return {"mean": [float(v) for v in t.mean], "std": [float(v) for v in t.std],
            "input_size": [int(v) for v in crop[:2]], "resize_size": int(t.resize_size[0])}


def _label(index: int, arch: str) -> str:
    return f"layer {index + 1} (Backbone {arch})"


def _status(index: int, module: Backbone, load: bool) -> str | None:
    """Load (or, with ``load`` off, look for) one backbone's weights; the note to show."""
    label, arch = _label(index, module.arch), module.arch
    if module.weights == "random":
        if module.frozen:
            return (f"{label}: random weights in feature_extraction mode: the frozen backbone "
                    f"gives random features and only the layers after it learn; choose mode "
                    f"fine_tune, or weights auto or pretrained")
        return None
    path, url = module.pretrained_path(), module.weights_url()
    if not path.is_file():
        if module.weights == "pretrained":
            raise WorkbenchError(
                f"{label}: pretrained weights not found at {path}. Put the file there "
                f"(download {url} on a machine with internet access), set weights_file to "
                f"where you saved it, or choose weights 'random' to train from scratch")
        return (f"{label}: no pretrained weights found at {path}; training from random "
                f"weights (to use ImageNet weights, download {url} to that path)")
    if not load:
        return f"{label}: pretrained weights will be loaded from {path}"
    try:
        module.load_pretrained(path)
    except (OSError, ValueError) as e:
        raise WorkbenchError(
            f"{label}: the weights file {path} {e}. Point weights_file at the {arch} file "
            f"({url}), or choose weights 'random' to train from scratch") from None
    return f"{label}: pretrained weights loaded from {path}"


def _backbones(model: nn.Module) -> list[tuple[int, Backbone]]:
    children = list(model.children()) if isinstance(model, nn.Sequential) else [model]
    return [(i, m) for i, m in enumerate(children) if isinstance(m, Backbone)]


def load_backbone_weights(model: nn.Module) -> list[str]:
    """Load the pretrained weights of every Backbone layer of ``model``, as each asks.

    Call it after the initialisation scheme has run (which would overwrite them).

    Parameters
    ----------
    model
        The built ``nn.Sequential`` (or a lone :class:`Backbone`).

    Returns
    -------
    list[str]
        One note per backbone for the user: weights loaded from where, or (``auto``) not
        found so training starts from random weights, or frozen random features.

    Raises
    ------
    WorkbenchError
        ``weights="pretrained"`` and the file is missing (naming the path to put it at and
        the URL to get it from), or a file that is not this arch's weights.
    """
    notes = [_status(i, m, load=True) for i, m in _backbones(model)]
    return [n for n in notes if n]


def backbone_notes(layers: Sequence[Any]) -> list[str]:
    """What training will do about each Backbone layer's weights, without loading any.

    Parameters
    ----------
    layers
        The experiment's layer Components; invalid Backbone parameters are skipped (the
        shape inference reports them).

    Returns
    -------
    list[str]
        One note per Backbone layer that has something to say; a missing file with
        ``weights="pretrained"`` is a note here (training will stop on it).
    """
    entry, notes = BACKBONE, []
    for i, comp in enumerate(layers):
        if getattr(comp, "type", None) != "Backbone":
            continue
        try:
            params = entry.validate(comp.params)
        except WorkbenchError:
            continue
        with torch.device("meta"):  # only the attributes are needed: no memory, no init
            module = Backbone(**params)
        try:
            note = _status(i, module, load=False)
        except WorkbenchError as e:
            note = f"{e} (training will stop on this)"
        if note:
            notes.append(note)
    return notes


__all__ = ["ARCHS", "BACKBONE", "MIN_SIZE", "Backbone", "backbone_notes", "backbone_preprocessing",
           "load_backbone_weights"]
