"""torchrun runs whose processes disagree or fall away: ranks that read different datasets
are refused before training, and a process that dies stops the others as a resumable stop,
not "a bug in Workbench". 2-process Gloo runs on the CPU (see _rank_faults.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import make_image_folder, run_cli

SCRIPT = str(Path(__file__).with_name("_rank_faults.py"))


def _torchrun_train(tmp_path, experiment, epochs: int, **env_extra):
    """``workbench train`` under a 2-process Gloo torchrun, rank 1 changed by
    ``env_extra``; returns the finished process and the run folder."""
    exp_file = tmp_path / "exp.json"
    experiment.save(exp_file)
    run_dir = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **env_extra)
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", "--nnodes", "1",
           SCRIPT, "train", str(exp_file), "--out", str(run_dir), "--epochs", str(epochs),
           "--device", "cpu"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180), run_dir


@pytest.mark.parametrize("other, says", [
    ({"classes": ("blue", "red", "yellow")},
     "rank 1 reads 3 classes (blue, red, yellow), rank 0 reads 3 (blue, green, red); "
     "only rank 1 has yellow; rank 1 lacks green"),
    ({"per_class": 12}, "rank 1 reads 36 images, rank 0 reads 30"),
])
def test_ranks_that_read_different_datasets_are_refused_before_training(
        tmp_path, tiny_experiment, other, says):
    # Rank 1 reads another copy of the dataset. Other classes trained silently (label 1
    # meant green on one rank and yellow on the other); other counts aborted Gloo mid-epoch
    # as "a bug in Workbench" and left run.json "running".
    alt = make_image_folder(tmp_path / "alt", **other)
    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, 1,
                                    WORKBENCH_TEST_RANK1_DATA=alt)
    assert proc.returncode != 0
    assert "epoch 1/1" not in proc.stdout  # refused before the first epoch
    err = proc.stderr
    line = next((x for x in err.splitlines() if "read different datasets" in x), "")
    assert line.startswith("workbench train: error: the processes of this torchrun job "
                           "read different datasets: "), err[-3000:]
    assert says in line and f"rank 1 reads {alt}" in line
    assert "Give every process the same dataset folder" in line
    assert err.count("read different datasets") == 1  # said once (rank 0's machine)
    assert "bug in Workbench" not in err
    assert not (run_dir / "run.json").exists()  # nothing recorded: nothing trained


def test_ranks_with_other_files_of_the_same_counts_differ():
    from workbench.core.train.distributed import dataset_mismatch

    same = {"classes": ["a", "b"], "images": [10, 0], "digest": "1", "folder": "/d"}
    assert dataset_mismatch([same, dict(same, folder="/elsewhere")]) == ""  # a copy
    text = dataset_mismatch([same, same, dict(same, digest="2", folder="/e")])
    assert "rank 2 reads other files or labels than rank 0" in text
    assert "(rank 2 reads /e, rank 0 /d)" in text


def test_a_process_that_dies_stops_the_run_resumably(tmp_path, tiny_experiment, capsys):
    # Rank 1 dies after epoch 1: rank 0's next collective fails. It said Gloo's "Connection
    # closed by peer ... This is a bug in Workbench" and recorded the run as failed.
    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, 3,
                                    WORKBENCH_TEST_RANK1_EXIT_AFTER="1")
    err = proc.stderr
    assert "bug in Workbench" not in err and "unexpected" not in err, err[-3000:]
    line = next((x for x in err.splitlines() if "another process" in x), "")
    assert line.startswith("workbench train: another process of this torchrun job (rank 1) "
                           "stopped or lost its connection ("), err[-3000:]
    assert line.endswith(f"the run's 1 finished epoch(s) are kept: continue it with "
                         f"torchrun --nproc-per-node 2 -m workbench resume {run_dir}")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "stopped" and info["epochs_done"] == 1
    assert info["message"].startswith("another process of this torchrun job (rank 1)")
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert (run_dir / "bundle.pt").is_file()  # epoch 1's weights, as a stop keeps them
    # And it continues (here on one process) from epoch 1.
    code, out, _ = run_cli(capsys, "resume", run_dir, "--epochs", "1")
    assert code == 0 and f"resuming {run_dir} after epoch 1" in out


class _Run:
    """What peer_lost reads of a trainer."""

    def __init__(self, world_size=2, rank=0, epochs_done=3, run_dir="runs/x"):
        from workbench.core.train.distributed import DistributedContext

        self.dist = DistributedContext(world_size, rank) if world_size > 1 else None
        self.epochs_done, self.run_dir, self.checkpoint = epochs_done, run_dir, None


def test_collective_failures_are_told_from_other_errors():
    from workbench.core.train.failures import peer_lost

    nccl = RuntimeError("NCCL error in: ProcessGroupNCCL.cpp:1970, remote process exited "
                        "or there was a network error, NCCL version 2.21.5")
    text = peer_lost(nccl, _Run(rank=1))
    assert text.startswith("another process of this torchrun job (rank 0) stopped")
    assert "remote process exited" in text
    assert text.endswith("continue it with torchrun --nproc-per-node 2 -m workbench resume runs/x")
    backend = getattr(torch.distributed, "DistBackendError", None)
    if backend is not None:  # the class torch raises for backend failures, where it has one
        assert peer_lost(backend("Connection reset by peer"), _Run(world_size=4))\
            .startswith("another process of this torchrun job stopped")
    assert "no epoch had finished" in peer_lost(nccl, _Run(epochs_done=0))
    assert peer_lost(nccl, _Run(world_size=1)) == ""  # one process: no peer to lose
    assert peer_lost(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), _Run()) == ""
    assert peer_lost(RuntimeError("gloo: Received data size doesn't match"), _Run()) == ""
