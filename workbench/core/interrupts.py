"""Writes that a second Ctrl-C waits for: :func:`uninterrupted`.

At the end of every epoch a run writes ``checkpoints/last.pt``, then ``best.pt``, then
run.json (:mod:`workbench.core.runs.recorder`). A ``KeyboardInterrupt`` raised between two
of them (the CLI's second Ctrl-C, :mod:`workbench.cli.signals`) used to leave them out of
step: last.pt at epoch 2, best.pt and run.json at epoch 1. A block run
:func:`uninterrupted` is kept whole: a signal handler about to raise asks :func:`postpone`
first, which keeps the interrupt until the block ends and raises it there.

The wait is bounded: an interrupt is postponed only while the block has run for less than
:data:`LIMIT_S` seconds (a write stuck on a dead network drive does not hold the user), and
only once (a further Ctrl-C aborts at once). Core installs no signal handler itself:
without a handler that asks, the block is an ordinary block. Signals reach the main thread
only, so a block run on another thread (the app's training worker) postpones nothing.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator

#: Seconds of a block during which an interrupt is postponed; after them it is raised at
#: once (a write that hangs must not hold the user).
LIMIT_S = 30.0


class _Block:
    """The main thread's block: how deep, since when, what it does, what waits."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = 0.0
        self.what = ""
        self.pending: BaseException | None = None


_block = _Block()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def uninterrupted(what: str = "finishing the writes") -> Iterator[None]:
    """Run the block with an interrupt (one a signal handler hands :func:`postpone`) kept
    until it ends, then raised; ``what`` says what the block does, for the message the
    handler prints. Nested blocks are one block. An error of the block's own goes up
    instead of a postponed interrupt (the interrupt is dropped: the run ends anyway)."""
    if not _main_thread():
        yield
        return
    outer = _block.depth == 0
    if outer:
        _block.started, _block.what, _block.pending = time.monotonic(), what, None
    _block.depth += 1
    done = False
    try:
        yield
        done = True
    finally:
        _block.depth -= 1
        if outer:
            pending, _block.pending = _block.pending, None
            if done and pending is not None:
                raise pending


def postpone(error: BaseException) -> str | None:
    """Called by a signal handler about to raise ``error``: keep it for the end of the
    :func:`uninterrupted` block running now and return what the block does; None when it
    must be raised now (no block runs on this thread, the block has run for
    :data:`LIMIT_S` seconds already, or an interrupt waits already)."""
    if not _main_thread() or _block.depth == 0 or _block.pending is not None:
        return None
    if time.monotonic() - _block.started > LIMIT_S:
        return None
    _block.pending = error
    return _block.what



def aborting() -> bool:
    """Whether a ``KeyboardInterrupt`` (a second Ctrl-C or SIGTERM) is on its way up
    through the caller: asked by code that runs as it passes (``finally`` blocks, end
    hooks), to record the user's abort as such rather than as a failure."""
    return isinstance(sys.exc_info()[1], KeyboardInterrupt)
