"""Starting TensorBoard for the Runs tab (:class:`~workbench.qt.panels.runs.share.RunSharing`)
and knowing whether it serves.

:class:`TensorBoardLauncher` starts the command on a free port (6006 upward) as a process it
keeps, polls that port with a timer (the GUI never waits) and says ``serving(url)`` once
something listens there, or ``failed(message)`` with the last line TensorBoard wrote to its
error stream when it exits first or does not listen within :attr:`~TensorBoardLauncher.timeout_s`.
An instance this app started for a logdir, still running, is reused instead of started again.
"""

from __future__ import annotations

import socket
import time
from typing import Callable

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

#: The first port tried: TensorBoard's own default.
FIRST_PORT = 6006


def is_listening(port: int, host: str = "localhost") -> bool:
    """Whether something accepts connections on ``host:port`` (refused at once when not)."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def free_port(first: int = FIRST_PORT, tries: int = 100) -> int:
    """The first port from ``first`` upward that nothing listens on and that can be bound;
    else one the system picks."""
    for port in range(first, first + tries):
        if is_listening(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Instance:
    """One TensorBoard process this app started: its port, and whether it serves yet."""

    def __init__(self, process: QProcess, port: int):
        self.process, self.port = process, port
        self.serving = False
        self.deadline = time.monotonic()
        self.stderr = b""

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    def last_error_line(self) -> str:
        lines = [ln.strip() for ln in self.stderr.decode("utf-8", "replace").splitlines()]
        return next((ln for ln in reversed(lines) if ln), "")


class TensorBoardLauncher(QObject):
    """Start TensorBoard for a logdir and report when it serves (or why it does not).

    Signals
    -------
    serving(url)
        TensorBoard for the logdir just asked for listens at ``url`` (also when an instance
        already started is reused).
    failed(message)
        It exited, or did not listen within :attr:`timeout_s`; ``message`` ends with the last
        line of its error output.
    """

    serving = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, timeout_s: float = 20.0,
                 poll_ms: int = 200):
        super().__init__(parent)
        self.timeout_s = timeout_s
        self._instances: dict[str, _Instance] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)

    def instance(self, logdir: str) -> _Instance | None:
        """The running instance started for ``logdir`` (None: none runs)."""
        inst = self._instances.get(logdir)
        if inst is not None and inst.process.state() == QProcess.ProcessState.NotRunning:
            return None
        return inst

    def start(self, logdir: str, command: Callable[[int], list[str] | None]) -> str:
        """Serve ``logdir``: reuse this app's instance for it, else start ``command(port)``
        (``[program, *args]``) on a free port. Returns "reused", "starting" (``serving``
        or ``failed`` follows), "waiting" (an instance is starting already) or "missing"
        (``command`` gave None: nothing to start)."""
        inst = self.instance(logdir)
        if inst is not None:
            if inst.serving:
                self.serving.emit(inst.url)
                return "reused"
            return "waiting"
        port = free_port()
        argv = command(port)
        if argv is None:
            return "missing"
        program, *args = argv
        process = QProcess(self)
        process.setStandardOutputFile(QProcess.nullDevice())
        inst = _Instance(process, port)
        inst.deadline = time.monotonic() + self.timeout_s
        self._instances[logdir] = inst
        # Read its error stream all along: a full pipe would stall TensorBoard.
        process.readyReadStandardError.connect(lambda: self._on_stderr(inst))
        process.finished.connect(lambda code, _status: self._on_ended(logdir, inst, code))
        process.errorOccurred.connect(lambda error: self._on_error(logdir, inst, error))
        process.start(program, args)
        self._timer.start()
        return "starting"

    def stop_all(self) -> None:
        """End every instance this app started (waiting briefly for each)."""
        self._timer.stop()
        for inst in list(self._instances.values()):
            if inst.process.state() != QProcess.ProcessState.NotRunning:
                inst.process.kill()
                inst.process.waitForFinished(3000)
        self._instances.clear()

    def _on_stderr(self, inst: _Instance) -> None:
        inst.stderr = (inst.stderr + bytes(inst.process.readAllStandardError().data()))[-8192:]

    def _poll(self) -> None:
        pending = [(d, i) for d, i in self._instances.items() if not i.serving]
        for logdir, inst in pending:
            if inst.process.state() == QProcess.ProcessState.NotRunning:
                continue  # finished/errorOccurred report it
            if is_listening(inst.port):
                inst.serving = True
                self.serving.emit(inst.url)
            elif time.monotonic() > inst.deadline:
                self._forget(logdir, inst)
                inst.process.kill()
                self._fail(inst, f"TensorBoard did not serve on port {inst.port} within "
                                 f"{self.timeout_s:g} s")
        if all(i.serving for i in self._instances.values()):
            self._timer.stop()

    def _on_ended(self, logdir: str, inst: _Instance, code: int) -> None:
        if self._forget(logdir, inst) and not inst.serving:
            self._on_stderr(inst)
            self._fail(inst, f"TensorBoard exited (code {code}) before serving")

    def _on_error(self, logdir: str, inst: _Instance, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._forget(logdir, inst):
            self._fail(inst, f"TensorBoard did not start: {inst.process.errorString()}")

    def _forget(self, logdir: str, inst: _Instance) -> bool:
        if self._instances.get(logdir) is inst:
            del self._instances[logdir]
            return True
        return False

    def _fail(self, inst: _Instance, message: str) -> None:
        line = inst.last_error_line()
        self.failed.emit(f"{message}: {line}" if line else message)
