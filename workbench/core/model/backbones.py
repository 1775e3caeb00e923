"""Pretrained backbones: transfer learning from torchvision's and timm's ImageNet models.

One layer type, ``"Backbone"``, holds a whole torchvision classifier (resnet18, resnet50,
mobilenet_v3_small, efficientnet_b0 or vgg16) with its 1000-class head replaced by
``nn.Identity``, or a curated timm model (``timm/convnext_nano``, ...: :data:`TIMM`) built
without its head: it takes an RGB image and outputs flat features, so the layers after it
in the Sequential are the new head (usually one ``Linear``).

Weights are never downloaded. Building the layer gives random weights and reads no file (cheap,
so shape inference and loading a bundle, whose own weights replace them, cost nothing);
the Trainer then calls :func:`load_backbone_weights`, *after* the initialisation scheme has
run so a global scheme cannot overwrite pretrained weights. It reads ``weights_file`` or
torchvision's cache file ``<torch.hub.get_dir()>/checkpoints/<file name of the weights
URL>``, the file ``torchvision.models.resnet18(weights="DEFAULT")`` would have saved; for a
timm model, ``weights_file`` (``.safetensors``, ``.pth`` or ``.bin``) or the Hugging Face
cache's ``model.safetensors`` of its ``timm/<name>.<tag>`` repository, the file
``timm.create_model(name, pretrained=True)`` would have fetched. A Workbench run's bundle
or checkpoint as ``weights_file`` gives its Backbone layer's weights (a second stage of
transfer learning from a first). A file of another network is refused, naming a tensor it
lacks. Weight loading and notes are :mod:`.backbone_weights`'.

Modes: ``feature_extraction`` freezes the backbone (no gradients, and its BatchNorm keeps
its ImageNet statistics even while the Sequential trains); ``fine_tune`` trains it too, at
the learning rate times ``backbone_lr_scale`` (see
:func:`workbench.core.train.optim.parameter_groups`).
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.model.backbone_fit import MIN_SIZE, input_misfit, patch_size
from workbench.core.registry import Entry, Param


class DamagedWeightsError(ValueError):
    """A weights file whose bytes are cut short or damaged (its message says to download it
    again)."""


def weights_format(head: bytes) -> str | None:
    """What a weights file is by its first 9 bytes: ``"zip"`` (``torch.save`` since PyTorch
    1.6, numpy's .npz), ``"pickle"`` (older ``torch.save``, protocols 2 to 5),
    ``"safetensors"`` (its JSON header's length, 8 bytes little-endian, at most 100 MB as
    safetensors allows, then ``{``) or ``None``."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        return "pickle"
    if len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") <= 1e8:
        return "safetensors"
    return None


def _damaged(path: "os.PathLike", e: BaseException) -> bool:
    """Whether reading ``path`` failed on damaged bytes of a weights file (a PyTorch zip or
    pickle, or a safetensors file, by its first bytes), not on a file of another kind."""
    if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return False
    try:
        with open(path, "rb") as f:
            return weights_format(f.read(9)) is not None
    except OSError:
        return False


def _read_weights(path: "os.PathLike") -> Any:
    """What a weights file holds: a safetensors file (by its first bytes) read with
    safetensors, any other with ``torch.load(weights_only=True)``, which runs no code."""
    with open(path, "rb") as f:
        head = f.read(9)
    if weights_format(head) == "safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    return torch.load(path, map_location="cpu", weights_only=True)


def _run_weights(data: Any, arch: str, path: "os.PathLike") -> tuple[Any, str | None]:
    """A Workbench bundle's or run checkpoint's ``arch`` Backbone weights (its keys under
    that layer's ``"0.net."``, the prefix taken off) and what the file is, in words ("run
    NAME's bundle (epoch 5)"); any other file's ``data`` as it is, with None."""
    try:
        exp, checkpoint = data["experiment"], data.get("kind") == "workbench-checkpoint"
        weights = dict(data["model" if checkpoint else "state_dict"])
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        layers = {i: (c.get("params") or {}).get("arch", "resnet18")  # the default arch
                  for i, c in enumerate(exp["model"]["layers"]) if c.get("type") == "Backbone"}
        epoch = data.get("epoch") if checkpoint else info.get("epoch")
        what = (f"run {info.get('name') or exp.get('name')}'s "
                f"{'checkpoint ' + os.path.basename(path) if checkpoint else 'bundle'}"
                f"{f' (epoch {epoch})' if isinstance(epoch, int) else ''}")
    except (TypeError, ValueError, LookupError, AttributeError):  # not a Workbench file
        return data, None
    if arch not in layers.values():
        raise ValueError(f"is {what}, whose network has no {arch} Backbone layer" +
                         (f" (its backbone is {layers[min(layers)]})" if layers else "") +
                         f": it holds no {arch} weights")
    prefix = f"{min(i for i, a in layers.items() if a == arch)}.net."
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}, what


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

    # Per arch: the head attribute replaced by nn.Identity, and the feature size it received
    # (timm models are built without a head: num_classes=0).
    HEADS = {"resnet18": ("fc", 512), "resnet50": ("fc", 2048),
             "mobilenet_v3_small": ("classifier", 576), "efficientnet_b0": ("classifier", 1280),
             "vgg16": ("classifier", 25088), "timm/convnext_nano": ("", 640),
             "timm/efficientnet_b0": ("", 1280), "timm/mobilenetv3_large_100": ("", 1280),
             "timm/vit_tiny_patch16_224": ("", 192)}

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

    @staticmethod
    def _timm_args(arch: str) -> dict:
        # A ViT takes any input size (a multiple of its 16 px patches) rather than 224 only.
        return {"dynamic_img_size": True} if "vit_" in arch else {}

    @classmethod
    def _make(cls, arch: str) -> nn.Module:
        if arch.startswith("timm/"):
            import timm

            return timm.create_model(arch[5:], pretrained=False, num_classes=0,
                                     **cls._timm_args(arch))
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
        """Where torchvision (or timm, from the Hugging Face hub) downloads this arch's
        default ImageNet weights from."""
        if self.arch.startswith("timm/"):
            return f"https://huggingface.co/{self._hub_id()}"
        import torchvision

        return torchvision.models.get_model_weights(self.arch).DEFAULT.url

    def _hub_id(self) -> str:
        import timm

        return timm.models.get_pretrained_cfg(self.arch[5:]).hf_hub_id

    def pretrained_path(self) -> "Path":
        """The file :meth:`load_pretrained` reads: ``weights_file`` or torchvision's cache."""
        # Imported here, like torchvision, so the class stands alone when exported.
        import os
        from pathlib import Path
        from urllib.parse import urlparse

        if self.weights_file:
            return Path(os.path.expanduser(self.weights_file))
        if self.arch.startswith("timm/"):  # the Hugging Face cache, never the network
            from huggingface_hub import constants, try_to_load_from_cache

            found = try_to_load_from_cache(self._hub_id(), "model.safetensors")
            if isinstance(found, str):
                return Path(found)
            return (Path(constants.HF_HUB_CACHE) / f"models--{self._hub_id().replace('/', '--')}"
                    / "snapshots" / "<revision>" / "model.safetensors")
        name = os.path.basename(urlparse(self.weights_url()).path)
        return Path(torch.hub.get_dir()) / "checkpoints" / name

    def load_pretrained(self, path: "str | os.PathLike | None" = None) -> "Path":
        """Copy pretrained weights into the backbone; returns the file read.

        The file (``torch.save`` or safetensors) may wrap the state_dict (``{"state_dict":
        ...}``, ``{"model": ...}``) or hold DistributedDataParallel's ``"module."``
        prefixes; a Workbench bundle or run checkpoint gives its Backbone layer's weights,
        and ``weights_origin`` then says whose ("run NAME's bundle"). The classifier head
        (ImageNet's 1000 classes) is dropped; a timm model's file goes through timm's
        checkpoint filter for it first, where it has one (as ``timm.create_model`` does).

        Raises
        ------
        FileNotFoundError
            The file does not exist.
        DamagedWeightsError
            Its bytes cannot be read back: cut short or damaged.
        ValueError
            It is no weights file, or does not hold this arch's weights (missing, unexpected
            or wrongly shaped tensors are named).
        """
        from pathlib import Path

        path = Path(path) if path is not None else self.pretrained_path()
        if not path.is_file():
            raise FileNotFoundError(str(path))
        try:
            state = _read_weights(path)
        except Exception as e:  # pickle, zip, safetensors and I/O errors: not read
            raise self._load_error(path, e) from None
        state, self.weights_origin = _run_weights(state, self.arch, path)
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                                  for v in state.values()):
            raise ValueError("holds no state_dict (a mapping of names to tensors)")
        state = self._headless({k.removeprefix("module."): v for k, v in state.items()})
        own = self.net.state_dict()
        # A BatchNorm's batch count is optional: files from before PyTorch 0.4.1 lack it.
        missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
        extra = [k for k in state if k not in own]
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        for keys, what in ((missing, "lacks"), (extra, "has unexpected"), (wrong, "has a wrong "
                                                                           "shape for")):
            if keys:
                more = f" and {len(keys) - 1} more" if len(keys) > 1 else ""
                raise ValueError(f"{what} {keys[0]!r}{more}: it is not {self.arch} weights")
        self.net.load_state_dict(state)
        return path

    def _headless(self, state: dict) -> dict:
        """``state`` without its classifier head's tensors; a timm model's through timm's
        checkpoint filter for it first, where its module has one (convnext's and ViT's
        turn their original authors' key names and shapes into timm's)."""
        if not self.arch.startswith("timm/"):
            head = self.HEADS[self.arch][0] + "."
            return {k: v for k, v in state.items() if not k.startswith(head)}
        import importlib

        import timm

        name = self.arch[5:]
        module = importlib.import_module(timm.models.model_entrypoint(name).__module__)
        adapt = getattr(module, "checkpoint_filter_fn", None)
        try:
            state = adapt(dict(state), self.net) if adapt else state
        except Exception:  # noqa: BLE001  (another network's keys: the comparison names them)
            pass
        heads = timm.models.get_pretrained_cfg(name).classifier or ()
        heads = tuple(f"{h}." for h in ((heads,) if isinstance(heads, str) else heads))
        return {k: v for k, v in state.items() if not k.startswith(heads)}

    def _damaged_error(self) -> "DamagedWeightsError":
        try:
            url = self.weights_url()
        except Exception:  # noqa: BLE001  (an unknown timm arch: no URL to give)
            url = "where you got it"
        return DamagedWeightsError(f"is incomplete or damaged (a download cut short?): "
                                   f"delete it and download it again from {url}")

    def _load_error(self, path: "os.PathLike", e: BaseException) -> ValueError:
        """What ``torch.load``'s error on ``path`` means for a user. Torch's own words
        are not repeated: they advise ``weights_only=False``, which would run whatever
        code the file holds."""
        import pickle

        refused = re.search(r"GLOBAL ([\w.]+)", str(e)) \
            if isinstance(e, pickle.UnpicklingError) else None
        if refused:
            return ValueError(f"was refused: it asks to load {refused.group(1)}, and loading "
                              f"it could run code; Workbench reads only weights files of "
                              f"tensors")
        if _damaged(path, e):
            return self._damaged_error()
        return ValueError("cannot be read as PyTorch weights (it is not a PyTorch file)")

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
#: The timm models the palette offers: parameters (without the head) and pretrained size.
TIMM = {"timm/convnext_nano": "15.0M parameters, 224 px",
        "timm/efficientnet_b0": "4.0M parameters, 224 px",
        "timm/mobilenetv3_large_100": "4.2M parameters, 224 px",
        "timm/vit_tiny_patch16_224": "5.5M parameters, 224 px (any multiple of 16)"}
#: What the Backbone card shows beside each arch (parameters without the head, measured).
ARCH_NOTES = {"resnet18": "11.2M parameters, 224 px", "resnet50": "23.5M parameters, 224 px",
              "mobilenet_v3_small": "0.9M parameters, 224 px",
              "efficientnet_b0": "4.0M parameters, 224 px",
              "vgg16": "14.7M parameters, 224 px", **TIMM}


def _shape(params: dict[str, Any], shape: tuple[int, ...]) -> tuple[int, ...]:
    return (Backbone.HEADS[params["arch"]][1],)


@functools.lru_cache(maxsize=64)
def arch_counts(arch: str, h: int, w: int) -> tuple[int, int]:
    """Multiply-adds of ``arch`` at h x w, counted as the layer registry counts them, and
    the values its innermost modules output per image: about what fine-tuning it keeps for
    the backward pass (the memory hint's, :func:`~workbench.core.train.memory.estimate`).

    Convolutions and linear layers count their weight multiplications (a linear layer once
    per token or position it is applied to), normalisation one per element, and a
    transformer's attention (timm's ``Attention``: ``num_heads`` and ``head_dim``) its two
    matrix products, QKᵀ and AV, N² x dim each for N tokens; measured by one forward pass on
    the meta device (shapes only, no maths). Cached: the Model panel re-infers shapes on
    every edit.
    """
    total = values = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total, values
        if isinstance(output, torch.Tensor) and next(module.children(), None) is None:
            values += output[0].numel()
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * (module.in_channels // module.groups) * k
        elif isinstance(module, nn.Linear):
            total += output[0].numel() * module.in_features
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            total += inputs[0][0].numel()
        elif hasattr(module, "num_heads") and hasattr(module, "head_dim") and inputs:
            tokens = inputs[0].shape[1]
            total += 2 * tokens * tokens * module.num_heads * module.head_dim

    with torch.device("meta"):
        net = Backbone(arch, weights="random").eval()
        hooks = [m.register_forward_hook(count) for m in net.modules()]
        net(torch.empty((1, 3, h, w)))
    for hook in hooks:
        hook.remove()
    return total, values


def _macs(params: dict[str, Any], shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    return arch_counts(params["arch"], shape[1], shape[2])[0]


def _exported(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters exported code writes: not ``weights_file``, a path on this machine
    that the exported ``build_model()`` never reads (the bundle's weights replace the
    backbone's) and that would only say where the user keeps their files."""
    return {k: v for k, v in params.items() if k != "weights_file"}


_PARAMS = (
    Param("arch", str, "resnet18", choices=ARCHS, choice_notes=ARCH_NOTES,
          help="The pretrained network: resnet18 (fast, 11M parameters), resnet50 (stronger, "
               "slower), mobilenet_v3_small (smallest, for CPUs), efficientnet_b0 (accurate "
               "for its size), vgg16 (large, 25088 features); from timm: " +
               "; ".join(f"{k[5:]} ({v})" for k, v in TIMM.items()) + "."),
    Param("weights", str, "auto", choices=("auto", "pretrained", "random"),
          help="auto: ImageNet weights if the cache's file is on this machine, else random "
               "weights with a warning (a weights_file named must exist); pretrained: stop "
               "if the file is missing; random: train from scratch. Never downloaded."),
    Param("weights_file", str, "",
          help="Path of the weights file (.pth, .safetensors, .bin; or a Workbench run's "
               "bundle.pt or checkpoint, for its backbone's weights); training stops if it is "
               "missing. Empty: torchvision's cache (~/.cache/torch/hub/checkpoints, or "
               "$TORCH_HOME/hub/checkpoints; for timm, the Hugging Face cache)."),
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
    {"input": "image", "auto": {}, "check": input_misfit, "shape": _shape, "macs": _macs,
     "torch": f"{__name__}.Backbone", "export_always": ("arch",), "export": _exported})


__all__ = ["ARCHS", "BACKBONE", "MIN_SIZE", "TIMM", "Backbone", "patch_size", "weights_format"]
