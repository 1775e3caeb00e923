"""What a run keeps and says when its folder lets it down: a run.json damaged before a
resume keeps what still reads of it (the run's name, notes and date) and says where its copy
is; a disk that fills while an epoch's checkpoints are written still keeps that epoch's
metrics; a file where the runs folder should be is named, and the advice is the one the
run's front end can follow (walk-crash defects 2, 6 and 7)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.io import runs_dir
from workbench.core.runs.record import read_history
from workbench.core.runs.recorder import new_run_dir
from workbench.core.runs.store import read_run_info, update_run_info
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.disk import describe_write_failure, file_in_the_way, folder_failure
from workbench.core.train.run import run_training


class _Heard(Callback):
    """A watcher, as the app's bridge is: the start info it heard (after the recorder)."""

    def __init__(self):
        self.notes: list[str] = []

    def on_fit_start(self, trainer, info):
        self.notes = list(info.get("notes") or [])


def _trained(tiny_experiment, run_dir: Path) -> Path:
    tiny_experiment.training.epochs = 1
    assert run_training(tiny_experiment, run_dir).status == "finished"
    update_run_info(run_dir, name="my-precious-run", notes="three days of tuning")
    return run_dir


def _resumed(run_dir: Path) -> _Heard:
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment
    exp.training.epochs = ckpt.epoch + 1
    heard = _Heard()
    outcome = run_training(exp, run_dir, watchers=[heard], checkpoint=ckpt)
    assert outcome.status == "finished", outcome.error
    return heard


def _cut_after(run_dir: Path, key: str) -> str:
    """Cut run.json short just after the line of ``key`` (as a kill mid-write would)."""
    text = (run_dir / "run.json").read_text()
    line_end = text.index("\n", text.index(f'"{key}"'))
    (run_dir / "run.json").write_text(text[:line_end + 1])
    return text


def test_a_resume_keeps_what_still_reads_of_a_damaged_run_json_and_says_where_it_is(
        tmp_path, tiny_experiment):
    run_dir = _trained(tiny_experiment, tmp_path / "k5")
    before = json.loads(_cut_after(run_dir, "notes"))
    damaged = (run_dir / "run.json").read_text()
    heard = _resumed(run_dir)
    info = read_run_info(run_dir)
    assert info["name"] == "my-precious-run" and info["notes"] == "three days of tuning"
    assert info["created"] == before["created"]  # the Runs tab's date does not move
    assert info["epochs_done"] == 2 and info["duration_s"] >= before["duration_s"]
    [copy] = run_dir.glob("run.json.damaged-*")
    assert copy.read_text() == damaged  # as it was
    # One form: the damaged file and its copy both by their full paths (it said
    # "k5/run.json" before, and its copy's full path).
    note = (f"{run_dir / 'run.json'} was damaged (cut short, or not valid JSON): it is kept "
            f"as it was in {copy}, and a new run.json was written; read back from it: its "
            f"name (my-precious-run), its creation date and its notes")
    assert note in heard.notes  # the app shows the start notes it hears
    assert note in info["start_notes"]  # and a restart, and workbench report


def test_what_could_not_be_read_back_is_named(tmp_path, tiny_experiment):
    run_dir = _trained(tiny_experiment, tmp_path / "k6")
    _cut_after(run_dir, "created")  # the notes come later in the file: lost
    heard = _resumed(run_dir)
    assert read_run_info(run_dir)["name"] == "my-precious-run"
    [note] = [n for n in heard.notes if "was damaged" in n]
    assert note.endswith("read back from it: its name (my-precious-run) and its creation "
                         "date; could not be read back: its notes")


def test_a_disk_full_at_best_pt_keeps_the_epoch_plotted(tmp_path, tiny_experiment,
                                                       monkeypatch):
    import workbench.core.train.callbacks.checkpoints as checkpoints

    real = checkpoints.atomic_write

    def full(path, write):  # best.pt is copied from last.pt: the disk fills up there
        if Path(path).name == "best.pt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(checkpoints, "atomic_write", full)
    run_dir = tmp_path / "full"
    outcome = run_training(tiny_experiment, run_dir)
    assert outcome.status == "failed"
    assert "epoch 1 is kept in" in str(outcome.error)
    info = read_run_info(run_dir)
    assert info["epochs_done"] == 1
    # metrics.json is written before best.pt: the kept epoch is plotted after a restart.
    assert [m["epoch"] for m in read_history(run_dir)] == [1]


def test_a_file_where_the_runs_folder_goes_is_named(tmp_path):
    runs = tmp_path / "runs"
    runs.write_text("x")  # a stray download, a sync conflict
    with pytest.raises(WorkbenchError) as raised:
        new_run_dir("seed-cnn", runs)
    message = str(raised.value)
    assert message.startswith(f"cannot create the run folder {runs}/")
    assert message.endswith(f": {runs} is a file, not a folder; move or rename that file")
    assert file_in_the_way(runs / "a" / "b") == runs
    assert file_in_the_way(tmp_path / "nothing" / "here") is None


def test_the_advice_is_the_one_the_runs_front_end_can_follow(tmp_path):
    full = OSError(errno.ENOSPC, "No space left on device")
    # The app's runs (the data directory's runs folder): it has no runs-folder setting.
    _, app = describe_write_failure(full, runs_dir() / "2026-12-07-run")
    assert app == ("free some disk space, or start Workbench with WORKBENCH_HOME set to a "
                   "writable folder on another disk, where its runs then go")
    # workbench train --out DIR
    _, cli = describe_write_failure(full, tmp_path / "out")
    assert cli == ("free some disk space, or train into a writable folder on another "
                   "disk (--out)")
    # A resumed run stays in its folder.
    _, resumed = describe_write_failure(full, tmp_path / "out", in_place=True)
    assert resumed == "free some disk space there"
    denied = OSError(errno.EACCES, "Permission denied")
    assert "choose" not in describe_write_failure(denied, runs_dir() / "r")[1]
    assert folder_failure(tmp_path / "r", denied) == (
        f"cannot create the run folder {tmp_path / 'r'}: Permission denied; you may not "
        f"write there: train into a writable folder (--out)")


def test_workbench_resume_prints_the_damaged_run_json_note(tmp_path, tiny_experiment,
                                                           capsys):
    # The note reached the app's watchers and run.json, but the console printed the start
    # notes before the recorder had added it: `workbench resume` said nothing.
    from tests.helpers import run_cli

    run_dir = _trained(tiny_experiment, tmp_path / "k5")
    _cut_after(run_dir, "notes")
    code, out, _ = run_cli(capsys, "resume", run_dir, "--epochs", 2)
    assert code == 0
    [line] = [l for l in out.splitlines() if "was damaged" in l]
    assert line.startswith(f"note: {run_dir / 'run.json'} was damaged (cut short, or not "
                           f"valid JSON): it is kept as it was in {run_dir}/run.json.damaged-")
    assert out.index(line) < out.index("epoch 2/")  # said as the run starts


def test_workbench_train_names_a_file_where_its_out_folder_goes(tmp_path, tiny_experiment,
                                                                capsys):
    from tests.helpers import run_cli

    (tmp_path / "afile").write_text("x")
    exp = tmp_path / "exp.json"
    tiny_experiment.save(exp)
    code, _, err = run_cli(capsys, "train", exp, "--out", tmp_path / "afile" / "run")
    assert code == 2
    assert f"{tmp_path / 'afile'} is a file, not a folder; move or rename that file" in err


def test_resume_of_a_finished_run_whose_run_json_is_damaged_keeps_its_bundle(
        tmp_path, tiny_experiment, capsys):
    # It said "its bundle was never written", wrote bundle.pt over the good one and a
    # run.json without the run's name, notes or creation date (walk-tomorrow3 defect 2).
    from tests.helpers import run_cli

    run_dir = _trained(tiny_experiment, tmp_path / "k7")
    bundle = (run_dir / "bundle.pt").read_bytes()
    _cut_after(run_dir, "notes")
    code, out, err = run_cli(capsys, "resume", run_dir)
    assert code != 0 and "never written" not in out + err
    assert "has finished all its 1 epochs: give --epochs N" in err
    assert (run_dir / "bundle.pt").read_bytes() == bundle


def test_resume_finishing_a_damaged_run_without_its_bundle_keeps_its_name_and_notes(
        tmp_path, tiny_experiment, capsys):
    from tests.helpers import run_cli
    from workbench.core.bundle import load_bundle

    run_dir = _trained(tiny_experiment, tmp_path / "k8")
    before = json.loads(_cut_after(run_dir, "notes"))
    (run_dir / "bundle.pt").unlink()  # the kill came as it was written
    code, out, err = run_cli(capsys, "resume", run_dir)
    assert code == 0, err
    assert "its bundle was never written" in out
    info = read_run_info(run_dir)
    assert info["name"] == "my-precious-run" and info["notes"] == "three days of tuning"
    assert info["created"] == before["created"] and info["status"] == "finished"
    assert info["bundle"]["epoch"] == 1
    assert load_bundle(run_dir / "bundle.pt").info["name"] == "my-precious-run"
    [copy] = run_dir.glob("run.json.damaged-*")
    assert f"was damaged (cut short, or not valid JSON): it is kept as it was in {copy}" in err


def test_resume_of_an_early_stopped_run_whose_run_json_is_damaged_trains_on(
        tmp_path, tiny_experiment, capsys):
    # An early-stopped run with epochs left: the first resume trained nothing.
    from tests.helpers import run_cli

    tiny_experiment.training.early_stopping, tiny_experiment.training.patience = True, 1
    tiny_experiment.training.min_delta = 100.0  # never an improvement after epoch 1
    tiny_experiment.training.epochs = 4
    run_dir = tmp_path / "k9"
    assert run_training(tiny_experiment, run_dir).status == "early_stopped"
    update_run_info(run_dir, name="my-precious-run", notes="three days of tuning")
    _cut_after(run_dir, "notes")
    code, out, err = run_cli(capsys, "resume", run_dir)
    assert code == 0, err
    assert "epoch 3/4" in out and "never written" not in out
    info = read_run_info(run_dir)
    assert info["epochs_done"] == 3 and info["name"] == "my-precious-run"
    assert info["notes"] == "three days of tuning"
