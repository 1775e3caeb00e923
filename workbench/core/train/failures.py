"""How a run fails, classified in one place: the errors a user can act on
(:class:`TrainingDiverged`, :class:`TrainingOutOfMemory`), what torch's own errors mean
(:func:`translate`), and the outcome each failure is (:func:`failure_kind`).

The trainer translates an exception once, as it leaves :meth:`Trainer.fit`, so every
caller sees the same error; the run façade (:mod:`workbench.core.train.run`) and the
:class:`~workbench.core.train.callbacks.base.FitResult` take their status from
:func:`failure_kind`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from workbench.core.errors import WorkbenchError

#: The outcomes of a run that ended with an error.
FAILURES = ("diverged", "out_of_memory", "failed")


class TrainingDiverged(WorkbenchError):
    """The loss became NaN or infinite (``value``: the loss, when this process saw it)."""

    def __init__(self, message: str, epoch: int = 0, value: float = math.nan):
        super().__init__(message)
        self.epoch = epoch
        self.value = value


class TrainingOutOfMemory(WorkbenchError):
    """The device ran out of memory; ``batch_size`` is the size that failed."""

    def __init__(self, message: str, batch_size: int):
        super().__init__(message)
        self.batch_size = batch_size

    @property
    def suggested_batch_size(self) -> int:
        return max(1, self.batch_size // 2)


class UntrainableBatches(WorkbenchError):
    """A run that would train no batch at all, refused before it starts: batches of one
    image with BatchNorm (the trainer skips each, so the network would stay as it was
    built). ``action`` is the fix, as a training doctor's finding gives it
    (:func:`~workbench.core.train.doctor.findings.action`)."""

    def __init__(self, message: str, action: dict[str, Any]):
        super().__init__(message)
        self.action = action


def batch_of_one_error(batch_size: int, batchnorm: bool, train_images: int = 0,
                       accumulate: int = 1) -> UntrainableBatches | None:
    """The refusal of a run whose every training batch holds one image (``batch_size`` 1)
    while the network has BatchNorm (``batchnorm``), or None. A last batch of one (the
    training images one more than a multiple of the batch size) is only skipped: the
    others train. Its fix is a batch size that fits the ``train_images`` (0: not known)
    with ``accumulate`` (:func:`~workbench.core.train.doctor.causes.batch_fix`)."""
    if not batchnorm or int(batch_size) != 1:
        return None
    from workbench.core.train.doctor.causes import batch_fix

    fix, act = batch_fix(train_images, accumulate)
    return UntrainableBatches(
        f"the batch size is 1 and the network has BatchNorm, which cannot train on a batch "
        f"of one image (it has no spread to measure): every training batch would be "
        f"skipped and the network would stay untrained. {fix[:1].upper()}{fix[1:]}", act)


def failure_kind(error: BaseException) -> str:
    """``"diverged"``, ``"out_of_memory"`` or ``"failed"``: the outcome ``error`` (as
    :func:`translate` left it) ends a run with."""
    if isinstance(error, TrainingOutOfMemory):
        return "out_of_memory"
    if isinstance(error, TrainingDiverged):
        return "diverged"
    return "failed"


def user_message(error: BaseException) -> str:
    """One message for a person: a WorkbenchError's own text, else a hint that it is a bug."""
    if isinstance(error, WorkbenchError):
        return str(error) or type(error).__name__
    if out_of_memory(error):
        return ("out of memory: lower the batch size or the input size in the experiment and "
                "try again")
    return (f"unexpected error ({type(error).__name__}: {error}). This is a bug in Workbench; "
            f"the details were printed on the console")


def translate(error: BaseException, trainer: Any) -> BaseException | None:
    """What torch's ``RuntimeError`` means, as an error naming what to do: device memory
    (:class:`TrainingOutOfMemory`) and dead loader workers; None for any other error."""
    if out_of_memory(error):
        return oom_error(trainer)
    lost = peer_lost(error, trainer)
    if lost:  # before the first epoch (the setup's collectives): nothing to keep
        return WorkbenchError(lost)
    if worker_died(error):
        return WorkbenchError(
            f"a data-loading worker process died ({str(error).strip()}). This usually means "
            f"the machine ran out of memory: lower data.num_workers "
            f"({trainer.experiment.data.num_workers}) or the batch size, or use the "
            f"decoded-image cache (data.cache auto); the finished epochs are kept")
    return None


def oom_error(trainer: Any) -> WorkbenchError:
    """What running out of memory means: the network's (when it is being built, or at the
    run's first step while its weights, gradients and optimizer state alone exceed what
    the device can hold: no batch size fits), else the batch's
    (:class:`TrainingOutOfMemory`, which offers half of it)."""
    bs = int(trainer.experiment.data.batch_size)
    device = trainer.device
    if getattr(trainer, "model", None) is None:  # the network itself, before any batch
        h, w = trainer.experiment.data.input_size
        return WorkbenchError(
            f"the network does not fit in the {device or 'machine'}'s memory (at input "
            f"{w}x{h}), before a single batch: {_make_smaller(_summary(trainer))}")
    # The optimizer's state is made at the first step: a network whose state alone does
    # not fit fails there, at any batch size.
    first = not trainer.epochs_done and int(getattr(trainer, "steps", 0) or 0) <= 1
    summary = _summary(trainer) if first else None  # its shapes, worked out once
    state = _state_beyond_room(trainer, summary) if first else ""
    if device is not None and device.type == "cuda":
        torch.cuda.empty_cache()
    if state:
        fix = _make_smaller(summary)
        return WorkbenchError(
            f"the network does not fit in the {device or 'machine'}'s memory: {state}, "
            f"before a single image, so no batch size fits. {fix[:1].upper()}{fix[1:]}")
    done = (f" The {trainer.epochs_done} finished epoch(s) and their checkpoint are kept."
            if trainer.epochs_done else "")
    return TrainingOutOfMemory(
        f"the {device or 'device'} ran out of memory at batch size {bs}.{done} "
        f"Try batch size {max(1, bs // 2)} (or a smaller input size, or gradient "
        f"accumulation to keep the effective batch)", bs)


def _summary(trainer: Any) -> Any:
    """The shape summary of the trainer's network (on the meta device: nothing allocated),
    or None when it cannot be made."""
    from workbench.core.model.builder import infer_shapes

    exp = trainer.experiment
    try:
        h, w = exp.data.input_size
        return infer_shapes(exp.model.layers, (exp.data.channels, h, w),
                            len(trainer.classes or ()) or 2)
    except Exception:  # noqa: BLE001  (a message's detail: never the error itself)
        return None


def _state_beyond_room(trainer: Any, summary: Any) -> str:
    """``"its weights, ... need about 16.0 GB, more than the 7.6 GB of ..."`` when the
    network's weights, gradients and optimizer state exceed what the device can hold;
    ``""`` when they fit or either figure is unknown. ``summary``: its :func:`_summary`."""
    from workbench.core.train.memory import estimate, room

    if summary is None or not summary.total_params:
        return ""
    opt = trainer.experiment.optimizer
    momentum = (opt.params or {}).get("momentum", 0.9)
    need = estimate(summary, opt.type,
                    float(momentum) if isinstance(momentum, (int, float)) else 0.9).fixed
    limit, where = room(trainer.device)
    if not limit or need <= limit:
        return ""
    gb = 2 ** 30
    return (f"its weights, their gradients and the {opt.type} optimizer's state need about "
            f"{need / gb:,.1f} GB ({summary.total_params:,} parameters), more than the "
            f"{limit / gb:,.1f} GB of {where}")


def _make_smaller(summary: Any) -> str:
    """How to make the network smaller, naming its biggest layer when the summary can be
    made (``"make it smaller (layer 8 (Linear) alone has 1,073,807,360 of its 1,074,088,900
    parameters), with a smaller data.input_size, ..."``). ``summary``: the network's
    :func:`_summary` (None: not known)."""
    big = ""
    if summary is not None and summary.layers and summary.total_params:
        info = max(summary.layers, key=lambda layer: layer.num_params)
        big = (f" (layer {info.index + 1} ({info.type}) alone has {info.num_params:,} of its "
               f"{summary.total_params:,} parameters)")
    return (f"make it smaller{big}, with a smaller data.input_size, pooling or a stride "
            f"before Flatten, or AdaptiveAvgPool2d before Flatten (the Model tab shows each "
            f"layer's parameters)")


def diverged_error(value: float, epoch: int, batch: int, lr: Any,
                   validation: bool = False, explosion: Any = None) -> TrainingDiverged:
    """A loss that is not finite; ``explosion`` (the trainer's
    :class:`~workbench.core.train.callbacks.doctor.ExplodingLoss`) says when a resumed run's
    checkpoint, not the rate, is to blame."""
    if batch and not math.isfinite(value):
        where = f"{value} at epoch {epoch}, batch {batch}"
    else:  # finite here: another process's loss was not (under torchrun)
        where = f"not finite at epoch {epoch} on another process"
    what = "validation loss" if validation else "loss"
    # No rate and no way forward here: the training doctor's diverged finding gives both,
    # once it knows whether an epoch was kept and what the LR finder says.
    why = explosion.damaged_checkpoint(epoch, lr) if explosion is not None else ""
    return TrainingDiverged(
        f"training diverged: the {what} became {where}. "
        f"{why or f'The learning rate ({lr:g}) is the usual cause: lower it'}", epoch, value)


#: How a peer-lost stop's reason begins (:func:`peer_lost`): the CLI tells it by these words.
PEER_LOST = "another process of this torchrun job"

#: What Gloo and NCCL say when the process at the other end of a collective is gone (killed,
#: crashed, its machine lost) or stopped answering within the process group's timeout.
_PEER_WORDS = ("by peer", "connection reset", "connection closed", "connection refused",
               "broken pipe", "remote process", "network error", "timed out", "timeout",
               "communicator was aborted", "ncclremoteerror", "ncclsystemerror",
               "socket closed")


def peer_lost(e: BaseException, trainer: Any) -> str:
    """Why a torchrun run stops when a collective fails because another of its processes
    is gone (Gloo's "Connection reset by peer", NCCL's "remote process exited", a
    :class:`torch.distributed.DistError`), with how to continue it; ``""`` for any other
    error, and in a single-process run. Not a bug: the finished epochs are kept, as a stop
    keeps them (the trainer treats it as one)."""
    ctx = getattr(trainer, "dist", None)
    if ctx is None or not isinstance(e, RuntimeError) or isinstance(e, WorkbenchError):
        return ""
    text = str(e).strip()
    low = text.lower()
    backend = isinstance(e, getattr(torch.distributed, "DistError", ())) or \
        "gloo" in low or "nccl" in low or "c10d" in low
    if not backend or not any(w in low for w in _PEER_WORDS):
        return ""
    # Gloo's first line: "[.../gloo/transport/tcp/pair.cc:545] Read error ...: Connection
    # reset by peer. This is typically caused by ...": its first sentence, without the
    # source location.
    detail = (text.splitlines() or [type(e).__name__])[0]
    detail = detail.split("] ", 1)[1] if detail.startswith("[") and "] " in detail \
        else detail
    detail = detail.split(". ", 1)[0].rstrip(".")
    who = f" (rank {1 - ctx.rank})" if ctx.world_size == 2 else ""
    # Before the setup restored it, a resumed run's finished epochs are its checkpoint's.
    done = int(trainer.epochs_done or getattr(trainer.checkpoint, "epoch", 0) or 0)
    run_dir = getattr(trainer, "run_dir", None)  # rank 0's (the CLI names it elsewhere)
    from workbench.core.train.resume_hint import resume_command

    again = resume_command(run_dir if run_dir is not None else "RUN_DIR",
                           world_size=ctx.world_size)
    kept = (f"the run's {done} finished epoch(s) are kept: continue it with {again}" if done
            else "no epoch had finished: start the run again")
    return (f"{PEER_LOST}{who} stopped or lost its connection ({detail[:200]}), so this "
            f"one stopped too; {kept}")


def worker_died(e: BaseException) -> bool:
    """torch's DataLoader reporting a worker process that exited (killed, crashed)."""
    text = str(e)
    return isinstance(e, RuntimeError) and "DataLoader worker" in text and \
        "exited unexpectedly" in text


#: How allocators say they ran out: CUDA and MPS ("out of memory"), the CPU's
#: DefaultCPUAllocator ("can't allocate memory: you tried to allocate N bytes").
_OUT_OF_MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory")


def out_of_memory(e: BaseException) -> bool:
    """An out-of-memory error of a device or of the machine: CUDA's own class, Python's
    MemoryError, or the RuntimeError of MPS and of torch's CPU allocator."""
    oom_type = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda,
                                                                    "OutOfMemoryError", ())
    if (oom_type and isinstance(e, oom_type)) or isinstance(e, MemoryError):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and not isinstance(e, WorkbenchError) \
        and any(w in text for w in _OUT_OF_MEMORY_WORDS)
