"""A torchrun run says, and keeps per session, how many processes trained it and so the
batch of one update; a resume on another number says what that changes; an error only a
rank other than 0 meets is said by rank 0, naming the rank; the commands printed to
continue a run are quoted to paste, and torchrun's under torchrun. 2-process Gloo runs on
the CPU (see _rank_faults.py)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import run_cli
from test_distributed_faults import _torchrun_train


def test_a_two_process_run_keeps_its_count_and_a_resume_on_one_says_so(
        tmp_path, tiny_experiment, capsys):
    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, 2)  # batch 8
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = "trained on 2 processes (batch 8 each, 16 per update)"
    assert f"note: {said}" in proc.stdout
    info = json.loads((run_dir / "run.json").read_text())
    assert info["start_notes"] == [said] and info["start_notes_from"] == 1
    from workbench.core.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(run_dir)
    assert ckpt.callbacks["processes"]["sessions"] == [
        {"from_epoch": 1, "world_size": 2, "batch_size": 8, "per_update": 16}]
    # run.json keeps it too, and the Runs tab reads it (its Batch cell "8 × 2").
    from workbench.core.runs.record import read_record

    assert info["processes"] == ckpt.callbacks["processes"]["sessions"]
    record = read_record(run_dir)
    assert (record.batch_size, record.processes, record.per_update) == (8, 2, 16)
    # Continued on one process: the update's batch halves, and the run says so.
    code, out, err = run_cli(capsys, "resume", run_dir, "--epochs", "1")
    assert code == 0, err
    change = ("epochs 1-2 ran on 2 processes (16 images per update); this session trains "
              "on 1 process (batch 8): scale the learning rate or set data.batch_size to 16 "
              "to train as before")
    assert f"note: {change}" in out
    info = json.loads((run_dir / "run.json").read_text())
    assert info["start_notes"] == [change] and info["start_notes_from"] == 3
    assert info["earlier_start_notes"] == [{"from_epoch": 1, "notes": [said]}]
    ckpt = load_checkpoint(run_dir)
    assert [s["world_size"] for s in ckpt.callbacks["processes"]["sessions"]] == [2, 1]
    code, out, err = run_cli(capsys, "report", run_dir, "-o", tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert code == 0 and said in text and change in text
    # TensorBoard keeps both sessions' epochs, the steps going on without a gap.
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    ea.Reload()
    counts = [e["num_batches"] for e in
              json.loads((run_dir / "metrics.json").read_text())["batches"]]
    assert counts[0] == counts[1] < counts[2]  # each rank took half the batches
    assert [e.value for e in ea.Scalars("epoch")] == [1.0, 2.0, 3.0]
    assert [e.step for e in ea.Scalars("loss/train_batch")] == list(range(1, sum(counts) + 1))


def test_a_dataset_only_rank_1_cannot_read_is_said_once_by_rank_0(tmp_path,
                                                                   tiny_experiment):
    # Rank 1's dataset fails as the run reads it, after the ranks met: rank 0 waited in
    # the dataset check until torchrun killed it, and no line said why.
    bad = tmp_path / "bad.csv"
    bad.write_text("garbage\n")
    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, 1,
                                    WORKBENCH_TEST_RANK1_DATA=str(bad))
    assert proc.returncode != 0
    line = next((x for x in proc.stderr.splitlines() if "bad.csv" in x), "")
    assert line.startswith("workbench train: error: rank 1 of this torchrun job: "
                           f"{bad} line 1: expected 2 cells"), proc.stderr[-3000:]
    assert proc.stderr.count("bad.csv line 1") == 1  # said once
    assert "SIGKILL" not in proc.stderr  # rank 0 was not killed waiting
    assert not run_dir.exists()  # nothing trained: nothing left behind


def test_the_notes_of_each_process_count():
    from workbench.core.train.processes import ProcessCount, change_note, session

    two, one = session(1, 2, 32), session(5, 1, 32)
    assert ProcessCount(two).notes == ["trained on 2 processes (batch 32 each, 64 per update)"]
    assert ProcessCount(one).notes == []  # one process, as ever: nothing to say
    resumed = ProcessCount(one)
    resumed.load_state_dict(ProcessCount(two).state_dict())
    assert resumed.notes == [
        "epochs 1-4 ran on 2 processes (64 images per update); this session trains on 1 "
        "process (batch 32): scale the learning rate or set data.batch_size to 64 to train "
        "as before"]
    assert [s["world_size"] for s in resumed.state_dict()["sessions"]] == [2, 1]
    # The same images an update on one process (batch 64): said, with nothing to do.
    assert change_note(two, 4, session(5, 1, 64)).endswith(
        "this session trains on 1 process (batch 64): the same batch per update")
    # Two processes of 16 do not keep 4 processes' 128 (with 2 accumulated steps).
    assert change_note(session(1, 4, 16, 2), 1, session(2, 2, 16)).endswith(
        "epoch 1 ran on 4 processes (128 images per update); this session trains on 2 "
        "processes (batch 16 each, 32 per update): scale the learning rate or set "
        "data.batch_size to 64 to train as before")
    # The same count, another batch per update (the batch or the accumulation edited):
    # said too, on one process as on several; the same of both, nothing.
    assert change_note(session(1, 1, 32), 4, session(5, 1, 64)) == (
        "epochs 1-4 ran on 1 process (32 images per update); this session trains on 1 "
        "process (batch 64): scale the learning rate or set data.batch_size to 32 to train "
        "as before")
    assert change_note(session(1, 2, 16), 1, session(2, 2, 16, 2)).endswith(
        "this session trains on 2 processes (batch 16 each, 64 per update): scale the "
        "learning rate or set data.batch_size to 8 to train as before")
    assert change_note(session(1, 1, 32), 4, session(5, 1, 32)) == ""
    # A checkpoint from before the count was kept, or a hand edit: nothing said.
    fresh = ProcessCount(one)
    fresh.load_state_dict({"sessions": [{"world_size": "two"}]})
    assert fresh.notes == [] and fresh.state_dict()["sessions"] == [one]


def test_the_commands_to_continue_are_quoted_and_torchruns_under_torchrun(monkeypatch):
    from workbench.cli.training import resume_command

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                 "GROUP_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    out = Path("runs dir/run #2")
    assert resume_command(out) == "workbench resume 'runs dir/run #2'"
    # As torchrun --nproc-per-node 2 sets it: a command bash runs as it is printed.
    for name, value in (("WORLD_SIZE", "2"), ("RANK", "0"), ("LOCAL_WORLD_SIZE", "2"),
                        ("GROUP_WORLD_SIZE", "1")):
        monkeypatch.setenv(name, value)
    said = resume_command(out, "--lr X")
    assert said == "torchrun --nproc-per-node 2 -m workbench resume 'runs dir/run #2' --lr X"
    assert shlex.split(said) == ["torchrun", "--nproc-per-node", "2", "-m", "workbench",
                                 "resume", "runs dir/run #2", "--lr", "X"]
    # Two machines of 4: the rendezvous options are said in words, outside the command.
    for name, value in (("WORLD_SIZE", "8"), ("LOCAL_WORLD_SIZE", "4"),
                        ("GROUP_WORLD_SIZE", "2")):
        monkeypatch.setenv(name, value)
    words, command = resume_command(out).split(": ")
    assert "rendezvous options" in words
    assert shlex.split(command)[:5] == ["torchrun", "--nnodes", "2", "--nproc-per-node", "4"]


def test_the_other_hints_to_continue_say_torchrun_where_the_run_used_it(
        monkeypatch, tmp_path):
    from workbench.core.bundle import bundle_in_folder
    from workbench.core.errors import BundleError
    from workbench.core.train.doctor.fixes import diverged_fix

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    text, _ = diverged_fix(0.001, 3, tmp_path / "run 1")
    assert f"(torchrun --nproc-per-node 2 -m workbench resume '{tmp_path}/run 1' --lr " \
           f"0.001)" in text
    # Outside torchrun, a run folder's hint follows what its last session ran on.
    for name in ("WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name)
    run = tmp_path / "run 2"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"x")
    (run / "run.json").write_text(json.dumps({
        "status": "stopped", "processes": [{"from_epoch": 1, "world_size": 2,
                                            "batch_size": 8, "per_update": 16}]}))
    with pytest.raises(BundleError) as e:
        bundle_in_folder(run)
    assert f"finish it first with: torchrun --nproc-per-node 2 -m workbench resume " \
           f"'{run}'" in str(e.value)

