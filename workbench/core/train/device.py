"""Device selection: ``auto`` picks CUDA, then MPS, then CPU; :func:`list_devices` says what
this machine has, for a device chooser; :func:`deterministic_mode` for reproducible runs."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import torch

from workbench.core.errors import SpecError


def resolve_device(name: str = "auto") -> torch.device:
    """Turn an Experiment's device string into a :class:`torch.device`.

    Raises
    ------
    SpecError
        When a device is named explicitly but is not present on this machine.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SpecError("training.device", f"{name} was asked for but this machine has no "
                                               f"usable CUDA GPU; choose auto or cpu")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise SpecError("training.device", f"{name} does not exist: this machine has "
                                               f"{torch.cuda.device_count()} CUDA device(s)")
        return dev
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise SpecError("training.device", "mps was asked for but is not available here; "
                                               "choose auto or cpu")
        return torch.device("mps")
    raise SpecError("training.device", f"{name!r} is not a device; use auto, cpu, cuda, cuda:N "
                                       f"or mps")


def resolve_amp(name: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``training.amp`` on ``device``, or None (float32).

    Mixed precision is used on CUDA only: ``auto`` picks bfloat16 where the GPU supports
    it (no loss scaling needed) and float16 otherwise. The CPU and MPS always train in
    float32, so a CPU run gives the same numbers whatever ``amp`` says.
    """
    if device.type != "cuda" or name == "off":
        return None
    if name == "fp16":
        return torch.float16
    if name == "bf16":
        if not torch.cuda.is_bf16_supported():
            raise SpecError("training.amp", "bf16 was asked for but this GPU does not support "
                                            "bfloat16; choose fp16, auto or off")
        return torch.bfloat16
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@dataclass(frozen=True)
class DeviceInfo:
    """One device this machine can train on, as a device chooser lists it.

    Attributes
    ----------
    name
        The Experiment's device string: ``"cpu"``, ``"cuda:0"``, ``"mps"``.
    label
        For a person, e.g. ``"CPU (16 cores, 31.2 GB RAM)"`` or
        ``"cuda:0 — NVIDIA H200 (139.8 GB)"``.
    kind
        ``"cpu"``, ``"cuda"`` or ``"mps"``.
    memory_bytes
        The device's memory (RAM for the CPU), or None when unknown.
    """

    name: str
    label: str
    kind: str
    memory_bytes: int | None = None


def list_devices() -> list[DeviceInfo]:
    """The devices this machine can train on: the CPU first, then each CUDA GPU, then MPS.

    Never raises: a GPU whose properties cannot be read is still listed (by its name
    only), and a machine without CUDA or MPS lists the CPU alone.
    """
    ram = _ram_bytes()
    cores = os.cpu_count()
    details = [f"{cores} core{'s' if cores != 1 else ''}"] if cores else []
    if ram is not None:
        details.append(f"{_gb(ram)} RAM")
    devices = [DeviceInfo("cpu", f"CPU ({', '.join(details)})" if details else "CPU", "cpu",
                          ram)]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            name = f"cuda:{i}"
            try:
                props = torch.cuda.get_device_properties(i)
            except (RuntimeError, AssertionError) as e:  # one faulty GPU: still list it
                devices.append(DeviceInfo(name, f"{name} (cannot be queried: {e})", "cuda"))
                continue
            memory = int(props.total_memory)
            devices.append(DeviceInfo(name, f"{name} — {props.name} ({_gb(memory)})", "cuda",
                                      memory))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(DeviceInfo("mps", "Apple GPU (MPS)", "mps"))
    return devices


def _gb(num_bytes: int) -> str:
    # Binary gigabytes, as nvidia-smi and the system monitors show them.
    return f"{num_bytes / 2**30:.1f} GB"


def _ram_bytes() -> int | None:
    """Total RAM from /proc/meminfo (Linux) or sysconf (other Unixes); None elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024  # the file counts kibibytes
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None
    return pages * size if pages > 0 and size > 0 else None


@contextlib.contextmanager
def deterministic_mode(on: bool) -> Iterator[None]:
    """Deterministic algorithms (and cuDNN's deterministic kernels) while the block runs,
    restoring the previous settings after."""
    if not on:
        yield
        return
    previous = (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    # cuBLAS needs this workspace setting to be deterministic (PyTorch's reproducibility
    # notes); it only takes effect if set before CUDA starts, so set it as early as we can.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # warn_only: an operation without a deterministic kernel warns instead of failing the run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.deterministic = previous[2]
        torch.backends.cudnn.benchmark = previous[3]
