"""Work that must not run on the GUI thread, through one worker abstraction.

::

    worker.py    Worker (a function run off the GUI thread: started, progressed/yielded,
                 returned or errored, finished; cancel()), TaskState, WorkerSignals,
                 await_workers (every live worker, bounded, at quit), describe_exception
    threads.py   WorkerThread (runs workers one at a time), the shared training thread
    tasks.py     TaskRunner: short jobs on Qt's pool; a new one supersedes the stale one
    run.py       WorkerRun: owns one long worker; its news become its own signals
    training.py  TrainingWorker (the one function that runs the trainer), TrainingRun
    bridge.py    the trainer callback that turns hooks into a run's news
    gui_gc.py    Python's cycle collector, on the GUI thread only

The names views use are re-exported here (``from workbench.qt.workers import
TaskRunner``). Importing this package does not import torch (the window must appear
without it, see :mod:`workbench.qt.startup`). The Tune tab's study is a
:class:`WorkerRun` too (:mod:`workbench.qt.panels.tune.worker`).
"""

from workbench.qt.workers.gui_gc import GuiThreadGarbageCollector, collect_garbage_on_gui_thread
from workbench.qt.workers.tasks import TaskRunner, task_pool
from workbench.qt.workers.training import TrainingRun, TrainingWorker
from workbench.qt.workers.worker import (TaskState, Worker, await_workers, describe_exception,
                                         plain)

__all__ = ["GuiThreadGarbageCollector", "TaskRunner", "TaskState", "TrainingRun",
           "TrainingWorker", "Worker", "await_workers", "collect_garbage_on_gui_thread",
           "describe_exception", "plain", "task_pool"]
