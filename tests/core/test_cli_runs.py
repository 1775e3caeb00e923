"""The run folder under a careless or hostile command line: ``train`` into an existing run,
a refused ``resume``, a run whose bundle write was cut off, a full or read-only disk, and
SIGTERM or a late Ctrl-C. Nothing is lost, and nothing on disk says what is not true."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import error_lines, make_image_folder, run_cli as run
from workbench import cli
from workbench.core.bundle import load_bundle
from workbench.core.runs.lock import RunLock
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.trainer import Trainer


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def info(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


@pytest.fixture
def trained(capsys, tmp_path, tiny_experiment):
    """A finished 2-epoch run: ``(experiment file, run folder)``."""
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    return exp_file, run_dir


# -- train into a folder that is not empty ---------------------------------------------------
def test_train_into_an_existing_run_is_refused_and_touches_nothing(capsys, trained):
    exp_file, run_dir = trained
    before = snapshot(run_dir)
    code, out, err = run(capsys, "train", exp_file, "--epochs", "1", "--out", run_dir)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert f"workbench resume {run_dir}" in lines[0] and "--overwrite" in lines[0]
    assert f"--out {run_dir}-2" in lines[0]  # a fresh folder, free to use
    assert not Path(f"{run_dir}-2").exists()
    assert snapshot(run_dir) == before


def test_train_into_a_folder_of_other_files_is_refused(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out_dir = tmp_path / "photos"
    out_dir.mkdir()
    (out_dir / "holiday.jpg").write_bytes(b"mine")
    code, _, err = run(capsys, "train", exp_file, "--out", out_dir)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "not empty" in err and "fresh folder" in err and "resume" not in err
    assert snapshot(out_dir) == {"holiday.jpg": b"mine"}


def test_train_into_an_empty_existing_folder_needs_no_flag(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out_dir = tmp_path / "empty"
    out_dir.mkdir()
    code, _, err = run(capsys, "train", exp_file, "--out", out_dir)
    assert code == 0, err
    assert (out_dir / "bundle.pt").is_file()



def test_a_train_refused_at_setup_leaves_no_folder_it_made(capsys, tmp_path,
                                                           tiny_experiment):
    # A device that is not there: refused before anything is trained or recorded, so the
    # folder the command made is not left behind (an existing one is kept).
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out_dir = tmp_path / "runs" / "new"
    code, _, err = run(capsys, "train", exp_file, "--out", out_dir, "--device", "cuda:99")
    assert code == 2 and "cuda" in err
    assert not out_dir.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    code, _, _ = run(capsys, "train", exp_file, "--out", kept, "--device", "cuda:99")
    assert code == 2 and kept.is_dir()


def test_overwrite_replaces_the_runs_own_files_and_leaves_others(capsys, trained):
    exp_file, run_dir = trained
    (run_dir / "notes.txt").write_text("my notes")
    (run_dir / "checkpoints" / "mine.pt").write_bytes(b"not Workbench's")
    (run_dir / "checkpoints" / ".last.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    code, out, err = run(capsys, "train", exp_file, "--epochs", "1", "--overwrite",
                         "--out", run_dir)
    assert code == 0, err
    assert "epoch 1/1" in out
    assert "deleted" in err and "bundle.pt" in err  # says what it did,
    assert "left alone: checkpoints/mine.pt, notes.txt" in err  # and what it did not
    record = info(run_dir)
    assert record["status"] == "finished" and record["epochs_done"] == 1
    assert record["epochs_planned"] == 1 and record["resumed"] == []
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert [m["epoch"] for m in epochs] == [1]
    assert load_checkpoint(run_dir).epoch == 1 and load_bundle(run_dir / "bundle.pt").epoch == 1
    assert (run_dir / "notes.txt").read_text() == "my notes"
    assert (run_dir / "checkpoints" / "mine.pt").read_bytes() == b"not Workbench's"
    assert not list(run_dir.rglob("*.tmp"))


def test_overwrite_of_a_run_being_trained_now_is_refused(capsys, trained):
    exp_file, run_dir = trained
    before = snapshot(run_dir)
    held = RunLock(run_dir)  # as the process training it holds it
    assert held.acquire()
    try:
        code, _, err = run(capsys, "train", exp_file, "--overwrite", "--out", run_dir)
    finally:
        held.release()
    assert code == 2 and "being trained right now" in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(run_dir) == before


# -- a refused resume ------------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["device", "data"])
def test_a_refused_resume_changes_nothing_on_disk(capsys, trained, tmp_path, flag):
    _, run_dir = trained
    if flag == "device":
        extra = ["--device", "cuda:99"]  # no such device here (nor on any machine)
    else:
        other = make_image_folder(tmp_path / "other", classes=("cat", "dog"), per_class=4)
        extra = ["--data", other]
    before = snapshot(run_dir)
    code, _, err = run(capsys, "resume", run_dir, "--epochs", "1", *extra)
    assert code == 2 and "Traceback" not in err
    assert snapshot(run_dir) == before  # run.json, metrics, checkpoints, bundle: every byte


# -- a run whose bundle write was cut off ----------------------------------------------------
def _cut_off_at_the_bundle(run_dir: Path) -> None:
    """Leave ``run_dir`` as a SIGKILL during its final bundle write does: every epoch in
    last.pt, no bundle.pt but its temporary file, run.json still "running" (its on_fit_start
    state: no bundle entry yet)."""
    (run_dir / "bundle.pt").unlink()
    (run_dir / ".bundle.pt.x1y2z3.tmp").write_bytes(b"half a bundle")
    record = info(run_dir)
    record.update(status="running", finished=None, bundle=None, message="")
    (run_dir / "run.json").write_text(json.dumps(record))


def test_resume_finishes_a_run_cut_off_while_writing_its_bundle(capsys, trained):
    _, run_dir = trained
    normal = load_bundle(run_dir / "bundle.pt")
    normal_record = info(run_dir)
    _cut_off_at_the_bundle(run_dir)
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "bundle.pt" in out and "last.pt" in out and "epoch 2" in out
    assert "1 stray temporary file" in out
    # Exactly what the normal finish had written.
    finished = load_bundle(run_dir / "bundle.pt")
    assert finished.epoch == 2 and finished.info == normal.info
    for k, v in normal.state_dict.items():
        assert torch.equal(finished.state_dict[k], v), k
    record = info(run_dir)
    assert record["status"] == "finished" and record["bundle"] == normal_record["bundle"]
    assert record["finished"] and record["epochs_done"] == 2
    assert not list(run_dir.rglob("*.tmp"))
    # Now it is complete: resuming it again asks for more epochs, as before.
    code, _, err = run(capsys, "resume", run_dir)
    assert code == 2 and "finished all its 2 epochs" in err


def test_resume_finishes_an_early_stopped_run_with_its_best_epoch(capsys, tmp_path,
                                                                  tiny_experiment,
                                                                  monkeypatch):
    exp_file = tmp_path / "exp.json"
    t = tiny_experiment.training
    t.epochs, t.early_stopping, t.patience = 8, True, 2
    t.monitor, t.restore_best = "val_acc", True
    tiny_experiment.save(exp_file)
    scores = iter([0.5, 0.9, 0.6, 0.7])  # best at epoch 2, stopped after epoch 4
    real = Trainer._run_epoch

    def scripted(self, epoch, train):
        out = real(self, epoch, train)
        return out if train or out is None else (out[0], next(scores))

    monkeypatch.setattr(Trainer, "_run_epoch", scripted)
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    monkeypatch.setattr(Trainer, "_run_epoch", real)
    normal, normal_record = load_bundle(run_dir / "bundle.pt"), info(run_dir)
    assert normal.epoch == 2 and normal_record["status"] == "early_stopped"
    _cut_off_at_the_bundle(run_dir)
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "best.pt" in out and "epoch 2" in out
    finished = load_bundle(run_dir / "bundle.pt")
    assert finished.info == normal.info
    for k, v in normal.state_dict.items():
        assert torch.equal(finished.state_dict[k], v), k
    record = info(run_dir)
    assert record["status"] == "early_stopped" and record["bundle"] == normal_record["bundle"]
    assert record["message"] == normal_record["message"]


# -- a full or read-only disk ----------------------------------------------------------------
class _FullDisk(io.RawIOBase):
    """A file whose writes fail with ``code`` once ``room`` bytes are in it."""

    def __init__(self, f, room: int, code: int):
        self.f, self.room, self.code = f, room, code

    def writable(self):
        return True

    def write(self, b):
        if len(b) > self.room:
            raise OSError(self.code, os.strerror(self.code))
        self.room -= len(b)
        return self.f.write(b)


def _torch_save_fails(monkeypatch, after: int, code: int = errno.ENOSPC) -> None:
    """``torch.save`` calls after the first ``after`` hit a full disk mid-file: torch then
    raises its own RuntimeError (inline_container.cc), as it does on a real full disk."""
    real, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) > after and not isinstance(f, (str, Path)):
            f = _FullDisk(f, 1000, code)
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


def test_torch_raising_on_a_full_disk_is_the_friendly_message(capsys, monkeypatch,
                                                              tiny_experiment, tmp_path):
    tiny_experiment.training.epochs = 3
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    _torch_save_fails(monkeypatch, after=1)  # epoch 1's last.pt is written, not epoch 2's
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--out", out)
    lines = error_lines(err)
    assert code == 2 and len(lines) == 1, err
    assert "bug" not in err and "No space left on device" in err
    assert "free some disk space" in err.lower() and "last.pt" in err
    assert load_checkpoint(out).epoch == 1
    record = info(out)
    assert record["status"] == "failed" and record["epochs_done"] == 1


def test_run_json_never_claims_a_checkpoint_that_is_not_on_disk(capsys, monkeypatch,
                                                                tiny_experiment, tmp_path):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    _torch_save_fails(monkeypatch, after=0)  # not even epoch 1's checkpoint
    out = tmp_path / "run"
    out.mkdir()  # an existing folder: the record stays to say what happened
    code, _, err = run(capsys, "train", exp_file, "--out", out)
    assert code == 2 and "No space left on device" in err
    assert "no checkpoint" in err and "are in its checkpoints" not in err
    assert not (out / "checkpoints" / "last.pt").exists()
    record = info(out)
    assert record["status"] == "failed" and record["epochs_done"] == 0
    assert record["best"] is None


def test_a_bundle_torch_cannot_write_is_the_friendly_message(capsys, monkeypatch,
                                                             tiny_experiment, tmp_path):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    _torch_save_fails(monkeypatch, after=2)  # both checkpoints, then the bundle
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--out", out)
    assert code == 2 and len(error_lines(err)) == 1 and "bug" not in err
    assert "bundle" in err and "No space left on device" in err and "last.pt" in err
    assert f"workbench resume {out}" in err  # how to write it once there is room
    assert not (out / "bundle.pt").exists()
    monkeypatch.undo()
    code, out_text, err = run(capsys, "resume", out)
    assert code == 0, err and (out / "bundle.pt").is_file()


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM])
def test_a_read_only_out_is_worded_by_errno_and_by_what_is_on_disk(capsys, monkeypatch,
                                                                   tiny_experiment, tmp_path,
                                                                   code):
    import workbench.core.io as io_mod

    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    real = io_mod.atomic_write

    def refused(path, write):
        if "run" in Path(path).parts:
            raise OSError(code, os.strerror(code), str(path))
        return real(path, write)

    monkeypatch.setattr(io_mod, "atomic_write", refused)
    out = tmp_path / "run"
    exit_code, _, err = run(capsys, "train", exp_file, "--out", out)
    assert exit_code == 2 and len(error_lines(err)) == 1
    assert os.strerror(code) in err and "writable" in err
    assert "disk space" not in err.lower()
    assert "no checkpoint" in err and "are in its checkpoints" not in err


# -- SIGTERM and a late Ctrl-C ---------------------------------------------------------------
def _slow_experiment(tmp_path, tiny_experiment) -> Path:
    tiny_experiment.training.epochs = 10000
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    return exp_file


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_sigterm_stops_workbench_train_like_the_stop_button(tmp_path, tiny_experiment):
    exp_file = _slow_experiment(tmp_path, tiny_experiment)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "train", str(exp_file),
                             "--out", str(run_dir)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # flushed per line
            if line.startswith("epoch 1/"):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and f"workbench resume {run_dir}" in err
    record = info(run_dir)
    assert record["status"] == "stopped" and record["epochs_done"] >= 1
    last = load_checkpoint(run_dir)
    assert last.epoch == record["epochs_done"]
    assert load_bundle(run_dir / "bundle.pt").epoch == last.epoch


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_ctrl_c_on_the_way_out_prints_no_traceback(tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    # A Ctrl-C that arrives while the interpreter shuts down (after main has returned).
    script = ("import atexit, os, signal, sys\n"
              "atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n"
              "from workbench.cli import main\n"
              f"sys.argv = ['workbench', 'train', {str(exp_file)!r}, '--out', "
              f"{str(tmp_path / 'run')!r}]\n"
              "sys.exit(main())\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "KeyboardInterrupt" not in proc.stderr


def test_a_ctrl_c_after_the_run_ended_does_not_turn_it_into_an_interrupt(
        capsys, monkeypatch, tiny_experiment, tmp_path):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    real = cli.training._saved_model_line

    def late_ctrl_c(result):
        os.kill(os.getpid(), signal.SIGINT)  # everything is written: nothing to stop
        return real(result)

    monkeypatch.setattr(cli.training, "_saved_model_line", late_ctrl_c)
    code, out, err = run(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 0 and "interrupted" not in err, err
    assert "the bundle holds epoch 2's weights" in out


def test_a_second_ctrl_c_during_the_bundle_write_waits_for_the_runs_end(
        capsys, monkeypatch, tiny_experiment, tmp_path):
    """A second Ctrl-C while the bundle is written waits for it and run.json (stop 30's
    note: cut there, run.json stayed "running"), then aborts, saying how the run ended."""
    import workbench.core.bundle as bundle_mod

    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    real = bundle_mod.atomic_write

    def ctrl_c_twice(path, write):
        def interrupted(f):
            write(f)
            os.kill(os.getpid(), signal.SIGINT)  # stop (the epochs are done already)
            os.kill(os.getpid(), signal.SIGINT)  # and abort: after the run's end
        return real(path, interrupted)

    monkeypatch.setattr(bundle_mod, "atomic_write", ctrl_c_twice)
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 130 and "Traceback" not in err
    assert "finishing the run first, then aborting" in err
    assert err.strip().splitlines()[-1] == (
        f"workbench train: interrupted as the run ended; it is recorded as finished, its "
        f"model in {run_dir / 'bundle.pt'}")
    assert not list(run_dir.rglob("*.tmp"))
    assert load_bundle(run_dir / "bundle.pt").epoch == 2 and info(run_dir)["status"] == "finished"
