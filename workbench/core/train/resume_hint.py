"""The command every hint to continue a run gives (:func:`resume_command`): quoted to
paste, and torchrun's, with the job's process count, under torchrun (or for a run that
recorded its last session on several processes: :mod:`.processes`)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any, Mapping


def resume_command(run_dir: str | Path, extra: str = "", world_size: int | None = None,
                   env: Mapping[str, str] | None = None) -> str:
    """The command that continues the run in ``run_dir``, its path quoted to paste, then
    ``extra`` (``"--lr X"``). Run under torchrun (``env``'s ``WORLD_SIZE`` above 1, else a
    ``world_size`` the run recorded, above 1), torchrun's with the same processes:
    ``torchrun --nproc-per-node 2 -m workbench resume 'runs/x'``; of a job on several
    machines, with ``--nnodes`` and, in words before it, the rendezvous options to add."""
    env = os.environ if env is None else env
    command = f"workbench resume {shlex.quote(str(run_dir))}" + (f" {extra}" if extra else "")
    world = _whole(env.get("WORLD_SIZE"))
    local = _whole(env.get("LOCAL_WORLD_SIZE")) or world
    if world <= 1:
        world = local = world_size or 1
    if world <= 1:
        return command
    nodes = _whole(env.get("GROUP_WORLD_SIZE")) or -(-world // local)
    if nodes <= 1:
        return f"torchrun --nproc-per-node {local} -m {command}"
    return (f"on each of its {nodes} machines, with the rendezvous options the run was "
            f"started with: torchrun --nnodes {nodes} --nproc-per-node {local} -m {command}")


def _whole(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
