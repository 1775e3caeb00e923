"""Host memory allocator settings for training (glibc's malloc on Linux).

Every training step frees and allocates again the same multi-MB buffers (activations,
gradients, the batch). With glibc's defaults, blocks that large are handed to ``mmap`` and
given back to the system on ``free`` (and the heap top is trimmed above 128 KiB), so each
step page-faults the same memory in again. On this project's 2-core benchmark machine that
cost 10-15% of a CPU training step (``scripts/bench_train.py``: Workbench/limit 0.86x ->
about 0.95x; the plain loops gain too). Keeping them in the heap is what
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` or jemalloc would do; ``mallopt``
does it from inside the process, for the CLI and the app alike.

The price: memory freed after a peak stays with the process, reused by the next step. At
the end of each run :func:`release_free_memory` gives it back (``malloc_trim``), so a
session of many runs (the app, a search) does not keep every run's high-water mark: without
it, a soak of 400 short runs in the app grew by about 130 KB a run, all of it free memory
in the training thread's heap (it went away with a trim).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

#: mallopt parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit systems (32 MiB), and a trim
#: threshold well above one step's working set.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20
#: Set to 0 to keep glibc's defaults.
ENV = "WORKBENCH_MALLOC_TUNING"

_applied: bool | None = None


def tune_host_allocator() -> bool:
    """Keep large freed blocks in the heap (glibc only; once per process).

    Returns
    -------
    bool
        Whether the settings are in effect: False on other systems or C libraries, when
        ``$WORKBENCH_MALLOC_TUNING`` is ``0``, or when glibc refused them.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get(ENV, "1") == "0":
        return False
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


def release_free_memory() -> bool:
    """Return the free memory of every malloc heap (the training thread's included) to the
    system: glibc's ``malloc_trim(0)``, a few milliseconds. Called when a run ends; True
    when something was released, False elsewhere (other systems and C libraries)."""
    trim = _glibc("malloc_trim")
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))


def _glibc(name: str) -> Any:
    """glibc's function ``name`` on Linux; None on other systems and C libraries (musl and
    the like are left alone)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None
