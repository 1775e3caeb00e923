"""Start-up: paint the window first, import PyTorch in the background afterwards.

``import torch`` (with torchvision and our registries) takes 2-4 s, longer than the whole
window needs to appear. So the app shows a window built without torch, and imports it in a
background thread once the first frame is on the screen:

1. :func:`workbench.qt.app.main` calls ``torch_loader().defer()`` before building the
   window. From then on, every piece of a panel that needs torch (the transform registry,
   layer shapes, optimizers, previews, training, prediction) is registered with
   :meth:`TorchLoader.call_when_ready` instead of running; the panel shows a short
   "loading" note in its place.
2. :class:`FirstPaintWatcher` reports when the main window's first frame has been painted;
   the app then calls :meth:`TorchLoader.start`, which imports :data:`TORCH_MODULES` in one
   dedicated thread.
3. When that thread is done, :attr:`TorchLoader.ready` fires on the GUI thread and the
   waiting callbacks run there, in the order they were registered.

Why one dedicated thread and a gate: Python's import locks are per module, so a second
thread importing torch (or one of its lazily imported submodules) while the first is half
way through can see a partially initialised module or hit a deadlock between two import
locks; a first import of torchvision from a pool thread did fail half-way in this project.
So, until ``ready``, nothing but the loader thread imports torch: GUI code goes through
:meth:`~TorchLoader.call_when_ready`, or :meth:`~TorchLoader.ensure_loaded` (which blocks
until the loader thread has finished, then imports nothing new), and jobs that need torch
are submitted to the pool only from such callbacks.

While the loader thread runs, the GUI thread shares the interpreter lock with it: the
window stays responsive, with pauses of up to ~0.3 s while a large shared library is
loaded (measured on a 2-core machine), instead of a 2-4 s freeze before anything appears.

When nothing called :meth:`~TorchLoader.defer` (tests, ``python -m
workbench.qt.panels.<name>``), :meth:`~TorchLoader.call_when_ready` imports on the spot and
runs the callback at once: panels then behave as if torch had always been there.

What is not needed for the first frame waits for it the same way, without torch:
:func:`after_first_paint` queues work (the tabs not shown, the Data tab's chart and with it
pyqtgraph) until :func:`start_after_first_paint` sees the frame; nothing waits when the app
did not call :func:`defer_until_painted` first.

``WORKBENCH_STARTUP_PROBE`` (for ``scripts/bench_startup.py`` and the tests): ``1`` makes
the app print ``first-paint <unix time> torch=<0|1>`` once its first frame is painted and
quit; ``ready`` prints that line, then ``torch-ready <unix time>`` once the background
import has finished and the waiting panels are filled, and quits.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import traceback
from typing import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

#: What the loader thread imports: torch, torchvision and every core module the GUI uses
#: that needs them (the registries, previews, training, prediction).
#: Modules that the ones above import lazily are listed too, so that no other thread is
#: the first to import them later (a test checks every name exists).
TORCH_MODULES = (
    "torch",
    "torchvision",
    "workbench.core.data.augment.transforms",
    "workbench.core.data.augment.more_transforms",
    "workbench.core.data.augment.mixing",
    "workbench.core.data.augment.batch_ops",
    "workbench.core.data.dataset",
    "workbench.core.data.augment.pipeline",
    "workbench.core.data.cache",
    "workbench.core.data.augment.preview",
    "workbench.core.model.layers",
    "workbench.core.model.init",
    "workbench.core.model.builder",
    # Imported by the Model panel once torch is ready (its doctor, code export, weight ties,
    # backbones' notes, architecture files): here, so that they load in the background too.
    "workbench.core.model.ties",
    "workbench.core.model.backbones",
    "workbench.core.model.doctor_checks",
    "workbench.core.model.doctor",
    "workbench.core.model.codegen",
    "workbench.core.model.architecture",
    "workbench.core.train.device",
    "workbench.core.train.optim",
    "workbench.core.catalog",  # Experiment.validate imports it when first called
    "workbench.core.train.trainer",
    "workbench.core.bundle",
    "workbench.core.predict",
)

#: The note panels show where something waits for torch.
LOADING_TEXT = "Loading PyTorch…"

PROBE_ENV = "WORKBENCH_STARTUP_PROBE"


def probe_mode() -> str:
    """``""`` (no probe), ``"paint"`` (report the first paint and quit) or ``"ready"``
    (also wait for the background import), from ``$WORKBENCH_STARTUP_PROBE``."""
    value = os.environ.get(PROBE_ENV, "").strip().lower()
    if value in ("", "0", "no", "off"):
        return ""
    return "ready" if value == "ready" else "paint"


class TorchLoader(QObject):
    """Imports :data:`TORCH_MODULES` once, in a background thread, and says when done.

    States: ``idle`` (nobody deferred: :meth:`call_when_ready` imports at once), ``deferred``
    (callbacks wait for :meth:`start`), ``loading`` (the thread runs), ``ready``, ``failed``.
    Every method is for the GUI thread.

    Signals
    -------
    ready()
        Everything was imported; the waiting callbacks have run.
    failed(message)
        An import failed (a broken installation); ``message`` says which and why. Parts
        that wait for torch stay disabled.
    """

    ready = Signal()
    failed = Signal(str)
    _thread_done = Signal()  # from the loader thread to the GUI thread (queued)

    def __init__(self, modules: tuple[str, ...] = TORCH_MODULES,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.modules = tuple(modules)
        self.state = "idle"
        self.error = ""
        self.seconds = 0.0  # how long the import took (for the console and the benchmark)
        self._waiting: list[tuple[Callable[[], None], QObject | None]] = []
        self._thread: threading.Thread | None = None
        self._result: tuple[float, str] | None = None
        self._thread_done.connect(self._finish)

    # -- queries ---------------------------------------------------------------------------
    def is_ready(self) -> bool:
        return self.state == "ready"

    def is_pending(self) -> bool:
        """True while callbacks wait (deferred or loading)."""
        return self.state in ("deferred", "loading")

    # -- control ---------------------------------------------------------------------------
    def defer(self) -> None:
        """From now on, :meth:`call_when_ready` queues its callbacks until the import has
        run (:meth:`start`, or :meth:`ensure_loaded`)."""
        if self.state == "idle":
            self.state = "deferred"

    def start(self) -> None:
        """Begin importing in the background thread (once; later calls do nothing)."""
        if self.state not in ("idle", "deferred"):
            return
        self.state = "loading"
        self._thread = threading.Thread(target=self._run, name="workbench-import-torch")
        self._thread.start()

    def call_when_ready(self, fn: Callable[[], None], owner: QObject | None = None) -> None:
        """Run ``fn`` on the GUI thread once torch is imported: now when it already is (or
        when nobody deferred the import: it is done here and now), else after
        :attr:`ready`. After a failure ``fn`` never runs, nor when ``owner`` (the widget
        ``fn`` works on) has been deleted meanwhile."""
        if self.state == "idle":
            self.ensure_loaded()
        if self.state == "ready":
            fn()
        elif self.state != "failed":
            self._waiting.append((fn, owner))

    def ensure_loaded(self) -> bool:
        """Block until torch is imported; True when it is.

        Loading in the background: waits for the thread (its modules are then all in place,
        so nothing is imported concurrently). Not started yet: imports here. For what cannot
        wait (e.g. validating an experiment before saving it), and for closing the app.
        """
        if self.state in ("idle", "deferred"):
            self.state = "loading"
            self._result = self._import_all()
        elif self.state == "loading" and self._thread is not None:
            self._thread.join()
        self._finish()
        return self.state == "ready"

    def wait_for_thread(self) -> None:
        """Join the loader thread if it runs (on quitting: never exit half-way through an
        import); callbacks are not run."""
        if self._thread is not None:
            self._thread.join()

    # -- internals -------------------------------------------------------------------------
    def _import_all(self) -> tuple[float, str]:
        t0 = time.perf_counter()
        try:
            for name in self.modules:
                importlib.import_module(name)
        except BaseException as e:  # noqa: BLE001  (reported, the GUI goes on without torch)
            traceback.print_exc()
            return time.perf_counter() - t0, f"{name}: {type(e).__name__}: {e}"
        return time.perf_counter() - t0, ""

    def _run(self) -> None:  # the loader thread
        self._result = self._import_all()
        try:
            self._thread_done.emit()
        except RuntimeError:  # the application is gone: nobody to tell
            pass

    def _finish(self) -> None:
        if self.state != "loading" or self._result is None:
            return  # already finished (ensure_loaded ran first, or a second notice)
        self.seconds, self.error = self._result
        if self.error:
            self.state = "failed"
            self._waiting.clear()
            self.failed.emit(self.error)
            return
        self.state = "ready"
        waiting, self._waiting = self._waiting, []
        for fn, owner in waiting:
            if owner is not None and not shiboken6.isValid(owner):
                continue  # its widget was closed and deleted while torch loaded
            try:
                fn()
            except Exception:  # noqa: BLE001  (one broken panel must not starve the others)
                traceback.print_exc()
        self.ready.emit()


_LOADER: TorchLoader | None = None


def torch_loader() -> TorchLoader:
    """The application's one :class:`TorchLoader` (created on first use)."""
    global _LOADER
    if _LOADER is None:
        _LOADER = TorchLoader()
    return _LOADER


def torch_importing() -> bool:
    """Whether the background import of torch runs now (safe from any thread; creates no
    loader)."""
    return _LOADER is not None and _LOADER.state == "loading"


def when_torch_ready(fn: Callable[[], None], owner: QObject | None = None) -> None:
    """Shorthand for ``torch_loader().call_when_ready(fn, owner)``."""
    torch_loader().call_when_ready(fn, owner)


#: Work waiting for the first frame (None: nothing waits, it has been painted or nobody
#: asked to wait): ``(fn, owner)`` in the order queued.
_AFTER_PAINT: list[tuple[Callable[[], None], QObject | None]] | None = None


def defer_until_painted() -> None:
    """From now on, :func:`after_first_paint` queues its work until the window's first
    frame (the app calls this before building the window)."""
    global _AFTER_PAINT
    if _AFTER_PAINT is None:
        _AFTER_PAINT = []


def after_first_paint(fn: Callable[[], None], owner: QObject | None = None,
                      first: bool = False) -> None:
    """Run ``fn`` once the window's first frame is painted, or now when it has been (or
    nothing deferred it: tests, a panel shown alone). Not when ``owner`` has been deleted
    meanwhile. ``first``: before what was queued earlier."""
    if _AFTER_PAINT is None:
        fn()
    else:
        _AFTER_PAINT.insert(0 if first else len(_AFTER_PAINT), (fn, owner))


def run_after_paint_work() -> None:
    """Run what :func:`after_first_paint` queued, each in its own turn of the event loop
    (so input and repaints go on between them); later requests run at once."""
    global _AFTER_PAINT
    queued, _AFTER_PAINT = _AFTER_PAINT or [], None

    def run_next() -> None:
        while queued:
            fn, owner = queued.pop(0)
            if owner is not None and not shiboken6.isValid(owner):
                continue
            try:
                fn()
            except Exception:  # noqa: BLE001  (one broken part must not starve the others)
                traceback.print_exc()
            if queued:
                QTimer.singleShot(0, run_next)
            return

    run_next()


class FirstPaintWatcher(QObject):
    """Emits :attr:`first_painted` once ``widget``'s first frame is complete.

    An event filter sees the widget's first Paint event; the signal follows through a
    zero-delay timer, i.e. after the whole window (children included) has been painted
    and flushed in that paint cycle.
    """

    first_painted = Signal()

    def __init__(self, widget: QWidget):
        super().__init__(widget)
        self._widget = widget
        self._seen = False
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802  (Qt override)
        if not self._seen and obj is self._widget and event.type() == QEvent.Type.Paint:
            self._seen = True
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self.first_painted.emit)
        return False


def _quit() -> None:
    """The probe's quit: no window asks first (a run the probe started trains)."""
    from workbench.qt.closing import QUIT_WITHOUT_ASKING

    QApplication.instance().setProperty(QUIT_WITHOUT_ASKING, True)
    QApplication.quit()


def start_after_first_paint(window: QWidget, loader: TorchLoader | None = None,
                            probe: str | None = None) -> FirstPaintWatcher:
    """Start ``loader``'s background import once ``window`` is painted; with a probe (see
    the module doc) print the times and quit the application."""
    loader = loader or torch_loader()
    probe = probe_mode() if probe is None else probe
    watcher = FirstPaintWatcher(window)

    def on_painted() -> None:
        if probe:
            print(f"first-paint {time.time():.6f} torch={int('torch' in sys.modules)} "
                  f"pyqtgraph={int('pyqtgraph' in sys.modules)}", flush=True)
            if probe == "paint":
                _quit()
                return
        loader.start()  # nothing when something needed torch already and it is loaded
        run_after_paint_work()  # the tabs not shown, one an event-loop turn
        if probe == "ready" and loader.is_ready():
            QTimer.singleShot(0, on_ready)

    def on_ready() -> None:
        print(f"torch-ready {time.time():.6f} import-seconds={loader.seconds:.3f}",
              flush=True)
        _quit()

    watcher.first_painted.connect(on_painted)
    if probe == "ready":
        loader.ready.connect(on_ready)
        loader.failed.connect(lambda message: QApplication.exit(3))
    return watcher
