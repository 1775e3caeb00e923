"""A pipeline split in two: a per-image prefix worth caching, and a batch-wise rest.

Every training and evaluation pipeline (:mod:`.transforms`) starts with steps that give
the same result every time they see an image: convert the channels, resize to a fixed
size, maybe crop the centre. Their output is what the decoded-image cache stores (as
uint8), so a file is decoded and resized once per run, not once per epoch. The steps
after them (random augmentation, scaling to float, normalisation) run on whole batches of
tensors, on the training device, with a random draw per image (:mod:`.batch_ops`) and the
scaling and normalisation fused into one operation.

:func:`split_pipeline` makes the split:

``exact``
    The deterministic prefix ends at a fixed size (the usual case: nothing but flips,
    rotations and colour changes, or a Resize/CenterCrop first). Cached or not, every
    image goes through exactly the same arithmetic as the per-image pipeline.
``presized``
    The first step that fixes the size is random (RandomResizedCrop) or comes after a
    random step. The cache then stores each image resized to that step's output size,
    and the random steps work on it: the crop is taken from the resized image rather than
    from the original (the "presizing" fastai uses). Evaluation, whose counterpart of a
    random crop is a resize to the same size, gives what the per-image pipeline gives up
    to rounding.
:class:`NotSplittable`
    Neither applies (e.g. a random rotation before a shorter-side resize and a centre
    crop): the full per-image pipeline runs every epoch, and the exception says why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
from torchvision.transforms import v2

from workbench.core.data.augment.batch_ops import PerSample, vectorize
from workbench.core.data.augment.transforms import _plan, _Step
from workbench.core.data.sizes import hw_text
from workbench.core.filenames import name_bytes

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

#: Bumped when what the cache stores for a given plan changes (forces a refill on disk).
#: 2: JPEGs are decoded at :func:`decode_side`, not in full.
CACHE_FORMAT = 2


def decode_side(exp: "Experiment", plans: tuple[list, list] | None = None) -> int:
    """The smallest width and height an image must be decoded at for ``exp``'s pipelines
    to lose nothing: twice the largest size any of their steps resizes or crops to (the
    input size, a Resize's shorter side, a crop's size).

    Training (the cache, or decoding every epoch), evaluation and prediction all decode
    at this size (:func:`~workbench.core.data.images.load_image`'s ``min_side``), so a
    bundle sees at prediction exactly the pixels it was trained on, and the antialiased
    resize after decoding still does the real work. ``plans``: the training and evaluation
    plans when the caller has them already.
    """
    train, evals = plans or (_plan(exp, train=True), _plan(exp, train=False))
    sides = [int(v) for v in exp.data.input_size]
    for step in train + evals:
        for size in (step.size, getattr(step.transform, "size", None)):
            if isinstance(size, int):
                sides.append(size)
            elif isinstance(size, (list, tuple)):
                sides.extend(int(v) for v in size if isinstance(v, int))
    return 2 * max(sides)


class FusedNormalize:
    """uint8 or float [0, 1] batch -> ``(x / 255 - mean) / std`` as float32, in one pass
    after the conversion (``x * a + b`` per channel)."""

    def __init__(self, mean: list[float], std: list[float], scale: bool):
        self.mean, self.std, self.scale = list(mean), list(std), scale
        m = torch.tensor(self.mean, dtype=torch.float64)
        s = torch.tensor(self.std, dtype=torch.float64)
        a = 1.0 / s / (255.0 if scale else 1.0)
        self._a = a.float().view(-1, 1, 1)
        self._b = (-m / s).float().view(-1, 1, 1)
        self._on: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        dev = x.device
        if dev not in self._on:
            self._on[dev] = (self._a.to(dev), self._b.to(dev))
        a, b = self._on[dev]
        return torch.addcmul(b, x.to(torch.float32), a)

    def __repr__(self) -> str:
        return f"FusedNormalize(mean={self.mean}, std={self.std}, scale={self.scale})"


@dataclass
class BatchPipeline:
    """The steps after the cached prefix, applied to a batch ``(B, C, H, W)`` of uint8
    images at the prefix's size; returns the normalised float32 batch the model sees.

    Input and output are C-contiguous whatever the batch's source: some ops (a contrast
    change's mean, a convolution's gradient) round differently on another memory layout,
    and the cache, the disk cache and decoding every epoch must give the same numbers.
    (Both are no-ops for a contiguous batch.)
    """

    ops: list[Callable[[torch.Tensor], torch.Tensor]]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x).contiguous()
        for op in self.ops:
            x = op(x)
        x = x.contiguous()
        return x.as_subclass(torch.Tensor) if type(x) is not torch.Tensor else x


@dataclass
class SplitPipeline:
    """:func:`split_pipeline`'s result.

    Attributes
    ----------
    prefix
        PIL image -> uint8 tensor ``(C, H, W)`` at ``size``: what the cache stores.
    size
        ``(h, w)`` of the prefix's output.
    channels
        C.
    train, eval
        The batch-wise rest of the training and evaluation pipelines.
    mode
        ``"exact"`` or ``"presized"`` (see the module's docstring).
    key
        Identifies what the prefix computes (steps, parameters, size, channels, decoding
        size): equal keys mean interchangeable cached images.
    texts
        One line per prefix step.
    decode_side
        The size files are decoded at before the prefix (:func:`decode_side`).
    random
        Whether the training rest draws random numbers (augments differently each time).
    """

    prefix: Callable[[Any], torch.Tensor]
    size: tuple[int, int]
    channels: int
    train: BatchPipeline
    eval: BatchPipeline
    mode: str
    key: str
    texts: list[str]
    decode_side: int = 0
    random: bool = False


class NotSplittable(Exception):
    """The pipeline cannot be split; ``str(e)`` says why, in words."""


def _prefix_length(steps: list[_Step]) -> int:
    n = 0
    for s in steps:
        if s.random or s.to_float or s.role in ("scale", "normalize"):
            break
        n += 1
    return n


def _size_after(steps: list[_Step]) -> Any:
    size: Any = None  # an image's own size is unknown until it is decoded
    for s in steps:
        if s.size != "keep":
            size = s.size
    return size


def _batch_pipeline(steps: list[_Step], mean: list[float], std: list[float]) -> BatchPipeline:
    ops: list[Callable[[torch.Tensor], torch.Tensor]] = []
    pending: list[Callable[[Any], Any]] = []  # consecutive steps with no batch form

    def flush() -> None:
        if pending:
            ops.append(PerSample(pending[0] if len(pending) == 1 else v2.Compose(pending)))
            pending.clear()

    body = [s for s in steps if s.role != "normalize"]
    scaled = False
    for i, s in enumerate(body):
        if s.role == "scale":
            if i == len(body) - 1:  # nothing between scaling and normalising: fuse them
                continue
            flush()
            ops.append(lambda x: x.to(torch.float32).mul_(1.0 / 255.0))
            scaled = True
            continue
        if not s.random:
            flush()
            ops.append(s.transform)  # deterministic: v2 applies it to a batch as to an image
            continue
        op = vectorize(s.transform)
        if op is None:
            pending.append(s.transform)
        else:
            flush()
            ops.append(op)
    flush()
    ops.append(FusedNormalize(mean, std, scale=not scaled))
    return BatchPipeline(ops)


def split_pipeline(exp: "Experiment") -> SplitPipeline:
    """Split the experiment's pipelines into a cached prefix and batch-wise rests.

    Raises
    ------
    NotSplittable
        When no prefix of fixed size exists (the reason in words).
    SpecError
        For a bad transform list, as :func:`~.transforms.build_train_transform`.
    """
    train = _plan(exp, train=True)
    evals = _plan(exp, train=False)
    n = _prefix_length(train)
    prefix = train[:n]
    size = _size_after(prefix)
    mode = "exact"
    if size is None or size == "keep":
        # Presize at the first step after the prefix that fixes the size, if it is a
        # random crop or a plain resize to an exact size.
        rest = train[n:]
        sizing = next((s for s in rest if s.size != "keep"), None)
        if sizing is None or sizing.size is None or \
                sizing.role not in ("RandomResizedCrop", "Resize", "fit"):
            raise NotSplittable(
                "the images' size is fixed only after a random step that needs the whole "
                "image; put a Resize to a fixed size first to allow caching")
        size = tuple(sizing.size)
        prefix = prefix + [_Step(f"Resize to {hw_text(size)} (cached size)",
                                 v2.Resize(list(size), antialias=True), size=size,
                                 role="presize")]
        mode = "presized"
    if [s.text for s in evals[:n]] != [s.text for s in train[:n]]:  # pragma: no cover
        raise NotSplittable("the evaluation pipeline does not start like the training one")
    # Presized: evaluation's counterpart of the random crop resizes to the cached size,
    # which v2 leaves as it is.
    eval_rest = evals[n:]
    mean = [float(v) for v in _normalize_of(train).mean]
    std = [float(v) for v in _normalize_of(train).std]
    texts = [s.text for s in prefix]
    side = decode_side(exp, (train, evals))
    key_text = "\n".join([f"format {CACHE_FORMAT}", f"channels {exp.data.channels}",
                          f"size {size[0]}x{size[1]}", f"decoded at {side}"] +
                         [f"{s.text}: {s.transform!r}" for s in prefix])
    return SplitPipeline(
        prefix=v2.Compose([s.transform for s in prefix]), size=(int(size[0]), int(size[1])),
        channels=int(exp.data.channels),
        train=_batch_pipeline(train[n:], mean, std),
        eval=_batch_pipeline(eval_rest, mean, std), mode=mode,
        key=hashlib.sha256(name_bytes(key_text)).hexdigest()[:24], texts=texts,
        decode_side=side, random=any(s.random for s in train[n:]))


def _normalize_of(steps: list[_Step]) -> v2.Normalize:
    return next(s.transform for s in steps if s.role == "normalize")
