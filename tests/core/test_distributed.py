"""Multi-process training under torchrun: sharding, unwrapped weights, a real 2-rank run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from workbench.core.errors import WorkbenchError
from workbench.core.train.distributed import (DistributedContext, ShardedSampler,
                                              StrideSampler, unwrap)


def _shards(n, world, seed=0, epoch=0):
    out = []
    for rank in range(world):
        s = DistributedContext(world, rank).train_sampler(n, seed)
        s.set_epoch(epoch)
        out.append(list(s))
    return out


@pytest.mark.parametrize("n, world", [(10, 2), (11, 3), (7, 4), (2, 3)])
def test_train_shards_cover_every_sample_in_equal_parts(n, world):
    shards = _shards(n, world)
    assert len({len(s) for s in shards}) == 1  # equal lengths: DDP steps in lockstep
    flat = [i for s in shards for i in s]
    assert set(flat) == set(range(n))
    assert len(flat) - n == (-n) % world  # only the padding repeats


def test_train_shards_are_disjoint_and_the_same_order_on_every_rank():
    a, b = _shards(12, 2, seed=5, epoch=3), _shards(12, 2, seed=5, epoch=3)
    assert a == b  # the same seed and epoch: every rank derives the same permutation
    assert not set(a[0]) & set(a[1])
    assert _shards(12, 2, seed=5, epoch=4) != a  # a new epoch reshuffles


def test_validation_shards_count_each_sample_once():
    parts = [list(StrideSampler(7, r, 3)) for r in range(3)]
    assert sorted(i for p in parts for i in p) == list(range(7))
    assert [len(StrideSampler(7, r, 3)) for r in range(3)] == [3, 2, 2]


def test_a_weighted_sampler_is_sharded_as_drawn():
    def base():
        g = torch.Generator().manual_seed(1)
        return torch.utils.data.WeightedRandomSampler([1.0] * 9, 9, generator=g)

    drawn = [int(i) for i in base()]
    parts = [list(ShardedSampler(base(), r, 2)) for r in range(2)]
    assert [len(p) for p in parts] == [5, 5]
    assert parts[0][:5] == drawn[0::2][:5] and parts[1][:4] == drawn[1::2]


def test_context_from_env():
    single = DistributedContext.from_env({})
    assert not single.active and single.is_main
    ctx = DistributedContext.from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert ctx.active and not ctx.is_main and (ctx.rank, ctx.local_rank) == (3, 1)
    for env, words in [({"WORLD_SIZE": "two"}, "WORLD_SIZE"),
                       ({"WORLD_SIZE": "2", "RANK": "2"}, "torchrun")]:
        with pytest.raises(WorkbenchError, match=words):
            DistributedContext.from_env(env)


def test_ddp_wrapper_leaves_plain_state_dict_keys(tmp_path):
    """The weights saved from a run are the unwrapped module's: no ``module.`` prefix."""
    assert not dist.is_initialized()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    try:
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
        ctx = DistributedContext(1, 0)
        ctx.init(torch.device("cpu"))  # joins the existing group, does not own it
        ddp = ctx.wrap(model, torch.device("cpu"))
        assert all(k.startswith("module.") for k in ddp.state_dict())
        assert unwrap(ddp) is model and unwrap(model) is model
        assert set(unwrap(ddp).state_dict()) == {"1.weight", "1.bias"}
        assert ctx.all_reduce_sum([1.5, 2]) == [1.5, 2.0]
        assert ctx.agree(True, False) == (True, False)
        ctx.shutdown()
        assert dist.is_initialized()  # not ours to end
    finally:
        dist.destroy_process_group()


def test_mps_device_is_refused_in_one_line():
    with pytest.raises(WorkbenchError, match="cuda or cpu"):
        DistributedContext(2, 0).init(torch.device("mps"))


def _torchrun(program: list[str], args: list[str], **env_extra):
    """``program`` (``-m workbench`` or a script) with ``args`` under a 2-process Gloo
    torchrun on the CPU; returns the finished process."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **env_extra)
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
           "--rdzv-backend", "c10d", "--rdzv-endpoint", "localhost:0", "--nnodes", "1",
           *program, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)


def _torchrun_train(tmp_path, experiment, program: list[str], epochs: int, **env_extra):
    """``workbench train`` under :func:`_torchrun`; returns the finished process and the
    run folder."""
    exp_file = tmp_path / "exp.json"
    experiment.save(exp_file)
    run_dir = tmp_path / "run"
    return _torchrun(program, ["train", str(exp_file), "--out", str(run_dir), "--epochs",
                               str(epochs), "--device", "cpu"], **env_extra), run_dir


def test_two_process_gloo_torchrun_run_writes_one_bundle_that_predicts(tmp_path,
                                                                      tiny_experiment):
    from workbench.core.predict import Predictor

    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, ["-m", "workbench"], 2)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert out.count("epoch 1/2") == 1 and out.count("epoch 2/2") == 1  # rank 0 prints
    assert "x 2 processes" in out
    history = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert [m["epoch"] for m in history] == [1, 2]
    assert all(m["val_acc"] is not None for m in history)
    bundles = list(run_dir.rglob("bundle.pt"))
    assert len(bundles) == 1
    pred = Predictor(bundles[0])
    images = sorted((tmp_path / "tiny" / "red").glob("*.png"))[:2]
    results = pred.predict([str(p) for p in images], top_k=1)
    assert len(results) == 2 and all(r.error is None and r.top for r in results)
    assert {c for r in results for c, _ in r.top} <= {"blue", "green", "red"}
    # Resumed under torchrun too, rank 0 alone says so (each rank said it).
    proc = _torchrun(["-m", "workbench"], ["resume", str(run_dir), "--epochs", "1"])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.count(f"resuming {run_dir} after epoch 2") == 1, proc.stdout
    assert proc.stdout.count("epoch 3/3") == 1


@pytest.mark.parametrize("where", ["train", "validation"])
def test_a_loss_that_diverges_on_one_rank_ends_every_rank(tmp_path, tiny_experiment, where):
    # Rank 1 alone sees a NaN loss in epoch 2. Without agreement only rank 1 raised, and
    # torchrun ended rank 0 (the only writer) before it could record why.
    script = Path(__file__).with_name("_diverge_on_one_rank.py")
    proc, run_dir = _torchrun_train(tmp_path, tiny_experiment, [str(script)], 3,
                                    WORKBENCH_TEST_NAN_IN=where)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    what = "the loss" if where == "train" else "the validation loss"
    assert f"training diverged: {what} became" in text, text[-3000:]
    assert "on another process" in text  # rank 0 says why it stopped too
    # Every rank stops at the same batch; rank 0 alone says so (each rank said it).
    assert proc.stderr.count("workbench train: training diverged") == 1, proc.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "diverged" and info["epochs_done"] == 1
    assert not (run_dir / "bundle.pt").exists()
