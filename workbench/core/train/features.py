"""A frozen backbone's features, computed once per image and reused every epoch.

When the network starts with a pretrained ``Backbone`` in feature-extraction mode (frozen,
and in eval mode even while the layers after it train) and nothing random happens to an
image before it (the training pipeline after the cached prefix draws nothing, and there is
no MixUp or CutMix), the backbone gives an image the same features every epoch. Running it
again each epoch is most of a transfer-learning run's time. So, with
``training.feature_cache`` on ``auto``, :class:`FeatureCache` keeps them in RAM, by the
image's slot in the decoded-image cache: the first epoch runs the backbone once on each
image and stores its output (float32); after that the layers after the backbone
(``model[1:]``) train, and validate, on the stored features. The network, the bundle,
prediction and export are the same as without it: only where the backbone's output comes
from changes. Switched off, a seeded run gives the same weights up to float rounding (the
backbone saw other batch compositions).

With random augmentation each epoch shows the backbone other pixels, so the cache is off
and the run's notes say why, unless ``training.feature_views`` is K > 0 (Create ML's
approach): epoch e then uses augmented view (e - 1) mod K of each image, so the first K
epochs compute K views (each from a fresh random draw) and later epochs cycle through them;
validation (deterministic) is computed once. The features are not kept between sessions:
a continued run computes them again in its own first epochs (its notes say which). Features
that would not fit ``data.cache_budget_mb`` are kept in a file under the cache folder
instead (:func:`~workbench.core.io.cache_home`, its space reserved up front); it is deleted
as soon as it is open, so its space goes back when the run ends, however it ends (a kill
included), or, where an open file cannot be deleted (Windows), when the run ends and else by
the next run (:func:`remove_stale`). When even that cannot be had the backbone runs every
batch, with a note. It is off under torchrun.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core.data.cache import Batch


def plan_features(exp: Any, model: Any, split: Any, batch_transform: Any, dist: Any,
                  summary: Any, slots: int, start: int = 1,
                  end: int | None = None) -> tuple[int, str, str]:
    """How many views of each image's backbone features a run keeps (0: none), the note
    that says so (:func:`cached_note`; ``start``: this session's first epoch, past 1 when
    a run is continued; ``end``: its last), and the mode in words, as run.json records it
    ("cached", "cached, K augmented views", "computed every batch (WHY)"); both "" when the
    question does not arise (no frozen backbone first). Whether they fit in RAM is
    :func:`open_features`' to say."""
    layers = exp.model.layers
    if not layers or layers[0].type != "Backbone" or not getattr(model[0], "frozen", False):
        return 0, "", ""
    off = "Backbone features are computed every batch"
    if exp.training.feature_cache == "off":
        return 0, f"{off}: training.feature_cache is off.", every_batch("feature_cache off")
    if dist is not None:
        return 0, f"{off}: the feature cache is not used under torchrun.", \
            every_batch("under torchrun")
    if split is None:
        return 0, f"{off}: the images are not cached (the pipeline needs whole images).", \
            every_batch("images not cached")
    if batch_transform is not None:
        return 0, (f"{off}: MixUp or CutMix mixes images before the backbone, differently "
                   f"every epoch."), every_batch("MixUp or CutMix")
    views = int(exp.training.feature_views) if split.random else 1
    if views < 1:
        return 0, (f"{off}: the training augmentation is random, so the frozen backbone sees "
                   f"each image differently every epoch. Set training.feature_views to K to "
                   f"compute K augmented views of each image once and cycle through them "
                   f"(much faster), or drop the random steps to compute its features once."), \
            every_batch("random augmentation")
    if not summary.layers or not summary.layers[0].output_shape:
        return 0, f"{off}: the backbone's output shape is unknown.", \
            every_batch("output shape unknown")
    augmented = views > 1 or split.random
    return views, cached_note(views, augmented, start, end), \
        f"cached, {_augmented_views(views)}" if augmented else "cached"


def cached_note(views: int, augmented: bool, start: int = 1, end: int | None = None) -> str:
    """The note of a run whose backbone features are cached: ``views`` augmented views
    of each image (``augmented``) or its one set of features, computed from epoch
    ``start`` (this session's first: a continued run computes them again); only the epochs
    up to ``end``, the session's last (None: not known), are named."""
    start = max(1, int(start))
    last = start + (views - 1 if augmented else 0)  # the last epoch that computes features
    if end is not None:
        last = min(last, max(start, int(end)))
    later = end is None or int(end) > last
    again = ("continuing: the cached features are not kept between sessions; "
             if start > 1 else "")
    if augmented:
        many = _augmented_views(views)
        first = f"epoch {start} computes" if last == start else f"epochs {start}-{last} compute"
        some = "" if last - start + 1 == views else f"{last - start + 1} of "
        cycle = ", later epochs cycle through them" if later else ""
        if again:
            return (f"Backbone features cached, {many} of each image "
                    f"(training.feature_views); {again}{first} {some}the {many} again{cycle}.")
        return (f"Backbone features cached, {many} of each image "
                f"(training.feature_views): {first} {some}them{cycle}.")
    rest = "; later epochs train the layers after it on its stored features" if later else ""
    if again:
        return (f"Backbone features cached (training.feature_cache); {again}the frozen "
                f"backbone runs once per image again, in epoch {start}{rest}.")
    return (f"Backbone features cached: the frozen backbone runs once per image, in the "
            f"first epoch{rest} (training.feature_cache).")


def _augmented_views(views: int) -> str:
    """The words "K augmented views" ("1 augmented view"), as the notes and run.json say it."""
    return f"{views} augmented view{'s' if views != 1 else ''}"


def every_batch(why: str) -> str:
    """The feature mode of a run whose frozen backbone runs on every batch, and why."""
    return f"computed every batch ({why})"


def open_features(exp: Any, model: Any, slots: int, shape: tuple[int, ...],
                  views: int) -> tuple["FeatureCache | None", str]:
    """The run's :class:`FeatureCache` for ``model``, in RAM within ``data.cache_budget_mb``
    or else in a file, and a note when it is not in RAM (or cannot be had at all: None)."""
    from workbench.core.io import cache_home

    remove_stale(cache_home())  # a killed run's file, where it could not be deleted at once
    nbytes = 4 * slots * views * math.prod(shape)
    if nbytes <= int(exp.data.cache_budget_mb) << 20:
        return FeatureCache(model, slots, shape, views), ""
    size = f"{nbytes / 2**20:,.0f} MB"
    try:
        cache = FeatureCache(model, slots, shape, views, directory=cache_home())
    except OSError as e:
        return None, (f"Backbone features are computed every batch: they would take {size}, "
                      f"over data.cache_budget_mb, and no file could hold them "
                      f"({e.strerror or e}).")
    kept = f"The cached backbone features ({size}, over data.cache_budget_mb) are kept in"
    if cache.deleted:
        return cache, (f"{kept} a file in {cache.path.parent}, deleted at once: its space "
                       f"goes back when the run ends, however it ends.")
    return cache, f"{kept} {cache.path}, removed when the run ends (or by the next run)."


def remove_stale(directory: Path) -> None:
    """Delete the feature files in ``directory`` that no live run uses: named
    ``features-PID-…`` by a process that is gone (killed before it could delete its file),
    or without a PID (made by an older version). On Windows every other process's file is
    tried: a live run's is still open (its :class:`FeatureCache` keeps it mapped), so it
    cannot be deleted there and is left."""
    from workbench.core.data.archives import _alive

    try:
        files = list(Path(directory).glob("features-*.f32"))
    except OSError:
        return
    for file in files:
        pid, _, rest = file.name[len("features-"):].partition("-")
        owner = int(pid) if pid.isdigit() and rest else None
        if owner == os.getpid() or (owner is not None and os.name != "nt" and _alive(owner)):
            continue
        try:
            file.unlink()
        except OSError:  # open (Windows), or gone meanwhile
            pass


class FeatureCache:
    """The frozen backbone's output for each decoded-cache slot, filled as batches come.

    Parameters
    ----------
    model
        The run's network: ``backbone`` (its first layer) makes the features and ``head``
        (the layers after it, one Sequential made once) trains on them.
    slots
        How many images the decoded-image cache holds (train and validation).
    shape
        One image's feature shape (the backbone's output without the batch dimension).
    views
        Views kept per training image (validation keeps one).
    directory
        Keep the features in a file made in this folder (None: in RAM).

    Raises
    ------
    OSError
        When the file cannot be made or its space reserved (a full disk).
    """

    def __init__(self, model: Any, slots: int, shape: tuple[int, ...], views: int = 1,
                 directory: Path | None = None):
        self.backbone, self.head = model[0], model[1:]
        self.views = max(1, int(views))
        self.path: Path | None = None
        self.deleted = False  # the file deleted as soon as it was open (not on Windows)
        full = (self.views, slots, *shape)
        if directory is None:
            self.values = torch.empty(full, dtype=torch.float32)
        else:
            Path(directory).mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"features-{os.getpid()}-", suffix=".f32",
                                        dir=directory)
            self.path = Path(name)
            try:
                # Deleted while open, where the system allows it: the open file and then its
                # mapping keep the space until the process ends, however it ends, so a killed
                # run leaves nothing behind (elsewhere: :func:`remove_stale`).
                try:
                    self.path.unlink()
                    self.deleted = True
                except OSError:  # Windows: an open file cannot be deleted
                    pass
                # Reserved now: a memory-mapped write to a full disk would kill the process.
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(fd, 0, 4 * math.prod(full))
                with open(fd, "r+b", closefd=False) as file:
                    array = np.memmap(file, np.float32, "r+", shape=full)
            except OSError:
                self.path.unlink(missing_ok=True)
                raise
            finally:
                os.close(fd)
            self.values = torch.from_numpy(array)
        self.filled = torch.zeros((self.views, slots), dtype=torch.bool)
        self.computed = 0  # images the backbone has run on (for tests and the notes)

    def close(self) -> None:
        """Remove the features' file, if they have one (RAM goes with this object)."""
        if self.path is not None:
            self.values = torch.empty(0)  # unmapped first: Windows keeps a mapped file
            try:
                if not self.deleted:
                    self.path.unlink(missing_ok=True)
            except OSError:  # pragma: no cover  (left to the next run: remove_stale)
                pass

    def batch(self, trainer: Any, batch: Batch, train: bool,
              epoch: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(features, target, y)`` on the trainer's device for a loader batch in
        ``epoch``: stored features (of view ``(epoch - 1) % views`` when training), after
        running the backbone on the images whose view is not stored yet."""
        x, y, _ = batch
        slots = torch.as_tensor(np.asarray(batch.slots, dtype=np.int64))
        view = (epoch - 1) % self.views if train else 0
        missing = ~self.filled[view, slots]
        if bool(missing.any()):
            images, _, _ = trainer.batch_inputs(x[missing], y[missing], train)
            with torch.no_grad(), trainer.autocast():
                features = self.backbone(images)
            self.values[view, slots[missing]] = features.float().cpu()
            self.filled[view, slots[missing]] = True
            self.computed += int(missing.sum())
        device = trainer.device
        non_blocking = device.type == "cuda"
        y = y.to(device, non_blocking=non_blocking)
        return self.values[view, slots].to(device, non_blocking=non_blocking), y, y
