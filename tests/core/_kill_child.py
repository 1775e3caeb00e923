"""The process ``test_faults.py`` kills: it trains (or resumes) a run folder for ever.

Started through a ``forkserver`` multiprocessing context whose server has imported torch and
the trainer already, so each of the many short-lived children starts in milliseconds rather
than paying torch's import again.

Every atomic write the run makes (run.json, metrics.json, checkpoints, a bundle per epoch)
goes through :func:`_counting`, which tells the parent how many writes have begun through
``writes`` and, when asked (``hold_in_write``), sits between writing a temporary file and
renaming it over the real one, so the parent can kill the child at exactly that moment.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def _counting(real: Any, writes: Any, in_write: Any, hold_at: int) -> Any:
    """``atomic_write`` that counts writes and can hold the ``hold_at``-th one mid-way."""

    def atomic_write(path: Any, write: Any) -> None:
        with writes.get_lock():
            writes.value += 1
            n = writes.value

        def write_then_maybe_hold(f: Any) -> None:
            write(f)
            if n == hold_at:
                f.flush()  # the bytes are in the temporary file; the rename has not happened
                in_write.value = 1
                time.sleep(60)  # the parent kills us here

        in_write.value = 2
        real(path, write_then_maybe_hold)
        in_write.value = 0

    return atomic_write


def train_until_killed(exp_dict: dict, run_dir: str, writes: Any, in_write: Any,
                       hold_at: int) -> None:
    """Train ``exp_dict`` into ``run_dir`` (continuing it when it has a checkpoint), writing
    a bundle after every epoch too, until killed."""
    import torch

    torch.set_num_threads(1)  # the parent runs other tests: leave it its cores

    import workbench.core.bundle as bundle_mod
    import workbench.core.io as io_mod
    import workbench.core.train.checkpoint as ckpt_mod
    import workbench.core.train.callbacks.checkpoints as writer_mod
    from workbench.core.experiment import Experiment
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.trainer import Callback, Trainer

    counting = _counting(io_mod.atomic_write, writes, in_write, hold_at)
    # Every module that imported the name: atomic_write_text looks it up in io.
    for mod in (io_mod, ckpt_mod, bundle_mod, writer_mod):
        mod.atomic_write = counting

    class BundleEveryEpoch(Callback):
        def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict) -> None:
            bundle_mod.save_bundle(Path(run_dir) / "bundle.pt", trainer.experiment,
                                   trainer.classes, trainer.model.state_dict())

    exp = Experiment.from_dict(exp_dict)
    checkpoint = None
    if (Path(run_dir) / "checkpoints" / "last.pt").exists():
        checkpoint = load_checkpoint(run_dir)
    Trainer(exp, [RunRecorder(run_dir, save_bundle=False), BundleEveryEpoch()],
            checkpoint=checkpoint).fit()


def train_until_bundle_write(exp_dict: dict, run_dir: str, in_write: Any) -> None:
    """Train ``exp_dict`` into ``run_dir`` to its end, and hold between writing the final
    bundle's temporary file and renaming it (``in_write`` becomes 1), to be killed there."""
    import torch

    torch.set_num_threads(1)

    import workbench.core.bundle as bundle_mod
    from workbench.core.experiment import Experiment
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.trainer import Trainer

    real = bundle_mod.atomic_write

    def held(path: Any, write: Any) -> None:
        def write_then_hold(f: Any) -> None:
            write(f)
            f.flush()
            in_write.value = 1
            time.sleep(60)  # the parent kills us here

        real(path, write_then_hold)

    bundle_mod.atomic_write = held
    Trainer(Experiment.from_dict(exp_dict), [RunRecorder(run_dir)]).fit()


class DieInWorker:
    """A per-image transform that ends the data loader worker process running it, as the
    kernel's out-of-memory killer or a crashing image library would."""

    def __call__(self, img: Any) -> Any:
        import os

        from torch.utils.data import get_worker_info

        if get_worker_info() is not None:
            os._exit(1)
        raise AssertionError("DieInWorker ran outside a data loader worker")


class RaiseInWorker:
    """A per-image transform that raises inside the data loader worker."""

    def __call__(self, img: Any) -> Any:
        raise ValueError("this transform cannot handle the image")
