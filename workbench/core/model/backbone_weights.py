"""A Backbone layer's pretrained weights: what each expects as input
(:func:`backbone_preprocessing`), and loading them (:func:`load_backbone_weights`) or saying
what training will do about them (:func:`backbone_notes`), never downloading anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.model.backbones import (ARCHS, BACKBONE, TIMM, Backbone,
                                            DamagedWeightsError, weights_format)


def backbone_preprocessing(arch: str) -> dict[str, Any]:
    """The input preprocessing ``arch``'s pretrained weights expect.

    Returns
    -------
    dict
        ``{"mean": [r, g, b], "std": [r, g, b], "input_size": [h, w], "resize_size": n}``
        from the torchvision weights' evaluation transforms (timm's pretrained configuration
        for a timm model): ImageNet's mean and standard
        deviation, the crop size it was evaluated at (``input_size``) and the size its
        shorter side is resized to first.

    Raises
    ------
    WorkbenchError
        For an unknown arch.
    """
    if arch not in Backbone.HEADS:
        raise WorkbenchError(f"unknown backbone {arch!r}: choose one of {', '.join(ARCHS)}")
    if arch in TIMM:  # timm's pretrained configuration says the same things
        import timm

        cfg = timm.models.get_pretrained_cfg(arch[5:])
        _, h, w = cfg.input_size
        return {"mean": [float(v) for v in cfg.mean], "std": [float(v) for v in cfg.std],
                "input_size": [int(h), int(w)],
                "resize_size": int(round(h / float(cfg.crop_pct or 1.0)))}
    import torchvision

    t = torchvision.models.get_model_weights(arch).DEFAULT.transforms()
    crop = list(t.crop_size) * (2 if len(t.crop_size) == 1 else 1)
    return {"mean": [float(v) for v in t.mean], "std": [float(v) for v in t.std],
            "input_size": [int(v) for v in crop[:2]], "resize_size": int(t.resize_size[0])}


def _label(index: int, arch: str) -> str:
    return f"layer {index + 1} (Backbone {arch})"


#: What :func:`weights_file_problem` says of a file cut short (a download that stopped).
INCOMPLETE = "is incomplete (a download cut short?)"


def _whole(f: Any, kind: str | None, head: bytes, size: int) -> bool:
    """Whether the open weights file ``f`` (``size`` bytes, of :func:`weights_format`'s
    ``kind``, starting with ``head``) has its end, by a cheap look: a zip ends with its
    end-of-central-directory record (in its last 22 bytes and a comment of up to 64 KiB);
    a safetensors file reaches where its JSON header says its last tensor ends. A download
    cut short does not. Other files are not judged (loading them says)."""
    if kind == "zip":
        f.seek(max(0, size - 22 - 0xFFFF))
        return b"PK\x05\x06" in f.read()
    if kind != "safetensors":
        return True
    length = int.from_bytes(head[:8], "little")
    if length > size - 8 or length > 1 << 24:  # cut within its header, or past reading
        return length <= size - 8
    f.seek(8)
    try:
        ends = [v["data_offsets"][1] for k, v in json.loads(f.read(length)).items()
                if k != "__metadata__"]
    except (ValueError, TypeError, LookupError, AttributeError):  # damaged: loading says so
        return True
    return 8 + length + max(ends, default=0) <= size


def weights_file_problem(path: "str | os.PathLike") -> str | None:
    """Why ``path`` cannot be a weights file, from a cheap look at it, or ``None``.

    Only its type, size, first bytes and where it ends are read (a zip's last 64 KiB, a
    safetensors file's JSON header; never the weights, so it is quick enough for the GUI
    thread): a folder, an unreadable or empty file, one that is neither a PyTorch file
    (zip or pickle) nor a safetensors file, or a zip or safetensors file cut short
    (:data:`INCOMPLETE`). A file that passes may still hold another arch's weights:
    loading them says so. A missing file is ``None`` too (the callers say where to put
    it).
    """
    path = Path(path)
    if path.is_dir():
        return "is a folder: choose the .pth or .safetensors weights file in it"
    if not path.exists():
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(9)
            kind = weights_format(head)
            whole = _whole(f, kind, head, size)
    except OSError as e:
        return f"cannot be read ({e.strerror or type(e).__name__}): check its permissions"
    if size == 0:
        return "is empty (0 bytes): it holds no weights"
    if not whole:
        return f"{INCOMPLETE}: its end is missing"
    if kind is not None:
        return None
    return (f"cannot be read as weights: its {size:,} byte{'s' if size != 1 else ''} are "
            f"neither a PyTorch file (.pth, .pt, .bin) nor a .safetensors file")


#: How a weights file's name ends (what the Backbone card's Choose… offers).
WEIGHTS_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")
#: The most entries of a folder :func:`weights_file_near` looks at.
NEAR_LOOKED_AT = 1000


def weights_file_near(path: "str | os.PathLike", arch: str) -> Path | None:
    """The weights file ``path`` (a weights_file that is missing, or a folder) most likely
    meant, or ``None``: for a missing file, of the files in its folder the one of the
    closest name among those naming ``arch`` (``resnet18-f37072fd.pth`` for
    ``resnt18.pth``), else one of a name that close (a typo: ``bird.pth`` for
    ``birds.pth``); for a folder, the file in it naming ``arch``, or its only weights file.
    Only files :func:`weights_file_problem` passes, and a quick look (the first
    :data:`NEAR_LOOKED_AT` entries): the model doctor offers it as a fix."""
    import difflib

    path = Path(os.path.expanduser(str(path)))
    folder = path if path.is_dir() else path.parent
    if path.exists() and not path.is_dir() or not folder.is_dir():
        return None
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e, _ in zip(entries, range(NEAR_LOOKED_AT))
                     if e.name.lower().endswith(WEIGHTS_SUFFIXES) and e.is_file()]
    except OSError:
        return None
    named = [n for n in names if arch.split("/")[-1].lower() in n.lower()]
    if path.is_dir():
        found = named if len(named) == 1 else names if len(names) == 1 else []
    else:
        found = difflib.get_close_matches(path.name, named, 1, 0.0) or \
            difflib.get_close_matches(path.name, names, 1, 0.9)
    return folder / found[0] if len(found) == 1 and \
        weights_file_problem(folder / found[0]) is None else None


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
    # A folder, or (before training: nothing is loaded here) a file that is no weights file.
    problem = weights_file_problem(path) if not load or path.is_dir() else None
    if problem:
        fix = (f"Delete it and download it again from {url}" if problem.startswith(INCOMPLETE)
               else f"Point weights_file at the {arch} file ({url})")
        raise WorkbenchError(f"{label}: the weights file {path} {problem}. {fix}, or choose "
                             f"weights 'random' to train from scratch")
    if not path.is_file():
        if module.weights_file:  # a file named is meant: a typo must not train on random
            raise WorkbenchError(
                f"{label}: the weights file {path} does not exist. Correct weights_file (a "
                f"typo, or the file moved?), put the {arch} weights there (download {url} on "
                f"a machine with internet access), or choose weights 'random' to train from "
                f"scratch")
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
    except DamagedWeightsError as e:  # its message says what to do: download it again
        raise WorkbenchError(f"{label}: the weights file {path} {e}") from None
    except (OSError, ValueError) as e:
        raise WorkbenchError(
            f"{label}: the weights file {path} {e}. Point weights_file at the {arch} file "
            f"({url}), or choose weights 'random' to train from scratch") from None
    module.loaded_from = str(path)  # what the run records (weights_record)
    origin = getattr(module, "weights_origin", None)
    if origin:  # a Workbench bundle or checkpoint: its backbone only
        return (f"{label}: the backbone weights of {origin} loaded from "
                f"{path} (the layers after it start afresh)")
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
        One note per backbone for the user: weights loaded from where (a Workbench
        bundle's or checkpoint's backbone: whose), or (``auto``, no ``weights_file``)
        none in the cache so training starts from random weights, or frozen random
        features.

    Raises
    ------
    WorkbenchError
        The file is missing with ``weights="pretrained"`` or a ``weights_file`` named
        (naming the path to put it at and the URL to get it from), a folder given as the
        file, a file cut short, or a file that is not this arch's weights.
    """
    notes = [_status(i, m, load=True) for i, m in _backbones(model)]
    return [n for n in notes if n]


def weights_record(model: nn.Module) -> str:
    """Where the weights of ``model``'s Backbone layers came from, in words, after
    :func:`load_backbone_weights`: ``"pretrained, loaded from PATH"`` (and ``" (the
    backbone weights of run NAME's bundle)"`` for a Workbench file), ``"random (no
    weights file at PATH)"`` or ``"random (weights set to random)"``; layers named when
    there are several; ``""`` without a Backbone layer. What run.json records."""
    words = []
    for i, m in _backbones(model):
        loaded, origin = getattr(m, "loaded_from", None), getattr(m, "weights_origin", None)
        word = ("random (weights set to random)" if m.weights == "random" else
                f"random (no weights file at {m.pretrained_path()})")
        if loaded:
            word = f"pretrained, loaded from {loaded}" + \
                (f" (the backbone weights of {origin})" if origin else "")
        words.append((_label(i, m.arch), word))
    if len(words) == 1:
        return words[0][1]
    return "; ".join(f"{label}: {word}" for label, word in words)


#: Backbones built on the meta device, by their parameters: the doctor's checks and the
#: card's notes ask after every edit, and each build takes tens of milliseconds.
_META: dict[str, Backbone] = {}


def _meta_backbone(params: dict[str, Any]) -> Backbone:
    """The Backbone of ``params`` (validated by ``BACKBONE``) on the meta device: only the
    attributes are needed, so no memory and no initialisation. Kept for the last few
    parameter sets (read, never changed, by its callers)."""
    key = repr(sorted(params.items()))
    module = _META.get(key)
    if module is None:
        with torch.device("meta"):
            module = Backbone(**params)
        while len(_META) >= 8:
            _META.pop(next(iter(_META)), None)
        _META[key] = module
    return module


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
        ``weights="pretrained"`` or a ``weights_file`` named, a folder, or a file that
        cannot be weights or is cut short (by :func:`weights_file_problem`'s quick look)
        is a note here (training will stop on it).
    """
    entry, notes = BACKBONE, []
    for i, comp in enumerate(layers):
        if getattr(comp, "type", None) != "Backbone":
            continue
        try:
            params = entry.validate(comp.params)
        except WorkbenchError:
            continue
        module = _meta_backbone(params)
        try:
            note = _status(i, module, load=False)
        except WorkbenchError as e:
            note = f"{e} (training will stop on this)"
        if note:
            notes.append(note)
    return notes


def weights_stop(params: dict[str, Any], index: int = 0) -> str | None:
    """What training will stop on about the weights of a Backbone layer with ``params`` (at
    ``index`` of the network), found without loading them, or ``None``: a file named (or,
    with weights pretrained, the cache's) that is missing, a folder, or a file that cannot
    be weights or is cut short (:func:`weights_file_problem`). ``None`` too for random
    weights, auto with no file, and parameters that do not validate."""
    try:
        params = BACKBONE.validate(params)
    except WorkbenchError:
        return None
    try:
        _status(index, _meta_backbone(params), load=False)
    except WorkbenchError as e:
        return str(e)
    return None


def frozen_without_weights(params: dict[str, Any]) -> bool:
    """Whether a Backbone layer with ``params`` would train frozen on random weights: mode
    feature_extraction with weights random, or auto with no weights_file named and none in
    the cache on this machine (False for parameters that do not validate: the shape
    inference reports those)."""
    try:
        params = BACKBONE.validate(params)
    except WorkbenchError:
        return False
    if params["mode"] != "feature_extraction":
        return False
    if params["weights"] == "random":
        return True
    module = _meta_backbone(params)
    try:
        # A file named but missing, a folder or a broken file is not "no weights":
        # training stops on it (the card says why), so fine-tuning on random weights is
        # not the advice.
        return params["weights"] == "auto" and not params["weights_file"] and \
            not module.pretrained_path().exists()
    except Exception:  # noqa: BLE001 - e.g. timm's cache lookup failing: say nothing
        return False


def expects_pretrained(params: dict[str, Any]) -> bool:
    """Whether a Backbone layer with ``params`` is meant to start from pretrained weights:
    weights pretrained, a weights_file named (training stops without it), or auto with
    the cache's file on this machine (False for random weights, auto with no file, and
    parameters that do not validate)."""
    try:
        params = BACKBONE.validate(params)
    except WorkbenchError:
        return False
    if params["weights"] == "random":
        return False
    if params["weights"] == "pretrained" or params["weights_file"]:
        return True
    module = _meta_backbone(params)
    try:
        return module.pretrained_path().is_file()
    except Exception:  # noqa: BLE001 - e.g. timm's cache lookup failing: say nothing
        return False


__all__ = ["backbone_notes", "backbone_preprocessing", "expects_pretrained",
           "frozen_without_weights", "load_backbone_weights", "weights_file_problem",
           "weights_record", "weights_stop"]
