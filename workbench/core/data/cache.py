"""The decoded-image cache: each image decoded, oriented, converted and resized once.

A training run spends most of its data time decoding the same JPEG and PNG files every
epoch. :class:`DecodedCache` keeps the output of a pipeline's deterministic prefix
(:func:`~.augment.pipeline.split_pipeline`: channels converted, resized to the input size) as
uint8, in one ``(N, C, H, W)`` array:

* in RAM when it fits ``data.cache_budget_mb``, kept for the next run in the same process
  (pressing Train again in the app starts warm);
* otherwise in a memory-mapped file under :func:`~workbench.core.io.cache_home`, kept
  between runs and processes (a second ``workbench train`` starts warm).

It fills as the first epoch asks for batches, decoding in one thread per core ahead of the
training step (Pillow and torch release the GIL while they work); later epochs only copy
bytes. What is cached is keyed by the prefix's steps, size and channels
(:attr:`SplitPipeline.key <.pipeline.SplitPipeline>`) and by the list of files; each
file's size and modification time are recorded when it is decoded, and a file that
changed since is decoded again. Files that fail to decode are remembered with the reason
and skipped, like everywhere else.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from workbench.core.errors import ImageDecodeError
from workbench.core.data.images import load_image
from workbench.core.data.augment.pipeline import SplitPipeline
from workbench.core.data.sizes import hw_text

EMPTY, FILLED, FAILED = 0, 1, 2

# The RAM cache of the last run, reused by the next run over the same files and prefix.
_last_ram: dict[str, "DecodedCache"] = {}
_last_ram_lock = threading.Lock()


def decode_threads() -> int:
    """How many threads decode images: one per core this process may run on (Pillow and
    torch release the interpreter lock while they work, so they run side by side)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 2)


def _signature(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (int(st.st_size), int(st.st_mtime_ns))


def _prefix_image(path: str, split: SplitPipeline) -> np.ndarray:
    """Decode ``path`` and run the pipeline's prefix: uint8 ``(C, H, W)``.

    Raises
    ------
    ImageDecodeError
        When the file cannot be decoded.
    """
    image = load_image(path, split.channels, min_side=split.decode_side or None)
    return torch.as_tensor(split.prefix(image)).numpy()


def _paths_digest(paths: Sequence[str]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(os.fsencode(p) + b"\0")
    return h.hexdigest()[:16]


class DecodedCache:
    """uint8 images ``(N, C, H, W)`` for ``paths``, computed by ``split.prefix``.

    Use :func:`open_cache`, which picks RAM or disk and reuses what a previous run left.

    Attributes
    ----------
    where
        ``"ram"`` or ``"disk"``.
    nbytes
        Size of the image array.
    """

    def __init__(self, paths: Sequence[str], split: SplitPipeline, where: str,
                 directory: Path | None = None, threads: int | None = None):
        self.paths = list(paths)
        self.split = split
        self.where = where
        self.directory = directory
        n = len(self.paths)
        h, w = split.size
        self.shape = (n, split.channels, h, w)
        self.nbytes = int(np.prod(self.shape, dtype=np.int64))
        self.reasons: dict[int, str] = {}
        self._lock = threading.Lock()
        if where == "disk":
            assert directory is not None
            self._open_disk(directory)
        else:
            self.images = np.zeros(self.shape, dtype=np.uint8)
            self.state = np.zeros(n, dtype=np.uint8)
            self.sigs = np.zeros((n, 2), dtype=np.int64)
        self._threads = max(1, threads or decode_threads())
        self._pool: ThreadPoolExecutor | None = None

    # -- storage -----------------------------------------------------------------------
    def _open_disk(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"key": self.split.key, "shape": list(self.shape),
                "paths": _paths_digest(self.paths)}
        meta_path = directory / "meta.json"
        fresh = True
        try:
            fresh = json.loads(meta_path.read_text()) != meta
        except (OSError, ValueError):
            pass
        n = self.shape[0]
        if not fresh:
            try:
                self.images = np.memmap(directory / "images.u8", np.uint8, "r+", shape=self.shape)
                self.state = np.memmap(directory / "state.u8", np.uint8, "r+", shape=(n,))
                self.sigs = np.memmap(directory / "sigs.i64", np.int64, "r+", shape=(n, 2))
                failed = json.loads((directory / "failed.json").read_text())
                self.reasons = {int(k): str(v) for k, v in failed.items()}
            except (OSError, ValueError):
                fresh = True
        if fresh:
            meta_path.unlink(missing_ok=True)  # invalid until the arrays exist
            self.images = np.memmap(directory / "images.u8", np.uint8, "w+", shape=self.shape)
            self.state = np.memmap(directory / "state.u8", np.uint8, "w+", shape=(n,))
            self.sigs = np.memmap(directory / "sigs.i64", np.int64, "w+", shape=(n, 2))
            self.reasons = {}
            (directory / "failed.json").write_text("{}")
            meta_path.write_text(json.dumps(meta))
        # A failure noted earlier is retried when the file changed; a bad slot (state says
        # failed but no reason survived) is retried too.
        for i in np.nonzero(np.asarray(self.state) == FAILED)[0]:
            if int(i) not in self.reasons:
                self.state[i] = EMPTY

    def revalidate(self) -> int:
        """Forget images whose file changed (size or modification time) since they were
        decoded; returns how many."""
        changed = 0
        state = np.asarray(self.state)
        for i in np.nonzero(state != EMPTY)[0]:
            if _signature(self.paths[i]) != tuple(int(v) for v in self.sigs[i]):
                self.state[i] = EMPTY
                self.reasons.pop(int(i), None)
                changed += 1
        return changed

    @property
    def done(self) -> int:
        """How many images are decoded or known to be unreadable."""
        return int(np.count_nonzero(np.asarray(self.state)))

    @property
    def unreadable(self) -> int:
        """How many of its files are known to be unreadable (not held, and skipped)."""
        return int(np.count_nonzero(np.asarray(self.state) == FAILED))

    def __len__(self) -> int:
        return self.shape[0]

    # -- filling and reading -----------------------------------------------------------
    def _decode(self, i: int) -> None:
        path = self.paths[i]
        sig = _signature(path)
        try:
            out = _prefix_image(path, self.split)
        except ImageDecodeError as e:
            with self._lock:
                self.reasons[i] = e.reason
            self.sigs[i] = sig
            self.state[i] = FAILED
            return
        self.images[i] = out
        self.sigs[i] = sig
        self.state[i] = FILLED  # after the pixels: a filled slot is always complete

    def ensure(self, slots: np.ndarray) -> None:
        """Decode the images of ``slots`` that are not cached yet (in parallel)."""
        missing = [int(i) for i in slots if self.state[i] == EMPTY]
        if not missing:
            return
        if len(missing) == 1 or self._threads == 1:
            for i in missing:
                self._decode(i)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wb-decode")
        for f in [self._pool.submit(self._decode, i) for i in missing]:
            f.result()

    def gather(self, slots: np.ndarray) -> tuple[torch.Tensor, np.ndarray, list[tuple[str, str]]]:
        """The images of ``slots`` (decoded first when needed).

        Returns
        -------
        (x, good, skipped)
            ``x`` a uint8 tensor ``(b, C, H, W)`` of the readable ones, ``good`` a bool
            mask over ``slots``, ``skipped`` the ``(path, reason)`` of the others.
        """
        slots = np.asarray(slots, dtype=np.int64)
        self.ensure(slots)
        good = np.asarray(self.state)[slots] == FILLED
        skipped = [(self.paths[i], self.reasons.get(int(i), "unreadable"))
                   for i in slots[~good]]
        x = torch.from_numpy(np.take(self.images, slots[good], axis=0))
        return x, good, skipped

    def flush(self) -> None:
        """Write a disk cache's state out (the pixels are in the page cache already)."""
        if self.where != "disk" or self.directory is None:
            return
        for arr in (self.images, self.sigs, self.state):
            arr.flush()
        with self._lock:
            failed = {str(k): v for k, v in self.reasons.items()}
        tmp = self.directory / "failed.json.tmp"
        tmp.write_text(json.dumps(failed))
        os.replace(tmp, self.directory / "failed.json")

    def close(self) -> None:
        """Stop the decoding threads and flush; a RAM cache stays usable for reuse."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.flush()

    def describe(self) -> str:
        mb = self.nbytes / 2**20
        where = "in RAM" if self.where == "ram" else f"on disk ({self.directory})"
        return f"{len(self):,} images at {hw_text(self.split.size)}, {mb:,.1f} MB {where}"


class Uncached:
    """The interface of :class:`DecodedCache` with nothing kept: each batch is decoded
    again (in parallel threads), for ``data.cache = "off"``. The same arithmetic and the
    same memory layout as the cache, so a run gives bit-identical numbers either way."""

    where = "off"

    def __init__(self, paths: Sequence[str], split: SplitPipeline, threads: int | None = None):
        self.paths = list(paths)
        self.split = split
        self._threads = max(1, threads or decode_threads())
        self._pool: ThreadPoolExecutor | None = None
        self.done = 0
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.paths)

    def _decode(self, i: int) -> np.ndarray | str:
        try:
            return _prefix_image(self.paths[i], self.split)
        except ImageDecodeError as e:
            return e.reason

    def gather(self, slots: np.ndarray) -> tuple[torch.Tensor, np.ndarray, list[tuple[str, str]]]:
        slots = np.asarray(slots, dtype=np.int64)
        if self._pool is None and self._threads > 1 and len(slots) > 1:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="wb-decode")
        items = list(self._pool.map(self._decode, slots.tolist())) if self._pool else \
            [self._decode(int(i)) for i in slots]
        good = np.array([not isinstance(v, str) for v in items], dtype=bool)
        skipped = [(self.paths[i], v) for i, v in zip(slots.tolist(), items)
                   if isinstance(v, str)]
        arrays = [v for v in items if not isinstance(v, str)]
        h, w = self.split.size
        # Copied into a C-contiguous (b, C, H, W) array, as the cache's slots are: a decoded
        # image is (H, W, C) in memory, np.stack would keep that layout, and a network fed
        # a channels-last batch rounds its gradients differently (other weights than the
        # cache's after a few steps).
        x = np.empty((len(arrays), self.split.channels, h, w), dtype=np.uint8)
        for j, a in enumerate(arrays):
            x[j] = a
        return torch.from_numpy(x), good, skipped

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def describe(self) -> str:
        return "off (data.cache is off: every image is decoded every epoch)"


def open_cache(paths: Sequence[str], split: SplitPipeline, mode: str = "auto",
               budget_mb: int = 4096, directory: Path | None = None,
               threads: int | None = None) -> tuple[DecodedCache | Uncached, str]:
    """A cache for ``paths``, or an :class:`Uncached` source with the reason in words.

    Parameters
    ----------
    mode
        ``"auto"`` (RAM when the images fit ``budget_mb``, else disk), ``"disk"`` or
        ``"off"``.
    directory
        Parent folder of disk caches (default ``cache_home()/decoded``).

    Returns
    -------
    (cache, note)
        ``note`` says where the cache is, or why there is none.
    """
    if mode == "off":
        off = Uncached(paths, split, threads)
        return off, off.describe()
    h, w = split.size
    need = len(paths) * split.channels * h * w
    if mode == "auto" and need <= budget_mb * 2**20:
        key = split.key + _paths_digest(paths)
        with _last_ram_lock:
            cache = _last_ram.get(key)
            if cache is None:
                _last_ram.clear()  # one RAM cache at a time: drop the previous dataset's
                cache = DecodedCache(paths, split, "ram", threads=threads)
                _last_ram[key] = cache
            else:
                cache.revalidate()
        return cache, cache.describe()
    if directory is None:
        from workbench.core.io import cache_home

        directory = cache_home() / "decoded"
    folder = Path(directory) / f"{split.key}-{_paths_digest(paths)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        existing = (folder / "images.u8").stat().st_size if (folder / "images.u8").exists() \
            else 0
        if need - existing > free - 256 * 2**20:
            return Uncached(paths, split, threads), (f"off: {need / 2**30:.1f} GB of decoded images do not fit in RAM "
                          f"(data.cache_budget_mb {budget_mb}) nor on the disk of {folder} "
                          f"({free / 2**30:.1f} GB free); free some space or set "
                          f"WORKBENCH_CACHE to a larger disk")
        cache = DecodedCache(paths, split, "disk", folder, threads=threads)
    except OSError as e:
        return Uncached(paths, split, threads), (f"off: cannot write the disk cache in "
                                                 f"{folder}: {e.strerror or e}")
    cache.revalidate()
    return cache, cache.describe()


class Batch(tuple):
    """A loader batch ``(x, y, skipped)`` that also knows the cache slot of each image of
    ``x`` (:attr:`slots`), by which other per-image results are kept (backbone features)."""

    slots: np.ndarray


class CachedBatches:
    """Batches ``(x_uint8, y, skipped)`` from a :class:`DecodedCache`, one batch ahead (each
    a :class:`Batch`).

    Parameters
    ----------
    cache
        The cache holding every sample of the dataset.
    slots
        The cache slot of each sample of this split; ``labels`` their labels.
    shuffle, generator, sampler
        As :class:`torch.utils.data.DataLoader`'s (a ``sampler`` yields positions in
        ``slots``; a seeded ``generator`` makes the order reproducible).
    pin
        Pin each batch's memory (for non-blocking copies to a CUDA device).

    The next batch is gathered (and, in the first epoch, decoded) in a background thread
    while the caller trains on the current one.
    """

    def __init__(self, cache: DecodedCache | Uncached, slots: Sequence[int], labels: Sequence[int],
                 batch_size: int, shuffle: bool = False,
                 generator: torch.Generator | None = None, sampler: Any = None,
                 pin: bool = False):
        self.cache = cache
        self.slots = np.asarray(slots, dtype=np.int64)
        self.labels = torch.as_tensor(list(labels), dtype=torch.long)
        self.batch_size = int(batch_size)
        self.shuffle, self.generator, self.sampler, self.pin = shuffle, generator, sampler, pin

    def __len__(self) -> int:
        # A sampler sets the epoch's length (a distributed one yields this rank's shard).
        n = len(self.sampler) if hasattr(self.sampler, "__len__") else len(self.slots)
        return (n + self.batch_size - 1) // self.batch_size

    def _order(self) -> np.ndarray:
        n = len(self.slots)
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        if self.shuffle:
            return torch.randperm(n, generator=self.generator).numpy()
        return np.arange(n, dtype=np.int64)

    def _batch(self, pos: np.ndarray) -> Batch:
        x, good, skipped = self.cache.gather(self.slots[pos])
        y = self.labels[torch.from_numpy(pos[good])]
        if self.pin:
            x = x.pin_memory()
        batch = Batch((x, y, skipped))
        batch.slots = self.slots[pos][good]
        return batch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, list]]:
        order = self._order()
        starts = range(0, len(order), self.batch_size)
        if not len(order):
            return
        with ThreadPoolExecutor(1, thread_name_prefix="wb-batches") as ahead:
            pending = None
            try:
                for s in starts:
                    current = pending if pending is not None else \
                        ahead.submit(self._batch, order[s:s + self.batch_size])
                    nxt = s + self.batch_size
                    pending = ahead.submit(self._batch, order[nxt:nxt + self.batch_size]) \
                        if nxt < len(order) else None
                    yield current.result()
            finally:
                if pending is not None:
                    pending.cancel()
