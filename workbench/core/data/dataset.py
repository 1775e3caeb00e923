"""The torch Dataset and DataLoader over scanned samples; bad images are skipped, not fatal.

A file that fails to decode at training time (a scan without ``verify`` does not open
files) makes :class:`ImageDataset` return ``None`` in place of the tensor with the reason;
:func:`collate_skip_bad` drops it from the batch and hands the reason on, so the trainer can
report it (``Callback.on_skipped``) and carry on. An image too small for a step (a crop
larger than it) stops the run with the step's :class:`~.augment.common.ImageTooSmall`,
naming the image (:meth:`ImageDataset.too_small`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler
from torchvision.transforms import v2

from workbench.core.data.augment.common import ImageTooSmall
from workbench.core.errors import ImageDecodeError
from workbench.core.data.images import load_image

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

Sample = tuple[str, int]
Item = tuple["torch.Tensor | None", int, str]


class ImageDataset(Dataset):
    """Images from ``(path, label)`` samples, decoded lazily.

    Parameters
    ----------
    samples
        ``(path, label)`` pairs, e.g. one part of :func:`~.split.split_samples`.
    transform
        PIL image -> tensor, e.g. :func:`~.augment.transforms.build_train_transform`; ``None``
        gives the image as a float32 tensor in [0, 1] at its own size.
    channels
        1 or 3: images are converted to this many channels before the transform.
    min_side
        JPEGs are decoded at no less than this width and height (None: in full); see
        :func:`~.augment.pipeline.decode_side`.
    folder
        The dataset's folder (``data.folder``; a CSV file: its folder), to name an image
        as ``data.exclude`` does in the error of a step it is too small for.

    ``dataset[i]`` is ``(tensor, label, "")``, or ``(None, label, "path\\treason")`` when
    the file cannot be decoded: a bad image never raises. An image too small for a step
    raises its :class:`~.augment.common.ImageTooSmall`, naming the image.
    """

    def __init__(self, samples: Sequence[Sample], transform: Callable[[Any], torch.Tensor] | None,
                 channels: int, min_side: int | None = None, folder: str = ""):
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}")
        self.samples = list(samples)
        self.transform = transform if transform is not None else \
            v2.Compose([v2.PILToTensor(), v2.ToDtype(torch.float32, scale=True)])
        self.channels = channels
        self.min_side = min_side
        self.folder = folder

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Item:
        path, label = self.samples[i]
        try:
            img = load_image(path, self.channels, min_side=self.min_side)
        except ImageDecodeError as e:
            # The reason loses any tab so that the last tab separates it from the path
            # (which may contain tabs of its own).
            return None, int(label), f"{path}\t{e.reason.replace(chr(9), ' ')}"
        try:
            return self.transform(img), int(label), ""
        except ImageTooSmall as e:
            raise self.too_small(e, path) from None

    def too_small(self, error: ImageTooSmall, path: str) -> ImageTooSmall:
        """``error`` naming the image at ``path``, relative to the dataset's folder as
        ``data.exclude`` names it (whole when outside it): a folder of large photos with a
        few thumbnails stops at one of them, which the user can then find or exclude."""
        from workbench.core.runs.skipped import shown_path

        root = self.folder if os.path.isdir(self.folder) else os.path.dirname(self.folder)
        name = shown_path(path, root).replace(os.sep, "/")
        return ImageTooSmall(error.field, f"{error.problem}. The image is {name}; if only a "
                             f"few are this small, exclude them (data.exclude)", error.step)

    @property
    def targets(self) -> list[int]:
        """Labels in sample order (as ``ImageFolder.targets``)."""
        return [int(label) for _, label in self.samples]


def collate_skip_bad(batch: Sequence[Item]) -> tuple[torch.Tensor | None, torch.Tensor,
                                                     list[tuple[str, str]]]:
    """Collate ``ImageDataset`` items, dropping the ones that failed to decode.

    Returns
    -------
    (x, y, skipped)
        ``x`` is a ``(B, C, H, W)`` tensor and ``y`` a ``LongTensor[B]`` of the good
        items; ``skipped`` lists ``(path, reason)`` of the dropped ones. When every item
        failed, ``B`` is 0: ``x`` is ``None`` (no image gave the shape) and ``y`` is empty.
    """
    xs, ys, skipped = [], [], []
    for x, y, err in batch:
        if x is None:
            path, _, reason = err.rpartition("\t")
            skipped.append((path, reason))
        else:
            xs.append(x)
            ys.append(y)
    if not xs:
        return None, torch.empty(0, dtype=torch.long), skipped
    return torch.stack(xs), torch.tensor(ys, dtype=torch.long), skipped


def class_weights(labels: Sequence[int], num_classes: int) -> torch.Tensor:
    """Inverse class frequency of ``labels``, normalised so the classes' weights average 1.

    A class absent from ``labels`` gets weight 0 (it never appears as a target), and the
    others are normalised among themselves. Returns a float32 tensor of ``num_classes``.
    """
    counts = torch.bincount(torch.as_tensor(list(labels), dtype=torch.long),
                            minlength=num_classes)[:num_classes].double()
    w = torch.zeros(num_classes, dtype=torch.float64)
    present = counts > 0
    w[present] = 1.0 / counts[present]
    if present.any():
        w[present] *= int(present.sum()) / w[present].sum()
    return w.float()


def balanced_sampler(labels: Sequence[int], num_classes: int,
                     generator: torch.Generator | None = None) -> WeightedRandomSampler:
    """A sampler drawing ``len(labels)`` samples with replacement, every class equally
    likely (each sample weighted by the inverse of its class's frequency)."""
    labels = [int(v) for v in labels]
    per_class = class_weights(labels, num_classes).double()
    weights = per_class[torch.as_tensor(labels, dtype=torch.long)] if labels else \
        torch.zeros(0, dtype=torch.float64)
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                 generator=generator)


def make_loader(samples: Sequence[Sample], transform: Callable[[Any], torch.Tensor],
                exp: "Experiment", shuffle: bool, device: str | torch.device = "cpu",
                generator: torch.Generator | None = None,
                sampler: Any = None) -> DataLoader:
    """A DataLoader over ``samples`` with the experiment's batch size and workers.

    Batches are ``(x, y, skipped)`` from :func:`collate_skip_bad`. Memory is pinned when
    ``device`` is CUDA (for non-blocking copies). With ``exp.data.num_workers > 0`` the
    workers persist across epochs and are started with ``spawn``: forking a process that
    runs other threads (the GUI) can deadlock, and spawn behaves the same on every OS.
    Pass a seeded ``generator`` for a reproducible shuffle (and worker seeds). A
    ``sampler`` (e.g. :func:`balanced_sampler`) replaces shuffling.
    """
    from workbench.core.data.augment.pipeline import decode_side

    data = exp.data
    workers = int(data.num_workers)
    pin = torch.device(device).type == "cuda" and torch.cuda.is_available()
    kwargs: dict[str, Any] = {}
    if workers > 0:
        kwargs.update(persistent_workers=True, multiprocessing_context="spawn")
    return DataLoader(ImageDataset(samples, transform, data.channels, decode_side(exp),
                                   data.folder),
                      batch_size=int(data.batch_size), shuffle=shuffle and sampler is None,
                      sampler=sampler, num_workers=workers,
                      collate_fn=collate_skip_bad, pin_memory=pin, generator=generator,
                      **kwargs)
