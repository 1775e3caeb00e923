"""Which runs are training now: a training process holds its run folder's lock, so a run
whose process died is told from a live one (listed "interrupted", deletable), a second
process cannot train into a live run's folder, and run.json edits never lose each other."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta

import pytest

from workbench.cli import main
from workbench.core.errors import WorkbenchError
from workbench.core.runs.lock import LOCK_NAME, RunLock, editing_run_info, is_live
from workbench.core.runs.store import (INTERRUPTED, RunStore, read_run_info, run_is_live,
                                 update_run_info, write_run_info)
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.trainer import Callback, Trainer

RUN_TIMEOUT_S = 120


def _running_info(when: datetime) -> dict:
    return {"name": "r", "created": when.isoformat(), "updated": when.isoformat(),
            "finished": None, "status": "running", "epochs_done": 1}


def _folder(root, name, info):
    d = root / name
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"epochs": []}))
    write_run_info(d, info)
    return d


class _HoldAfterFirstEpoch(Callback):
    """Holds the run after its first epoch until released: a run caught mid-training."""

    def __init__(self):
        self.reached, self.release = threading.Event(), threading.Event()

    def on_epoch_end(self, trainer, epoch, metrics):
        if epoch == 1:
            self.reached.set()
            assert self.release.wait(RUN_TIMEOUT_S)


def test_a_training_run_is_live_until_it_ends_and_a_second_writer_is_refused(
        tiny_experiment, tmp_path):
    tiny_experiment.training.epochs = 2
    run_dir = tmp_path / "runs" / "live"
    hold = _HoldAfterFirstEpoch()
    trainer = Trainer(tiny_experiment, callbacks=[RunRecorder(run_dir), hold])
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _fit(trainer, errors))
    thread.start()
    try:
        assert hold.reached.wait(RUN_TIMEOUT_S)
        assert is_live(run_dir) is True and run_is_live(run_dir)
        store = RunStore(tmp_path / "runs")
        store.refresh()
        [record] = store.runs()
        assert record.status == "running"
        with pytest.raises(WorkbenchError, match="still training: stop it"):
            store.delete(run_dir)

        # Another trainer resuming the same folder (another window, `workbench resume`).
        second = Trainer(tiny_experiment, callbacks=[RunRecorder(run_dir)],
                         checkpoint=load_checkpoint(run_dir))
        with pytest.raises(WorkbenchError, match="is being trained right now"):
            second.fit()
        info = read_run_info(run_dir)
        assert info["status"] == "running" and info["epochs_done"] == 1  # left alone
    finally:
        hold.release.set()
        thread.join(RUN_TIMEOUT_S)
    assert not errors
    assert is_live(run_dir) is False
    assert read_run_info(run_dir)["status"] == "finished"


def _fit(trainer, errors):
    try:
        trainer.fit()
    except BaseException as e:  # noqa: BLE001
        errors.append(e)


def test_a_run_whose_process_died_is_listed_interrupted_and_can_be_deleted(tmp_path):
    root = tmp_path / "runs"
    now = datetime.now()
    died = _folder(root, "died", _running_info(now))  # updated a moment ago...
    (died / LOCK_NAME).touch()  # ...but nobody holds its lock: the process is gone
    alive = _folder(root, "alive", _running_info(now))
    lock = RunLock(alive)
    assert lock.acquire()
    try:
        store = RunStore(root)
        store.refresh()
        assert store.get(died).status == INTERRUPTED
        assert store.get(alive).status == "running"
        assert sorted(r.status for r in store.runs()) == [INTERRUPTED, "running"]
        store.delete(died)
        assert not died.exists()
        with pytest.raises(WorkbenchError, match="still training"):
            store.delete(alive)
        # The index keeps run.json's word; liveness is asked at each listing.
        lock.release()
        assert [r.status for r in store.runs()] == [INTERRUPTED]
        store.delete(alive)
    finally:
        lock.release()


def test_without_a_lock_file_a_recent_update_counts_as_live(tmp_path):
    # Runs written before locks existed: run.json's time is all there is to go by.
    root = tmp_path / "runs"
    now = datetime.now()
    recent = _folder(root, "recent", _running_info(now))
    old = _folder(root, "old", _running_info(now - timedelta(minutes=10)))
    assert is_live(recent) is None
    assert run_is_live(recent) and not run_is_live(old)
    store = RunStore(root)
    store.refresh()
    assert store.get(recent).status == "running" and store.get(old).status == INTERRUPTED


def test_resume_of_a_run_training_elsewhere_is_refused_in_one_line(capsys, tmp_path,
                                                                     tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    assert main(["train", str(exp_file), "--out", str(run_dir)]) == 0
    capsys.readouterr()
    before = (run_dir / "run.json").read_text()
    lock = RunLock(run_dir)  # as the process training it would
    assert lock.acquire()
    try:
        code = main(["resume", str(run_dir), "--epochs", "1"])
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert code == 2 and "is being trained right now" in err
    assert err.strip().endswith(f"is being trained right now: let it finish or stop it in "
                                f"the terminal that trains it (process {os.getpid()}), with "
                                f"Ctrl-C, then resume it")
    assert len(err.strip().splitlines()) == 1
    assert (run_dir / "run.json").read_text() == before  # nothing touched
    assert main(["resume", str(run_dir), "--epochs", "1"]) == 0  # once it has stopped


def test_concurrent_run_json_edits_lose_nothing(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run_info(run_dir, {"status": "running"})

    def edit(key: str) -> None:
        for i in range(100):
            update_run_info(run_dir, **{f"{key}{i}": i})

    threads = [threading.Thread(target=edit, args=(k,)) for k in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(RUN_TIMEOUT_S)
    info = read_run_info(run_dir)
    assert all(f"{k}{i}" in info for k in "abc" for i in range(100))


def test_an_edit_goes_ahead_when_the_lock_cannot_be_had(tmp_path, monkeypatch):
    import workbench.core.runs.lock as run_lock

    monkeypatch.setattr(run_lock, "EDIT_WAIT_S", 0.05)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run_info(run_dir, {"status": "running"})
    with editing_run_info(run_dir):  # a writer that never lets go (a hung process)
        update_run_info(run_dir, notes="kept")  # waits 0.05 s, then writes anyway
    assert read_run_info(run_dir)["notes"] == "kept"


def test_a_read_only_folder_is_neither_locked_nor_an_error(tmp_path):
    missing = tmp_path / "nowhere"
    lock = RunLock(missing)
    assert lock.acquire() and not lock.held  # nothing could be locked; nothing refused
    assert is_live(missing) is None
