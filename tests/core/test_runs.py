"""Run history: the folders are the truth, the SQLite index follows them and survives damage."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.runs.store import (RunStore, read_run_info, update_run_info, write_run_info)


def epoch(n: int, val_acc: float | None = 0.5, train_loss: float = 1.0) -> dict:
    return {"epoch": n, "train_loss": train_loss, "train_acc": 0.4,
            "val_loss": None if val_acc is None else 1.0 - val_acc,
            "val_acc": val_acc, "lr": 0.01, "seconds": 1.5}


def make_run(root: Path, folder: str, val_accs=(0.5, 0.75, 0.625), info: dict | None = None,
             bundle: bool = True, experiment: dict | None = None) -> Path:
    """A run folder as the trainer leaves it; ``info=None`` writes no run.json (legacy)."""
    d = root / folder
    d.mkdir(parents=True)
    epochs = [epoch(i + 1, v, train_loss=1.0 / (i + 1)) for i, v in enumerate(val_accs)]
    (d / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    exp = experiment if experiment is not None else {
        "format_version": 1, "name": "colours",
        "data": {"batch_size": 16, "input_size": [32, 32]},
        "model": {"preset": "seed-cnn"},
        "optimizer": {"type": "SGD", "params": {"lr": 0.05}},
        "scheduler": {"type": "cosine", "params": {}},
        "training": {"epochs": len(val_accs), "device": "auto"}}
    (d / "experiment.json").write_text(json.dumps(exp))
    if bundle:
        (d / "bundle.pt").write_bytes(b"weights")
    if info is not None:
        write_run_info(d, info)
    return d


def finished_info(name: str, created: str, **extra) -> dict:
    return {"name": name, "experiment_name": "colours", "created": created, "updated": created,
            "finished": created, "status": "finished", "message": "", "epochs_done": 3,
            "epochs_planned": 3, "duration_s": 42.0, "device": "cpu", "notes": "", **extra}


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "runs"


def test_refresh_lists_runs_newest_first_with_their_summary(root):
    make_run(root, "a", info=finished_info("first", "2024-05-01T10:00:00"))
    make_run(root, "b", val_accs=(0.25, None), info=finished_info("second",
                                                                  "2024-05-02T09:00:00"))
    store = RunStore(root)
    assert store.refresh().added == 2
    second, first = store.runs()
    assert (first.name, second.name) == ("first", "second")
    assert first.path == str(root / "a")
    assert first.best_val_acc == 0.75  # the best epoch, not the last
    assert first.best_val_loss == pytest.approx(0.25)
    assert first.last_train_loss == pytest.approx(1 / 3)
    assert (first.status, first.epochs_done, first.epochs_planned) == ("finished", 3, 3)
    assert (first.duration_s, first.device, first.has_bundle) == (42.0, "cpu", True)
    assert (first.optimizer, first.lr, first.batch_size) == ("SGD", 0.05, 16)
    assert (first.preset, first.scheduler, first.input_size) == ("seed-cnn", "cosine", (32, 32))
    assert second.best_val_acc == 0.25  # an epoch without validation is skipped
    assert first.problem == "" and store.index_problem == ""
    assert (root / "runs.sqlite").is_file()
    assert store.history(root / "a")[1]["val_acc"] == 0.75


def test_refresh_follows_added_removed_and_edited_folders(root):
    make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    b = make_run(root, "b", info=finished_info("b", "2024-05-01T11:00:00"))
    store = RunStore(root)
    store.refresh()
    assert store.refresh().__dict__ == {"added": 0, "updated": 0, "removed": 0}

    make_run(root, "c", info=finished_info("c", "2024-05-01T12:00:00"))
    import shutil
    shutil.rmtree(b)
    update_run_info(root / "a", status="stopped", message="stopped by the user")
    summary = store.refresh()
    assert (summary.added, summary.updated, summary.removed) == (1, 1, 1)
    runs = {r.name: r for r in store.runs()}
    assert set(runs) == {"a", "c"}
    assert (runs["a"].status, runs["a"].message) == ("stopped", "stopped by the user")

    # More epochs in metrics.json (a run still training) show too.
    (root / "c" / "metrics.json").write_text(json.dumps(
        {"epochs": [epoch(1, 0.5), epoch(2, 0.9)]}))
    store.refresh()
    assert store.get(root / "c").best_val_acc == 0.9


def test_subfolders_without_run_files_are_not_runs(root):
    make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    (root / "cache").mkdir()
    (root / "notes.txt").write_text("x")
    store = RunStore(root)
    store.refresh()
    assert [r.name for r in store.runs()] == ["a"]
    with pytest.raises(WorkbenchError, match="not a training run"):
        store.delete(root / "cache")
    assert (root / "cache").is_dir()


def test_rename_and_notes_persist_in_run_json_and_survive_a_rebuilt_index(root):
    a = make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    store = RunStore(root)
    store.refresh()
    assert store.rename(a, "  baseline  ").name == "baseline"
    store.annotate(a, "lr too high?\nretry with 0.01")
    assert read_run_info(a)["name"] == "baseline"
    assert read_run_info(a)["notes"] == "lr too high?\nretry with 0.01"
    assert read_run_info(a)["status"] == "finished"  # the other keys are kept
    [rec] = store.runs()  # the index knows without a refresh
    assert (rec.name, rec.notes) == ("baseline", "lr too high?\nretry with 0.01")

    for suffix in ("", "-wal", "-shm"):
        Path(f"{root / 'runs.sqlite'}{suffix}").unlink(missing_ok=True)
    fresh = RunStore(root)
    fresh.refresh()
    [rec] = fresh.runs()
    assert (rec.name, rec.notes) == ("baseline", "lr too high?\nretry with 0.01")


def test_rename_refuses_an_empty_name(root):
    a = make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    with pytest.raises(SpecError, match="cannot be empty"):
        RunStore(root).rename(a, "   ")
    assert read_run_info(a)["name"] == "a"


def test_delete_removes_the_folder_and_its_entry(root):
    a = make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    make_run(root, "b", info=finished_info("b", "2024-05-01T11:00:00"))
    store = RunStore(root)
    store.refresh()
    store.delete(a)
    assert not a.exists()
    assert [r.name for r in store.runs()] == ["b"]


def test_delete_refuses_folders_outside_the_runs_folder(root, tmp_path):
    make_run(root, "a", info=finished_info("a", "2024-05-01T10:00:00"))
    outside = make_run(tmp_path / "elsewhere", "x", info=finished_info("x", "2024-05-01"))
    nested = make_run(root / "a", "deeper", info=finished_info("d", "2024-05-01"))
    store = RunStore(root)
    for path in (outside, root, nested, root / "a" / ".." / ".." / "elsewhere" / "x"):
        with pytest.raises(WorkbenchError, match="is not a run folder of"):
            store.delete(path)
    assert outside.is_dir() and nested.is_dir() and root.is_dir()


def test_delete_refuses_a_run_still_training_but_not_a_stale_one(root):
    now = datetime.now()
    live = make_run(root, "live", info=finished_info(
        "live", now.isoformat(), status="running", updated=now.isoformat(), finished=None))
    stale_time = (now - timedelta(minutes=10)).isoformat()
    stale = make_run(root, "stale", info=finished_info(
        "stale", stale_time, status="running", updated=stale_time, finished=None))
    store = RunStore(root)
    with pytest.raises(WorkbenchError, match="still training: stop it"):
        store.delete(live)
    assert live.is_dir()
    store.delete(stale)  # a crashed run: its "running" status is old news
    assert not stale.exists()


def test_export_csv_writes_one_row_per_epoch_per_run(root, tmp_path):
    a = make_run(root, "a", val_accs=(0.5, 0.75), info=finished_info("alpha", "2024-05-01"))
    b = make_run(root, "b", val_accs=(None,), info=finished_info("beta", "2024-05-02"))
    store = RunStore(root)
    out = tmp_path / "out" / "metrics.csv"
    assert store.export_csv([a, b], out) == 3
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["run", "path", "epoch", "train_loss", "train_acc", "val_loss",
                             "val_acc", "val_bal_acc", "lr", "seconds"]
    assert [(r["run"], r["epoch"], r["val_acc"]) for r in rows] == [
        ("alpha", "1", "0.5"), ("alpha", "2", "0.75"), ("beta", "1", "")]
    assert rows[0]["path"] == str(a) and rows[2]["path"] == str(b)
    assert float(rows[1]["train_loss"]) == 0.5 and rows[1]["lr"] == "0.01"
    assert rows[2]["val_loss"] == ""


def test_export_csv_to_an_unwritable_place_is_a_clear_error(root, tmp_path):
    a = make_run(root, "a", info=finished_info("a", "2024-05-01"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(WorkbenchError, match="cannot write .*choose another"):
        RunStore(root).export_csv([a], blocker / "metrics.csv")


def test_a_legacy_run_without_run_json_is_listed_from_its_files(root):
    make_run(root, "2024-03-07_08-09-10-colours-2", info=None)
    make_run(root, "2024-03-08_08-00-00-short", info=None, val_accs=(0.5,),
             experiment={"name": "short", "training": {"epochs": 5}})
    store = RunStore(root)
    store.refresh()
    short, legacy = store.runs()
    assert legacy.name == "colours-2"
    assert legacy.created == "2024-03-07T08:09:10"
    assert (legacy.status, legacy.epochs_done, legacy.epochs_planned) == ("finished", 3, 3)
    assert legacy.duration_s == pytest.approx(4.5)  # the epochs' seconds
    assert (legacy.best_val_acc, legacy.optimizer, legacy.has_bundle) == (0.75, "SGD", True)
    assert short.status == "stopped"  # 1 of 5 epochs, then a bundle: stopped early
    assert short.optimizer == "" and short.lr is None  # what the file lacks stays unknown
    # Notes on a legacy run create its run.json; what was derived stays.
    store.annotate(legacy.path, "old run")
    rec = store.get(legacy.path)
    assert (rec.notes, rec.name, rec.created) == ("old run", "colours-2", "2024-03-07T08:09:10")


def test_corrupt_json_in_one_folder_does_not_break_the_listing(root):
    good = make_run(root, "good", info=finished_info("good", "2024-05-01"))
    bad_info = make_run(root, "bad-info", info=None)
    (bad_info / "run.json").write_text('{"name": "broken", ')
    bad_metrics = make_run(root, "bad-metrics", info=finished_info("bm", "2024-05-03"))
    (bad_metrics / "metrics.json").write_bytes(b"\xff\xfe not json")
    store = RunStore(root)
    store.refresh()
    runs = {Path(r.path).name: r for r in store.runs()}
    assert set(runs) == {"good", "bad-info", "bad-metrics"}
    assert runs["good"].problem == ""
    assert "run.json is not valid JSON" in runs["bad-info"].problem
    assert runs["bad-info"].best_val_acc == 0.75  # its metrics were still read
    assert "metrics.json" in runs["bad-metrics"].problem
    assert runs["bad-metrics"].best_val_acc is None and runs["bad-metrics"].name == "bm"
    assert store.history(bad_metrics) == []
    assert good.is_dir()


def test_a_corrupt_index_file_is_rebuilt(root):
    make_run(root, "a", info=finished_info("a", "2024-05-01"))
    (root / "runs.sqlite").write_bytes(b"this is not a database" * 100)
    store = RunStore(root)
    store.refresh()
    assert [r.name for r in store.runs()] == ["a"]
    assert store.index_problem == ""
    with sqlite3.connect(root / "runs.sqlite") as con:  # a real index again
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_an_index_of_another_schema_is_rebuilt(root):
    make_run(root, "a", info=finished_info("a", "2024-05-01"))
    root.mkdir(exist_ok=True)
    with sqlite3.connect(root / "runs.sqlite") as con:
        con.execute("CREATE TABLE runs (path TEXT PRIMARY KEY, fingerprint TEXT)")
        con.execute("INSERT INTO runs VALUES ('a', 'stale')")
    store = RunStore(root)
    store.refresh()
    assert [r.name for r in store.runs()] == ["a"]


def test_an_index_read_under_older_rules_is_read_again(root, monkeypatch):
    """Stop 31's note: a folder indexed before a rule was added (run.json missing is now a
    ⚠) kept its old row until a file in it changed."""
    from workbench.core.runs import index

    make_run(root, "a", info=None)  # no run.json: the rules now name that
    store = RunStore(root)
    store.refresh()
    [rec] = store.runs()
    assert "run.json is missing" in rec.problem
    # As the Workbench before that rule left it: the same columns, the version they made.
    older = zlib.crc32(",".join(index.COLUMNS).encode()) & 0x7FFFFFFF
    with sqlite3.connect(root / "runs.sqlite") as con:
        con.execute("UPDATE runs SET problem = ''")
        con.execute(f"PRAGMA user_version = {older}")
    store = RunStore(root)
    store.refresh()
    assert "run.json is missing" in store.runs()[0].problem


def test_an_unusable_index_falls_back_to_memory(root):
    make_run(root, "a", info=finished_info("a", "2024-05-01"))
    (root / "runs.sqlite").mkdir()  # a folder where the file should be: cannot be opened
    store = RunStore(root)
    store.refresh()
    assert [r.name for r in store.runs()] == ["a"]
    assert "runs.sqlite" in store.index_problem
    store.rename(root / "a", "renamed")
    assert store.runs()[0].name == "renamed"


def test_a_missing_runs_folder_lists_nothing_and_is_not_created(root):
    store = RunStore(root)
    assert store.refresh().added == 0
    assert store.runs() == []
    assert not root.exists()


def test_two_stores_on_one_index_see_each_others_changes(root):
    for i in range(20):
        make_run(root, f"r{i:02d}", info=finished_info(f"r{i}", f"2024-05-01T10:{i:02d}:00"))
    one, two = RunStore(root), RunStore(root)
    errors: list[BaseException] = []

    def keep_refreshing(store: RunStore) -> None:
        try:
            for _ in range(10):
                store.refresh()
                assert len(store.runs()) == 20
        except BaseException as e:  # noqa: BLE001  (reported by the assert below)
            errors.append(e)

    threads = [threading.Thread(target=keep_refreshing, args=(s,)) for s in (one, two)]
    for t in threads:
        t.start()
    for i in range(5):
        one.annotate(root / f"r{i:02d}", f"note {i}")
    for t in threads:
        t.join()
    assert errors == []
    two.refresh()
    notes = {r.name: r.notes for r in two.runs()}
    assert [notes[f"r{i}"] for i in range(5)] == [f"note {i}" for i in range(5)]
    assert one.index_problem == two.index_problem == ""
