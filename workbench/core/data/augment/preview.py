"""What the augmentation pipelines do to images, as arrays for display (headless).

The Augment panel shows these; :mod:`scripts.bench_preview` times them. Every function
builds the pipelines from the experiment exactly as training does, then undoes the final
normalisation by ``data.mean`` / ``data.std`` so the result can be shown. The training
draws go the way training goes: the cached prefix of
:func:`~workbench.core.data.augment.pipeline.split_pipeline` (with RandomResizedCrop, the
image resized to the crop's size first), then the batch-wise rest; only a pipeline that
does not split runs whole, per image
(:func:`~workbench.core.data.augment.transforms.build_train_transform`), as training runs it.

Random draws use a private, seeded copy of torch's generator state
(:func:`torch.random.fork_rng`), so a preview is repeatable for a given seed and leaves
the global random state as it was.
"""

from __future__ import annotations

import functools
import os
import random
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch
from PIL import Image

from workbench.core.errors import WorkbenchError
from workbench.core.data.augment.pipeline import NotSplittable, decode_side, split_pipeline
from workbench.core.data.images import load_image

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment


def to_display(x: torch.Tensor, exp: "Experiment") -> np.ndarray:
    """A normalised float tensor (C, H, W) -> uint8 array (H, W, C) for display.

    Undoes ``(x - data.mean) / data.std`` and clips to [0, 255].
    """
    c = x.shape[0]
    mean = _per_channel(exp.data.mean, c)
    std = _per_channel(exp.data.std, c)
    x = x.detach().float().cpu() * std[:, None, None] + mean[:, None, None]
    arr = (x.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
    return np.ascontiguousarray(arr.permute(1, 2, 0).numpy())


def _per_channel(values: Sequence[float], c: int) -> torch.Tensor:
    vals = [float(v) for v in values]
    if len(vals) == 1:
        vals = vals * c
    return torch.tensor(vals[:c], dtype=torch.float32)


def augment_tiles(exp: "Experiment", image: Image.Image, n: int = 16,
                  seed: int = 0) -> list[np.ndarray]:
    """``n`` independent draws of the training pipeline applied to ``image``, made as
    training makes them: ``image`` through the cached prefix once, then the batch-wise
    rest on ``n`` copies (the whole pipeline per draw where it does not split).

    Parameters
    ----------
    exp
        Its ``augment.transforms`` and ``data`` (input size, channels, mean, std).
    image
        Any PIL image, decoded as training decodes it (:func:`open_preview_image`); it is
        converted to the experiment's channels like training data.
    n
        Number of draws.
    seed
        Same seed, same tiles.

    Returns
    -------
    list of numpy.ndarray
        ``n`` uint8 arrays (H, W, C), (H, W) = ``data.input_size``, C = ``data.channels``,
        un-normalised for display. Batch-level steps (MixUp, CutMix) are not applied here:
        see :func:`batch_preview`.

    Raises
    ------
    SpecError
        When the augmentation list or the data settings are not valid.
    """
    split = _training_split(exp)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        if split is None:  # the pipeline runs whole, per image, as training runs it
            from workbench.core.data.augment.transforms import build_train_transform

            transform = build_train_transform(exp)
            return [to_display(transform(image), exp) for _ in range(int(n))]
        if int(n) <= 0:
            return []
        x = split.train(_cached(split, image).expand(int(n), -1, -1, -1))
        return [to_display(x[i], exp) for i in range(len(x))]


def _training_split(exp: "Experiment") -> Any:
    """The pipeline split as training splits it, or None where training runs it whole
    (:class:`~.pipeline.NotSplittable`)."""
    try:
        return split_pipeline(exp)
    except NotSplittable:
        return None


def _cached(split: Any, image: Image.Image) -> torch.Tensor:
    """``image`` through the prefix, as the decoded-image cache holds it: a plain uint8
    tensor (C, H, W)."""
    return torch.as_tensor(split.prefix(image)).as_subclass(torch.Tensor)


def eval_view(exp: "Experiment", image: Image.Image) -> np.ndarray:
    """``image`` through the evaluation pipeline (what validation and prediction see),
    as a uint8 array (H, W, C)."""
    from workbench.core.data.augment.transforms import build_eval_transform

    return to_display(build_eval_transform(exp)(image), exp)


def mix_label(weights: Sequence[float], classes: Sequence[str], min_weight: float = 0.005
              ) -> str:
    """Soft target row -> text: ``"0.7 cat + 0.3 dog"``, or ``"cat"`` for a one-hot row."""
    pairs = sorted(((float(w), i) for i, w in enumerate(weights) if float(w) > min_weight),
                   reverse=True)
    if not pairs:
        return "?"
    if len(pairs) == 1:
        return _name(classes, pairs[0][1])
    return " + ".join(f"{w:.2f} {_name(classes, i)}" for w, i in pairs)


def _name(classes: Sequence[str], i: int) -> str:
    return classes[i] if 0 <= i < len(classes) else str(i)


def training_draw(exp: "Experiment", index: Any, seed: int = 0) -> list[tuple[str, int]]:
    """The training split of ``index`` in the order one epoch of training draws it.

    The split is the run's (:func:`~workbench.core.data.split.split_for`: ``data``'s
    split settings, less ``data.exclude``), so validation images never appear. With
    ``data.balance == "weighted_sampler"`` the order is a draw of the sampler training
    uses (:func:`~workbench.core.data.dataset.balanced_sampler`: with replacement, every
    class equally likely); otherwise a seeded shuffle, as the training loader shuffles.

    Raises
    ------
    SpecError
        When the split settings are invalid (as training refuses them).
    """
    from workbench.core.data.dataset import balanced_sampler
    from workbench.core.data.split import split_for

    train, _ = split_for(index, exp.data)
    gen = torch.Generator().manual_seed(int(seed))
    if not train:
        return []
    if exp.data.balance == "weighted_sampler":
        sampler = balanced_sampler([label for _, label in train], len(index.classes),
                                   generator=gen)
        return [train[int(i)] for i in sampler]
    return [train[int(i)] for i in torch.randperm(len(train), generator=gen)]


def training_batch(exp: "Experiment", index: Any, n: int = 16, seed: int = 0
                   ) -> list[tuple[np.ndarray, str]]:
    """One training batch of ``index`` drawn as training draws it (:func:`training_draw`),
    then shown as :func:`batch_preview` shows it."""
    return batch_preview(exp, training_draw(exp, index, seed), list(index.classes), n=n,
                         seed=seed, shuffle=False)


def batch_preview(exp: "Experiment", samples: Sequence[tuple[str, int]],
                  classes: Sequence[str], n: int = 16, seed: int = 0, shuffle: bool = True
                  ) -> list[tuple[np.ndarray, str]]:
    """One augmented batch of ``samples`` as the model sees it, with its labels (for the
    training split, drawn as training draws it, see :func:`training_batch`).

    Parameters
    ----------
    exp
        The experiment; when it lists MixUp or CutMix they are applied to the batch
        (helper :func:`~workbench.core.data.augment.transforms.build_batch_transform`).
    samples
        ``(path, class index)`` pairs to draw the batch from.
    classes
        Class names, indexed by the samples' labels.
    n
        Batch size shown (fewer when there are fewer readable samples).
    seed
        Same seed, same batch.
    shuffle
        Draw from ``samples`` in a seeded random order; False takes them in the order
        given (already drawn, e.g. by :func:`training_draw`).

    Returns
    -------
    list of (numpy.ndarray, str)
        uint8 (H, W, C) images and label texts: the class name, or for blended images
        their mix, e.g. ``"0.70 cat + 0.30 dog"``. Unreadable files are skipped.
    """
    split = _training_split(exp)
    if split is None:
        from workbench.core.data.augment.transforms import build_train_transform

        transform = build_train_transform(exp)
    else:  # the cached prefix per image; the rest on the batch, below
        transform = functools.partial(_cached, split)
    rng = random.Random(int(seed))
    pool = list(samples)
    if shuffle:
        rng.shuffle(pool)
    xs, ys = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for path, label in pool:
            if len(xs) >= n:
                break
            try:
                img = load_image(path, exp.data.channels, min_side=decode_side(exp))
            except (WorkbenchError, OSError):
                continue
            xs.append(transform(img))
            ys.append(int(label))
        if not xs:
            return []
        x = torch.stack(xs)
        if split is not None:
            x = split.train(x)
        y = torch.tensor(ys)
        fn = _batch_fn(exp, len(classes))
        if fn is None:
            soft = torch.nn.functional.one_hot(y, max(len(classes), int(y.max()) + 1)).float()
        else:
            gen = torch.Generator().manual_seed(int(seed))
            x, soft = fn(x, y, generator=gen)
    return [(to_display(x[i], exp), mix_label(soft[i].tolist(), classes))
            for i in range(len(x))]


def _batch_fn(exp: "Experiment", num_classes: int) -> Any:
    try:
        from workbench.core.data.augment.transforms import build_batch_transform
    except ImportError:  # pragma: no cover  (batch-level augmentation not available)
        return None
    return build_batch_transform(exp, num_classes=num_classes)


def open_preview_image(path: str | os.PathLike, exp: "Experiment") -> Image.Image:
    """Decode an image for the preview as training decodes it, at the experiment's
    :func:`~.pipeline.decode_side` (raises ImageDecodeError)."""
    return load_image(path, exp.data.channels, min_side=decode_side(exp))
