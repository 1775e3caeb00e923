"""Device selection: ``auto`` picks CUDA, then MPS, then CPU."""

from __future__ import annotations

import torch

from ..errors import SpecError


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
