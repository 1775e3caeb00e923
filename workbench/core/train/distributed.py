"""Multi-process training under ``torchrun``: DistributedDataParallel, sharded data.

``torchrun --nproc-per-node N -m workbench train EXPERIMENT.json --out RUN_DIR`` starts N
copies of the ordinary headless ``workbench train``; torchrun tells each one its place
through the environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``). :class:`DistributedContext` reads it, and the
:class:`~workbench.core.train.trainer.Trainer` then

* joins the process group (NCCL on CUDA, one GPU per process: ``cuda:<LOCAL_RANK>``;
  Gloo on the CPU),
* trains on its own shard of the training split each epoch
  (:class:`torch.utils.data.distributed.DistributedSampler`: one shuffled order, the same on
  every rank for a seed and epoch, padded to a multiple of the world size, every
  ``WORLD_SIZE``-th index to each rank),
* validates on its own unpadded shard (every ``WORLD_SIZE``-th sample), so the validation
  metrics count each sample exactly once,
* wraps the network in :class:`~torch.nn.parallel.DistributedDataParallel` for the training
  forward pass only (``trainer.model`` stays the plain module: checkpoints and the bundle
  hold its keys, without ``module.``),
* sums each epoch's loss, correct count and sample count over the ranks, so every rank sees
  the same metrics (and takes the same early-stopping decision).

Only rank 0 writes the run folder and prints (the CLI gives the other ranks no callbacks).
A stop request on any rank (Ctrl-C) stops every rank at the same training batch. Before
anything is trained the ranks compare their datasets (:meth:`DistributedContext.
check_same_dataset`) and all refuse a run whose processes read different ones, or one of
which cannot read its own (rank 0 says it, naming the rank).

Nothing here is our own engine: torch.distributed does the work; this module only reads
the environment and turns its failures into one-line messages.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import torch
import torch.distributed as dist
from torch.utils.data import Sampler
from torch.utils.data.distributed import DistributedSampler

from workbench.core.data.index import listing
from workbench.core.errors import WorkbenchError

__all__ = ["DistributedContext", "ShardedSampler", "StrideSampler", "unwrap"]

#: How long a collective may wait for the slowest rank before the run fails (the first
#: epoch decodes images, which can take minutes on a large folder).
TIMEOUT = datetime.timedelta(minutes=30)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise WorkbenchError(f"environment variable {name}={value!r} is not a whole number: "
                             f"start distributed training with torchrun, which sets it"
                             ) from None


class DistributedContext:
    """This process's place in a ``torchrun`` job, read from the environment.

    Parameters
    ----------
    world_size, rank, local_rank
        As torchrun sets them; a single process is ``(1, 0, 0)``.

    Attributes
    ----------
    backend
        ``"nccl"`` or ``"gloo"`` once :meth:`init` ran, else ``""``.
    """

    def __init__(self, world_size: int = 1, rank: int = 0, local_rank: int = 0):
        self.world_size, self.rank, self.local_rank = int(world_size), int(rank), int(local_rank)
        self.backend = ""
        self._owns_group = False  # we started the process group, so we end it
        self._comm_device = torch.device("cpu")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "DistributedContext":
        """The context torchrun's variables describe (single-process when they are unset).

        Raises
        ------
        WorkbenchError
            When the variables are malformed or contradict each other.
        """
        env = os.environ if env is None else env
        world = _env_int(env, "WORLD_SIZE", 1)
        rank = _env_int(env, "RANK", 0)
        local = _env_int(env, "LOCAL_RANK", rank)
        if world < 1 or not 0 <= rank < world or local < 0:
            raise WorkbenchError(f"distributed environment is inconsistent: RANK={rank}, "
                                 f"LOCAL_RANK={local}, WORLD_SIZE={world}; start the run with "
                                 f"torchrun instead of setting these by hand")
        return cls(world, rank, local)

    @property
    def active(self) -> bool:
        """More than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes the run folder and prints."""
        return self.rank == 0

    def __repr__(self) -> str:
        return (f"DistributedContext(world_size={self.world_size}, rank={self.rank}, "
                f"local_rank={self.local_rank})")

    # -- process group -----------------------------------------------------------------
    def init(self, device: torch.device) -> torch.device:
        """Join the process group and return the device this rank trains on.

        A CUDA ``device`` becomes ``cuda:<local_rank>`` (NCCL); a CPU one stays (Gloo).

        Raises
        ------
        WorkbenchError
            When the device cannot be shared out, or the backend cannot start (unreachable
            ``MASTER_ADDR:MASTER_PORT``, NCCL missing, ...).
        """
        if device.type == "cuda":
            count = torch.cuda.device_count()
            if self.local_rank >= count:
                raise WorkbenchError(
                    f"process with LOCAL_RANK {self.local_rank} needs its own GPU but this "
                    f"machine shows {count}: start at most {count} processes per node "
                    f"(torchrun --nproc-per-node {max(1, count)})")
            torch.cuda.set_device(self.local_rank)
            device = torch.device("cuda", self.local_rank)
            backend = "nccl"
        elif device.type == "cpu":
            backend = "gloo"
        else:
            raise WorkbenchError(f"training.device: distributed training runs on CUDA or the "
                                 f"CPU, not {device.type}; set it to cuda or cpu")
        self.backend = backend
        self._comm_device = device if backend == "nccl" else torch.device("cpu")
        if dist.is_initialized():  # a caller (or an earlier run) set it up: keep theirs
            return device
        if not dist.is_available() or (backend == "nccl" and not dist.is_nccl_available()):
            raise WorkbenchError(f"this PyTorch build has no {backend} backend: install a "
                                 f"build with it, or train on one process")
        try:
            dist.init_process_group(backend, timeout=TIMEOUT, rank=self.rank,
                                    world_size=self.world_size)
        except (RuntimeError, ValueError, OSError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            where = (f"{os.environ.get('MASTER_ADDR', '?')}:"
                     f"{os.environ.get('MASTER_PORT', '?')}")
            raise WorkbenchError(
                f"cannot start distributed training ({backend}, rank {self.rank} of "
                f"{self.world_size}, rendezvous {where}): {first}; check that every node "
                f"reaches that address and that all were started with the same torchrun "
                f"arguments") from None
        self._owns_group = True
        return device

    def shutdown(self) -> None:
        """Leave the process group if :meth:`init` started it (safe to call twice)."""
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
        self._owns_group = False

    # -- collectives (every rank must call them, in the same order) ---------------------
    def all_reduce_sum(self, values: Sequence[float]) -> list[float]:
        """``values`` summed element-wise over every rank (float64)."""
        t = torch.tensor([float(v) for v in values], dtype=torch.float64,
                         device=self._comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return [float(v) for v in t.tolist()]

    def all_reduce_tensor(self, t: torch.Tensor) -> torch.Tensor:
        """A tensor of counts summed element-wise over every rank (float64, on the CPU)."""
        t = t.to(self._comm_device, torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.cpu()

    def agree(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag OR-ed over every rank: one rank's stop (or skip) is everyone's."""
        t = torch.tensor([1 if f else 0 for f in flags], dtype=torch.int32,
                         device=self._comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return tuple(bool(v) for v in t.tolist())

    def check_same_dataset(self, index: Any, failure: WorkbenchError | None = None) -> None:
        """Refuse, on every rank alike, a run whose processes read different datasets
        (another class list, other images or labels: a copy on one machine out of step, a
        folder changed while the ranks started). Left unchecked, different classes train
        a model whose labels mean one thing on one rank and another elsewhere, and
        different counts break the collectives mid-epoch.

        ``failure``: why this rank could not read its dataset (``index`` is then None);
        every rank refuses the run with it, so rank 0 says it, naming the rank, though no
        other rank met it (it waited in this collective until torchrun killed it).

        Raises
        ------
        WorkbenchError
            Naming the first rank that could not read its dataset, and why, or the first
            whose dataset differs from rank 0's, and how.
        """
        prints: list[Any] = [None] * self.world_size
        dist.all_gather_object(prints, {"error": str(failure)} if failure is not None
                               else dataset_fingerprint(index))
        if failure is not None and (self.rank == 0 or "error" in prints[0]):
            # Rank 0's own; or rank 0 failed too: each says its own, the same one once.
            failure.said_by_rank_0 = prints[0].get("error") == str(failure)
            raise failure
        message = dataset_failure(prints) or dataset_mismatch(prints)
        if message:
            agreed = WorkbenchError(message)
            agreed.said_by_rank_0 = True  # every rank raises it: the CLI says it once
            raise agreed

    def barrier(self) -> None:
        if dist.is_initialized():
            dist.barrier()

    @contextlib.contextmanager
    def local_main_first(self) -> Iterator[None]:
        """Run the block on each node's local rank 0 before the others: it creates shared
        files (the disk cache) that the others then open instead of racing to create."""
        first = self.local_rank == 0
        if not first:
            self.barrier()
        try:
            yield
        finally:
            if first:
                self.barrier()

    # -- model and data ----------------------------------------------------------------
    def wrap(self, model: torch.nn.Module,
             device: torch.device) -> torch.nn.parallel.DistributedDataParallel:
        """``model`` (already on ``device``) in DistributedDataParallel; rank 0's weights
        are broadcast to every rank as it is built."""
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids,
                                                         output_device=ids[0] if ids else None)

    def train_sampler(self, n: int, seed: int, base: Any = None) -> Sampler:
        """This rank's share of ``n`` training samples each epoch (call ``set_epoch``).

        ``base`` (a weighted sampler drawing from a generator seeded alike on every rank)
        is sharded as drawn; otherwise :class:`DistributedSampler` shuffles.
        """
        if base is not None:
            return ShardedSampler(base, self.rank, self.world_size)
        return DistributedSampler(range(n), num_replicas=self.world_size, rank=self.rank,
                                  shuffle=True, seed=int(seed), drop_last=False)

    def val_sampler(self, n: int) -> Sampler:
        """This rank's validation samples: every ``world_size``-th, unpadded."""
        return StrideSampler(n, self.rank, self.world_size)


class ShardedSampler(Sampler):
    """Every ``world_size``-th index that ``base`` yields, padded like
    :class:`DistributedSampler` so every rank gets the same number.

    ``base`` must yield the same sequence on every rank (a sampler whose generator is
    seeded alike), which makes the shards disjoint positions of one shared draw.
    """

    def __init__(self, base: Any, rank: int, world_size: int):
        self.base, self.rank, self.world_size = base, int(rank), int(world_size)

    def __len__(self) -> int:
        return -(-len(self.base) // self.world_size)

    def set_epoch(self, epoch: int) -> None:  # the base's generator moves on by itself
        pass

    def __iter__(self) -> Iterator[int]:
        order = [int(i) for i in self.base]
        total = len(self) * self.world_size
        if order and len(order) < total:
            order += (order * (1 + total // len(order)))[:total - len(order)]
        return iter(order[self.rank:total:self.world_size])


class StrideSampler(Sampler):
    """Indices ``rank, rank + world_size, ...`` below ``n``: disjoint, together all of them
    once (for validation, whose sums are all-reduced; the ranks may differ by one batch)."""

    def __init__(self, n: int, rank: int, world_size: int):
        self.n, self.rank, self.world_size = int(n), int(rank), int(world_size)

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world_size))


def dataset_fingerprint(index: Any) -> dict[str, Any]:
    """What two processes must agree on to train one model: the class list, the number of
    training and validation images, and a digest of their paths (relative to the dataset
    folder, which may be elsewhere on each machine) and labels; ``folder`` only names it."""
    root = Path(str(index.root))
    base = root.parent if root.is_file() else root  # a CSV file: paths from its folder
    digest = hashlib.sha256()
    parts = (list(index.samples), list(index.val_samples or []))
    for part in parts:
        digest.update(b"\x00part")
        for path, label in part:
            try:
                name = Path(path).relative_to(base).as_posix()
            except ValueError:  # outside the folder (a CSV's absolute paths): as given
                name = str(path)
            digest.update(f"{name}\x00{int(label)}\x00".encode("utf-8", "surrogateescape"))
    return {"classes": list(index.classes), "images": [len(p) for p in parts],
            "digest": digest.hexdigest(), "folder": str(index.root)}


def _classes(rank: int, mine: list[str], first: list[str]) -> str:
    """How rank ``rank``'s class list differs from rank 0's (``first``)."""
    extra = [c for c in mine if c not in first]
    lacks = [c for c in first if c not in mine]
    if not extra and not lacks:
        return (f"rank {rank} numbers the same classes in another order ({listing(mine, 8)}; "
                f"rank 0: {listing(first, 8)})")
    words = [f"rank {rank} reads {len(mine)} classes ({listing(mine, 8)}), rank 0 reads "
             f"{len(first)} ({listing(first, 8)})"]
    if extra:
        words.append(f"only rank {rank} has {listing(extra, 4)}")
    if lacks:
        words.append(f"rank {rank} lacks {listing(lacks, 4)}")
    return "; ".join(words)


def dataset_failure(prints: Sequence[Mapping[str, Any]]) -> str:
    """The refusal of a run some of whose ranks could not read their dataset (their
    :func:`dataset_fingerprint` an ``{"error": ...}``), else ``""``: rank 0's error as it
    is, or the first failed rank's, naming it."""
    failed = [(rank, p["error"]) for rank, p in enumerate(prints) if "error" in p]
    if not failed:
        return ""
    rank, error = failed[0]
    return error if rank == 0 else f"rank {rank} of this torchrun job: {error}"


def dataset_mismatch(prints: Sequence[Mapping[str, Any]]) -> str:
    """The refusal of a run whose ranks' :func:`dataset_fingerprint` differ, else ``""``:
    the first rank that differs from rank 0, compared with it."""
    first = prints[0]
    for rank, mine in enumerate(prints[1:], 1):
        if all(mine[k] == first[k] for k in ("classes", "images", "digest")):
            continue
        if mine["classes"] != first["classes"]:
            what = _classes(rank, mine["classes"], first["classes"])
        elif mine["images"] != first["images"]:
            (t, v), (t0, v0) = mine["images"], first["images"]
            what = f"rank {rank} reads {t + v} images, rank 0 reads {t0 + v0}"
            if v or v0:  # the folder has its own validation part
                what = (f"rank {rank} reads {t} training and {v} validation images, rank 0 "
                        f"reads {t0} and {v0}")
        else:
            what = (f"rank {rank} reads other files or labels than rank 0, though as many "
                    f"images of the same classes")
        return (f"the processes of this torchrun job read different datasets: {what} "
                f"(rank {rank} reads {mine['folder']}, rank 0 {first['folder']}). Give "
                f"every process the same dataset folder (on each machine, a copy with the "
                f"same files), then start the run again")
    return ""


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside a DistributedDataParallel (or ``model`` itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) \
        else model
