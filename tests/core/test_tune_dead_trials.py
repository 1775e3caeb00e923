"""A trial whose process was killed is not left "running": a study continued (or ending)
in another process marks it failed, "interrupted", says why and links its run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from workbench.core.runs.lock import RunLock  # noqa: E402
from workbench.core.train.callbacks.base import Callback  # noqa: E402
from workbench.core.train.run import run_training  # noqa: E402
from workbench.core.tune.study import run_study  # noqa: E402

SPACE = {"format_version": 1, "sampler": "random", "seed": 0, "epochs": 1,
         "params": {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 1e-2,
                                            "log": True}}}


class _StopAfterOne(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        trainer.request_stop()


def _trial_run(experiment, name: str, runs: Path) -> Path:
    """The run folder a trial's process left when it was killed after its first epoch:
    run.json still "running", no bundle, its lock free."""
    exp = experiment.copy()
    exp.name, exp.training.epochs = name, 3
    outcome = run_training(exp, None, [_StopAfterOne()], runs_parent=runs)
    folder = Path(outcome.run_dir)
    (folder / "bundle.pt").unlink()
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    info.update(status="running", finished=None, bundle=None)
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return folder


def test_a_continued_study_marks_the_trials_of_dead_processes_interrupted(tiny_experiment,
                                                                        tmp_path):
    url, runs = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "runs"
    run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="s",
              runs_parent=runs)
    study = optuna.load_study(study_name="s", storage=url)
    # Killed 10 s ago (its heartbeat not stale yet): it named its folder when it made it.
    killed = study.ask()
    killed_dir = _trial_run(tiny_experiment, f"s-trial-{killed.number}", runs)
    killed.set_user_attr("run_dir", str(killed_dir))
    # A trial of an older Workbench, which named its folder only at its end.
    older = study.ask()
    older_dir = _trial_run(tiny_experiment, f"s-trial-{older.number}", runs)
    # A trial still training in another process: it holds its folder's lock.
    live = study.ask()
    live_dir = _trial_run(tiny_experiment, f"s-trial-{live.number}", runs)
    live.set_user_attr("run_dir", str(live_dir))
    lock = RunLock(live_dir)
    assert lock.acquire()
    try:
        summary = run_study(tiny_experiment, SPACE, trials=1, storage=url,
                            study_name="s", runs_parent=runs)
    finally:
        lock.release()
    trials = {t["number"]: t for t in summary.trials}
    for trial, folder in ((killed, killed_dir), (older, older_dir)):
        t = trials[trial.number]
        assert (t["state"], t["failure"], t["run_dir"]) == ("fail", "interrupted",
                                                            str(folder))
        assert t["error"].startswith("its process ended during the trial (it was killed")
        assert f"its run {folder.name} kept 1 finished epoch and is listed as " \
               f"interrupted: Continue in Train goes on from it" in t["error"]
    assert trials[live.number]["state"] == "running"
    # The trial this call ran named its folder, and is complete.
    mine = trials[summary.ran[0]]
    assert mine["state"] == "complete" and Path(mine["run_dir"]).is_dir()


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_a_trial_killed_before_its_run_folder_is_marked_by_its_stale_heartbeat(
        tiny_experiment, tmp_path):
    import sqlite3

    from workbench.core.tune.storage import open_storage

    db = tmp_path / "s.db"
    url, runs = f"sqlite:///{db}", tmp_path / "runs"
    run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="s",
              runs_parent=runs)
    storage = open_storage(optuna, url)
    study = optuna.load_study(study_name="s", storage=storage)
    killed = study.ask()  # killed while it set up, before its run made a folder
    killed.set_user_attr("run_dir", None)
    storage.record_heartbeat(killed._trial_id)
    with sqlite3.connect(db) as con:  # its last heartbeat, long ago
        con.execute("UPDATE trial_heartbeats SET heartbeat = '2000-01-01 00:00:00'")
    summary = run_study(tiny_experiment, SPACE, trials=1, storage=url, study_name="s",
                        runs_parent=runs)
    t = next(t for t in summary.trials if t["number"] == killed.number)
    assert (t["state"], t["failure"], t["run_dir"]) == ("fail", "interrupted", None)
    assert t["error"] == ("its process stopped answering (no heartbeat for minutes: killed, "
                          "crashed or its machine lost); it kept no run folder")
