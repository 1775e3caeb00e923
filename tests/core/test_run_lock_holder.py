"""A run training elsewhere is refused (Continue, Delete) saying where it trains and how to
stop it there: its lock file names the process and whether a Workbench window or a
terminal holds it (walk-twowindows defect 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.runs.lock import LOCK_NAME, RunLock, is_live
from workbench.core.runs.plan import continue_plan
from workbench.core.runs.store import RunStore, write_run_info

_HOLD = ("import sys; from workbench.core.runs.lock import RunLock; "
         "lock = RunLock(sys.argv[1]); assert lock.acquire(); print('held', flush=True); "
         "sys.stdin.read()")  # a `workbench` command training into the folder


def _run(root, name="r"):
    folder = root / name
    folder.mkdir(parents=True)
    now = datetime.now().isoformat()
    write_run_info(folder, {"name": name, "created": now, "updated": now, "finished": None,
                            "status": "running", "epochs_done": 1})
    return folder


def _refusals(folder) -> tuple[str, str]:
    with pytest.raises(WorkbenchError) as continuing:
        continue_plan(folder)
    store = RunStore(folder.parent)
    store.refresh()
    with pytest.raises(WorkbenchError) as deleting:
        store.delete(folder)
    assert folder.is_dir()
    return str(continuing.value), str(deleting.value)


def test_a_run_training_in_a_terminal_names_its_process_and_ctrl_c(tmp_path):
    folder = _run(tmp_path / "runs")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cli = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)], env=env,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert cli.stdout.readline().strip() == "held"
        assert is_live(folder)
        continuing, deleting = _refusals(folder)
        where = f"stop it in the terminal that trains it (process {cli.pid}), with Ctrl-C"
        assert continuing == f"the run {folder} is training right now: {where}, then " \
                             f"continue it"
        assert deleting == f"the run r is still training: {where}, before deleting it"
    finally:
        cli.stdin.close()
        cli.wait(60)
    assert is_live(folder) is False  # its process ended: free again


def test_a_run_training_in_another_window_names_it_and_its_stop(tmp_path):
    folder = _run(tmp_path / "runs")
    lock = RunLock(folder)
    assert lock.acquire()
    try:  # as the other window's process wrote it
        (folder / LOCK_NAME).write_text(json.dumps({"pid": 4242, "by": "window"}))
        continuing, deleting = _refusals(folder)
        where = ("stop it in the other Workbench window that trains it (process 4242), with "
                 "Stop on its Train or Tune tab")
        assert continuing.endswith(f"is training right now: {where}, then continue it")
        assert deleting.endswith(f"still training: {where}, before deleting it")
        (folder / LOCK_NAME).write_text("")  # a lock of an older Workbench: both ways said
        continuing, deleting = _refusals(folder)
        assert continuing.endswith(
            "is training right now: stop it where it trains: in another Workbench window, "
            "with Stop on its Train or Tune tab, or in a terminal, with Ctrl-C, then "
            "continue it")
    finally:
        lock.release()
    assert (folder / LOCK_NAME).read_text() == ""  # nothing said of a lock nobody holds
