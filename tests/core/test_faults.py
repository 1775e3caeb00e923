"""Faults during a run: a process killed mid-write, a callback that raises, a data loader
worker that dies, a runs folder that cannot be written. Each keeps the epochs already
finished and ends with a message a person can act on."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from helpers import error_lines
from workbench import cli
from workbench.core.bundle import load_bundle
from workbench.core.errors import WorkbenchError
from workbench.core.runs.lock import INFO_LOCK_NAME, LOCK_NAME
from workbench.core.runs.store import read_history, run_is_live
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.trainer import Callback, Trainer

#: Kill iterations; CI runs a bounded number, WORKBENCH_KILL_ITERATIONS=200 for a soak.
KILL_ITERATIONS = int(os.environ.get("WORKBENCH_KILL_ITERATIONS", "8"))


# -- killed mid-write ----------------------------------------------------------------------
def _loadable_files(run: Path) -> dict[str, object]:
    """Load every real file in the run folder; any failure fails the test, naming the file."""
    loaded: dict[str, object] = {}
    for path in sorted(run.rglob("*")):
        if path.is_dir() or path.name.endswith(".tmp"):
            continue
        if path.name == INFO_LOCK_NAME:
            assert path.stat().st_size == 0  # a lock file only, nothing to load
            continue
        if path.name == LOCK_NAME:  # empty, or who held it (a process killed holding it)
            held = path.read_bytes()
            assert not held or isinstance(json.loads(held).get("pid"), int), held
            continue
        name = str(path.relative_to(run))
        if path.suffix == ".json":
            loaded[name] = json.loads(path.read_text(encoding="utf-8"))
        elif path.name == "bundle.pt":
            loaded[name] = load_bundle(path)
        elif path.suffix == ".pt":
            loaded[name] = load_checkpoint(path)
        else:
            pytest.fail(f"unexpected file {name} in the run folder")
    return loaded


@pytest.fixture(scope="module")
def forkserver():
    """Children forked from a server that has torch and the trainer imported already."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "workbench.core.train.trainer",
                                "workbench.core.runs.recorder", "_kill_child"])
    return ctx


def _kill_one(ctx, exp_dict: dict, run: Path, rng: random.Random, hold: bool) -> bool:
    """Start a child training into ``run``, kill it with SIGKILL once it has begun some
    writes; returns whether the kill landed inside a write."""
    import _kill_child

    writes = ctx.Value("i", 0)
    in_write = ctx.Value("i", 0)
    # Kill after a few writes into the run (each epoch makes 4 to 5 of them).
    target = rng.randint(3, 9)
    hold_at = target if hold else -1
    child = ctx.Process(target=_kill_child.train_until_killed,
                        args=(exp_dict, str(run), writes, in_write, hold_at), daemon=True)
    child.start()
    deadline = time.monotonic() + 60
    try:
        while writes.value < target and not (hold and in_write.value == 1):
            assert child.is_alive(), f"the training child died on its own ({child.exitcode})"
            assert time.monotonic() < deadline, "the training child made no progress"
            time.sleep(0.001)
        if hold:
            while in_write.value != 1:
                assert child.is_alive() and time.monotonic() < deadline
                time.sleep(0.001)
        else:
            time.sleep(rng.uniform(0, 0.004))  # a random moment: often inside the next write
        mid_write = in_write.value != 0
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(10)
        if child.is_alive():  # pragma: no cover
            child.kill()
            child.join(10)
    assert child.exitcode == -signal.SIGKILL
    return mid_write


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and forkserver are POSIX")
def test_sigkill_at_random_moments_leaves_every_file_loadable(forkserver, tiny_experiment,
                                                              tmp_path):
    exp = tiny_experiment.copy()
    # A wider layer: checkpoint writes take milliseconds, so kills land inside them.
    exp.model.layers[1].params["out_features"] = 1024
    exp.training.epochs = 100000
    exp_dict = exp.to_dict()
    run = tmp_path / "run"
    rng = random.Random(1234)
    landed_mid_write = 0
    epochs_seen = 0
    for i in range(KILL_ITERATIONS):
        # Odd iterations kill between writing a temporary file and renaming it (the
        # moment that matters most); even ones at a random moment.
        landed_mid_write += _kill_one(forkserver, exp_dict, run, rng, hold=i % 2 == 1)
        files = _loadable_files(run)
        assert {"run.json", "experiment.json", "metrics.json", "checkpoints/last.pt",
                "bundle.pt"} <= set(files)
        last = files["checkpoints/last.pt"]
        # Each child continued the run: the epochs only ever go forward. The checkpoint is
        # written first and run.json last: metrics.json never holds an epoch the
        # checkpoint lacks, run.json counts none metrics.json lacks, and readers show
        # the epochs run.json counts.
        assert last.epoch >= epochs_seen
        epochs_seen = last.epoch
        done = files["run.json"]["epochs_done"]
        assert done <= len(files["metrics.json"]["epochs"]) <= last.epoch
        assert [m["epoch"] for m in read_history(run)] == list(range(1, done + 1))
        assert [m["epoch"] for m in last.history] == list(range(1, last.epoch + 1))
        assert files["run.json"]["status"] == "running"  # killed: it never said otherwise
        # ...but the killed process's lock went with it: the run is listed as interrupted.
        assert run_is_live(run) is False
        # The folder resumes from the real checkpoint, never a stray temporary file; a
        # resumed run clears the ones earlier kills left, so at most the last kill's remains.
        assert load_checkpoint(run).path == str(run / "checkpoints" / "last.pt")
        assert len(list(run.rglob("*.tmp"))) <= 1
    assert landed_mid_write >= KILL_ITERATIONS // 2
    assert epochs_seen >= 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and forkserver are POSIX")
def test_sigkill_during_the_bundle_write_then_resume_finishes_the_run(forkserver, capsys,
                                                                     tiny_experiment,
                                                                     tmp_path):
    import _kill_child

    run = tmp_path / "run"
    in_write = forkserver.Value("i", 0)
    child = forkserver.Process(target=_kill_child.train_until_bundle_write,
                               args=(tiny_experiment.to_dict(), str(run), in_write),
                               daemon=True)
    child.start()
    deadline = time.monotonic() + 60
    try:
        while in_write.value != 1:
            assert child.is_alive(), f"the training child died on its own ({child.exitcode})"
            assert time.monotonic() < deadline, "the training child made no progress"
            time.sleep(0.001)
        os.kill(child.pid, signal.SIGKILL)  # the bundle's bytes are written, not renamed
    finally:
        child.join(10)
    assert child.exitcode == -signal.SIGKILL
    planned = tiny_experiment.training.epochs
    # What the kill leaves: every epoch checkpointed, no bundle, its temporary file.
    assert load_checkpoint(run).epoch == planned and not (run / "bundle.pt").exists()
    assert len(list(run.glob(".bundle.pt.*.tmp"))) == 1
    assert _run_info(run)["status"] == "running" and run_is_live(run) is False

    code = cli.main(["resume", str(run)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "bundle.pt" in out and "1 stray temporary file" in out
    files = _loadable_files(run)
    assert not list(run.rglob("*.tmp"))
    bundle, last = files["bundle.pt"], files["checkpoints/last.pt"]
    assert bundle.epoch == planned and set(bundle.state_dict) == set(last.model)
    for k, v in last.model.items():
        assert bundle.state_dict[k].equal(v), k
    info = files["run.json"]
    assert info["status"] == "finished" and info["finished"]
    assert info["epochs_done"] == planned and info["bundle"]["epoch"] == planned


# -- a callback that raises ----------------------------------------------------------------
class _RaiseAt(Callback):
    def __init__(self, hook: str, epoch: int, error: BaseException):
        self.hook, self.epoch, self.error = hook, epoch, error

    def on_epoch_end(self, trainer, epoch, metrics):
        if self.hook == "on_epoch_end" and epoch == self.epoch:
            raise self.error

    def on_batch_end(self, trainer, epoch, batch, num_batches, loss):
        if self.hook == "on_batch_end" and epoch == self.epoch:
            raise self.error


def _run_info(run: Path) -> dict:
    return json.loads((run / "run.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("hook", ["on_epoch_end", "on_batch_end"])
def test_a_callback_that_raises_ends_the_run_and_keeps_the_finished_epochs(
        tiny_experiment, tmp_path, hook):
    tiny_experiment.training.epochs = 4
    run = tmp_path / "run"
    boom = _RaiseAt(hook, 2, RuntimeError("the plotting callback broke"))
    trainer = Trainer(tiny_experiment, [RunRecorder(run), boom])
    with pytest.raises(RuntimeError, match="plotting callback broke"):
        trainer.fit()
    kept = 2 if hook == "on_epoch_end" else 1  # the recorder ran before the raise
    assert load_checkpoint(run).epoch == kept
    assert len(json.loads((run / "metrics.json").read_text())["epochs"]) == kept
    info = _run_info(run)
    assert info["status"] == "failed" and "plotting callback broke" in info["message"]
    assert info["epochs_done"] == kept and info["finished"]
    assert not (run / "bundle.pt").exists()  # a failed run's last checkpoint is its state


def test_the_cli_reports_a_failing_callback_in_one_line(capsys, monkeypatch, tiny_experiment,
                                                        tmp_path):
    # A WorkbenchError from a callback (e.g. the recorder's own) is one line, exit code 2.
    def broken(self, trainer, epoch, metrics):
        raise WorkbenchError("the recorder gave up: do what it says")

    monkeypatch.setattr(RunRecorder, "on_epoch_end", broken)
    exp_path = tmp_path / "exp.json"
    tiny_experiment.save(exp_path)
    code = cli.main(["train", str(exp_path), "--out", str(tmp_path / "run")])
    err = error_lines(capsys.readouterr().err)
    assert code == 2 and err == ["workbench train: error: the recorder gave up: do what it says"]
    assert _run_info(tmp_path / "run")["status"] == "failed"


def test_the_cli_reports_an_unexpected_callback_error_in_one_line(capsys, monkeypatch,
                                                                  tiny_experiment, tmp_path):
    def broken(self, trainer, epoch, metrics):
        raise RuntimeError("a bug in a callback")

    monkeypatch.setattr(RunRecorder, "on_epoch_end", broken)
    exp_path = tmp_path / "exp.json"
    tiny_experiment.save(exp_path)
    code = cli.main(["train", str(exp_path), "--out", str(tmp_path / "run")])
    err = error_lines(capsys.readouterr().err)
    assert code != 0 and len(err) == 1 and "a bug in a callback" in err[0]


# -- a data loader worker that dies or raises ------------------------------------------------
def _per_image_pipeline_with(monkeypatch, transform) -> None:
    """Make the trainer use DataLoader workers running ``transform`` (the per-image path
    taken when the pipeline cannot be cached)."""
    import workbench.core.data.augment.pipeline as pipeline
    import workbench.core.data.augment.transforms as transforms

    def not_splittable(exp):
        raise pipeline.NotSplittable("a test forces the per-image pipeline")

    monkeypatch.setattr(pipeline, "split_pipeline", not_splittable)
    monkeypatch.setattr(transforms, "build_train_transform", lambda exp: transform)


@pytest.mark.parametrize("kind", ["dies", "raises"])
def test_a_data_loader_worker_that_fails_ends_the_run_without_hanging(
        monkeypatch, tiny_experiment, tmp_path, kind):
    import _kill_child

    transform = _kill_child.DieInWorker() if kind == "dies" else _kill_child.RaiseInWorker()
    _per_image_pipeline_with(monkeypatch, transform)
    tiny_experiment.data.num_workers = 1
    tiny_experiment.data.cache = "off"
    run = tmp_path / "run"
    trainer = Trainer(tiny_experiment, [RunRecorder(run)])
    # pytest's timeout (300 s) is the guard against a hang; it takes seconds.
    with pytest.raises(Exception) as caught:
        trainer.fit()
    text = str(caught.value)
    assert ("worker process died" in text and "data.num_workers" in text if kind == "dies"
            else "cannot handle the image" in text)
    # Not one epoch finished: the recorder removed the folder it made, leaving no husk.
    assert not run.exists()


# -- a runs folder that cannot be written ----------------------------------------------------
def _fail_writes_after(monkeypatch, module: str, calls: int, code: int) -> None:
    """``module.atomic_write`` raises ``OSError(code)`` from its ``calls + 1``-th call on."""
    import importlib

    mod = importlib.import_module(module)
    real, seen = mod.atomic_write, []

    def atomic_write(path, write):
        seen.append(path)
        if len(seen) > calls:
            raise OSError(code, os.strerror(code), str(path))
        return real(path, write)

    monkeypatch.setattr(mod, "atomic_write", atomic_write)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_disk_mid_run_keeps_the_last_checkpoint_and_says_what_to_do(
        monkeypatch, tiny_experiment, tmp_path, code):
    tiny_experiment.training.epochs = 4
    run = tmp_path / "run"
    # The second checkpoint write fails: epoch 1's last.pt must survive.
    _fail_writes_after(monkeypatch, "workbench.core.train.checkpoint", 1, code)
    with pytest.raises(WorkbenchError) as caught:
        Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    message = str(caught.value)
    assert str(run) in message and os.strerror(code) in message and "writable" in message
    # Worded by the errno: a read-only disk is not a full one.
    assert ("free some disk space" in message.lower()) == (code == errno.ENOSPC)
    assert ("read-only" in message) == (code == errno.EROFS)
    assert f"epoch 1 is kept in {run / 'checkpoints' / 'last.pt'}" in message
    assert load_checkpoint(run).epoch == 1
    info = _run_info(run)
    assert info["status"] == "failed" and os.strerror(code) in info["message"]


def test_a_read_only_run_folder_fails_at_once_with_the_folder_named(monkeypatch,
                                                                    tiny_experiment, tmp_path):
    # chmod does not stop root: fail the first write instead, as a read-only mount would.
    _fail_writes_after(monkeypatch, "workbench.core.io", 0, errno.EROFS)
    run = tmp_path / "run"
    with pytest.raises(WorkbenchError, match="cannot write to the run folder .*run.*"
                                             "Read-only file system"):
        Trainer(tiny_experiment, [RunRecorder(run)]).fit()


def test_the_cli_reports_a_full_disk_in_one_line_and_keeps_the_checkpoint(
        capsys, monkeypatch, tiny_experiment, tmp_path):
    tiny_experiment.training.epochs = 3
    exp_path = tmp_path / "exp.json"
    tiny_experiment.save(exp_path)
    _fail_writes_after(monkeypatch, "workbench.core.train.checkpoint", 1, errno.ENOSPC)
    out = tmp_path / "run"
    code = cli.main(["train", str(exp_path), "--out", str(out)])
    err = error_lines(capsys.readouterr().err)
    assert code == 2 and len(err) == 1
    assert str(out) in err[0] and "No space left on device" in err[0]
    assert load_checkpoint(out).epoch == 1


def test_a_bundle_that_cannot_be_written_is_an_error_not_a_silent_success(
        capsys, monkeypatch, tiny_experiment, tmp_path):
    exp_path = tmp_path / "exp.json"
    tiny_experiment.save(exp_path)
    _fail_writes_after(monkeypatch, "workbench.core.bundle", 0, errno.ENOSPC)
    out = tmp_path / "run"
    code = cli.main(["train", str(exp_path), "--out", str(out)])
    err = error_lines(capsys.readouterr().err)
    assert code == 2 and len(err) == 1
    assert "bundle" in err[0] and "No space left on device" in err[0]
    assert "last.pt" in err[0]  # where the trained weights are
    assert not (out / "bundle.pt").exists()
    assert load_checkpoint(out).epoch == tiny_experiment.training.epochs
    info = _run_info(out)
    assert info["status"] == "failed" and "bundle" in info["message"]


def test_every_callback_hears_the_end_even_when_one_fails(tiny_experiment):
    heard = []

    class Broken(Callback):
        def on_fit_end(self, trainer, result):
            raise WorkbenchError("cannot write the bundle")

    class Listener(Callback):
        def on_fit_end(self, trainer, result):
            heard.append(result.status)

    tiny_experiment.training.epochs = 1
    with pytest.raises(WorkbenchError, match="cannot write the bundle"):
        Trainer(tiny_experiment, [Broken(), Listener()]).fit()
    assert heard == ["finished"]


def test_a_network_too_large_to_build_is_refused_before_any_allocation():
    from workbench.core.errors import ShapeError
    from workbench.core.registry import Component
    from workbench.core.model.builder import MAX_PARAMS, build_network

    layers = [Component("Flatten"), Component("Linear", {"out_features": 65536}),
              Component("Linear")]
    with pytest.raises(ShapeError, match=r"more than Workbench builds.*layer 2 \(Linear\)") as e:
        build_network(layers, (3, 256, 256), 10)  # 12.9 billion weights in layer 2
    assert e.value.index == 1 and MAX_PARAMS < 12_884_901_888


def test_absurdly_nested_json_files_are_a_message(tmp_path):
    from workbench.core.errors import SpecError
    from workbench.core.model.architecture import load_architecture

    path = tmp_path / "net.json"
    path.write_text("[" * 100000)
    with pytest.raises(SpecError, match="nested too deeply"):
        load_architecture(path)
