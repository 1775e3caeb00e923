"""Ctrl-C and SIGTERM while a command works: the first asks the work to stop (after the
batch, the trial), a second aborts at once, and once the results are written both are
ignored. A second one that arrives while an epoch's checkpoints and run.json are written
aborts once they are (:func:`workbench.core.interrupts.uninterrupted`: at most a few
seconds; a third aborts at once), so they never disagree."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator

from workbench.cli.common import main_process
from workbench.core.interrupts import postpone


class _Terminated(KeyboardInterrupt):
    """A second SIGTERM: abort at once (exit code 143, as a process SIGTERM ends)."""


class _StopRequest(threading.Event):
    """Set by the first Ctrl-C (or SIGTERM); says which signal asked (``signum``), and
    ignores any once :meth:`settle` says the work is over."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None
        self.settled = False

    def settle(self) -> None:
        """The work is done (its results written): later signals have nothing to stop."""
        self.settled = True


@contextlib.contextmanager
def _ctrl_c_stops(what: str = "stopping after this batch",
                  sigterm: bool = False) -> Iterator[_StopRequest]:
    """An event the first Ctrl-C sets (saying ``what`` happens now) while the block runs; a
    second one interrupts at once (``KeyboardInterrupt``; inside an
    :func:`~workbench.core.interrupts.uninterrupted` block, when the block ends). With
    ``sigterm``, SIGTERM (a desktop logout, systemd, a cluster scheduler) does the same, a
    second one raising :class:`_Terminated`. After :meth:`_StopRequest.settle` both are
    ignored. The previous handlers are put back afterwards."""
    stop = _StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return
    # Under torchrun a Ctrl-C reaches every process; rank 0 alone says what happens.
    quiet = not main_process()

    def handler(signum, frame):
        if stop.settled:
            return
        if stop.is_set():
            error = _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
            doing = postpone(error)  # an epoch's checkpoint and run.json are written whole
            if doing is None:
                raise error
            if not quiet:
                again = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
                print(f"\n{doing} first, then aborting ({again} again to abort at once)",
                      file=sys.stderr, flush=True)
            return
        stop.signum = signum
        stop.set()
        if quiet:
            return
        if signum == signal.SIGTERM:
            print(f"\nterminated (SIGTERM): {what} (SIGTERM again to abort)", file=sys.stderr,
                  flush=True)
        else:
            print(f"\n{what} (Ctrl-C again to abort)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    previous_term = signal.signal(signal.SIGTERM, handler) if sigterm else None
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
