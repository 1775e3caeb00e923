"""A second Ctrl-C while an epoch's checkpoints and run.json are written waits for them, so
last.pt, best.pt and run.json tell the same epoch, and the abort is recorded as the user's
stop, not a failure (tester report: after ``kill -INT; sleep 0.05; kill -INT`` last.pt held
epoch 2, best.pt and run.json epoch 1, status "failed", message "KeyboardInterrupt")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from workbench.cli.signals import _ctrl_c_stops
from workbench.core import interrupts
from workbench.core.interrupts import aborting, postpone, uninterrupted

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# The second signal is sent from inside the write block, right after last.pt of epoch 2 is
# on disk (raise_signal runs the handler before it returns: no timing involved).
_SCRIPT = """
import signal, sys
from workbench.core.train.callbacks import checkpoints

real = checkpoints.CheckpointWriter.write_last
calls = []

def write_last(self, trainer):
    real(self, trainer)
    calls.append(1)
    if len(calls) == 2:
        signal.raise_signal(signal.SIGINT)  # stop after this batch
        signal.raise_signal(signal.SIGINT)  # abort at once
        print("after the second Ctrl-C", file=sys.stderr, flush=True)

checkpoints.CheckpointWriter.write_last = write_last
from workbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


@posix
def test_a_second_ctrl_c_in_the_epoch_end_writes_waits_for_them(tmp_path, tiny_experiment):
    from workbench.core.train.checkpoint import load_checkpoint

    tiny_experiment.training.epochs = 30
    tiny_experiment.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, "train", str(tmp_path / "exp.json"),
                           "--out", str(run_dir)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "WORKBENCH_TENSORBOARD": "0"})
    err = proc.stderr
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "after the second Ctrl-C" in err
    assert "writing epoch 2's checkpoint first, then aborting" in err
    assert f"workbench resume {run_dir}" in err.strip().splitlines()[-1]
    info = json.loads((run_dir / "run.json").read_text())
    last = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    best = load_checkpoint(run_dir / "checkpoints" / "best.pt")
    assert last.epoch == 2 and info["epochs_done"] == 2
    assert info["best"] == last.best and best.epoch == info["best"]["epoch"]
    # The user's abort: a stop (resumable, listed as such), not a failure.
    assert info["status"] == "stopped" and "KeyboardInterrupt" not in info["message"]
    assert "aborted" in info["message"] and "after epoch 2" in info["message"]
    assert not (run_dir / "bundle.pt").exists()  # the model held a cut epoch's weights


@posix
def test_a_third_ctrl_c_aborts_inside_the_block_and_outside_one_the_second_does():
    reached = []
    with _ctrl_c_stops() as stop:
        with pytest.raises(KeyboardInterrupt):
            with uninterrupted("writing"):
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)
                reached.append("second waited")
                signal.raise_signal(signal.SIGINT)
                reached.append("third waited")  # pragma: no cover
        assert stop.is_set() and reached == ["second waited"]
    with _ctrl_c_stops():
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


def test_an_interrupt_waits_for_the_block_once_and_for_a_bounded_time(monkeypatch):
    assert postpone(KeyboardInterrupt()) is None  # no block: raise now
    with pytest.raises(KeyboardInterrupt):
        with uninterrupted("writing epoch 3's checkpoint"):
            with uninterrupted("inner"):  # one block
                assert postpone(KeyboardInterrupt()) == "writing epoch 3's checkpoint"
            assert postpone(KeyboardInterrupt()) is None  # a further one: at once
            done = True
    assert done
    # A block running past the limit (a write stuck on a dead drive) holds nobody.
    monkeypatch.setattr(interrupts, "LIMIT_S", -1.0)
    with uninterrupted():
        assert postpone(KeyboardInterrupt()) is None


def test_the_blocks_own_error_goes_up_and_an_abort_is_told_from_a_failure():
    with pytest.raises(OSError):
        with uninterrupted():
            assert postpone(KeyboardInterrupt()) is not None
            raise OSError("disk full")
    seen = []
    with pytest.raises(KeyboardInterrupt):
        try:
            raise KeyboardInterrupt
        finally:
            seen.append(aborting())
    try:
        raise ValueError("a bug")
    except ValueError:
        seen.append(aborting())
    assert seen == [True, False] and not aborting()


# Both signals arrive in the teardown, after the last epoch, before the end hooks ran.
_TEARDOWN_SCRIPT = """
import signal, sys
from workbench.core.train import setup

real = setup.RunSetup._teardown

def teardown(self):
    signal.raise_signal(signal.SIGINT)  # stop (nothing left to stop)
    signal.raise_signal(signal.SIGINT)  # abort
    print("after the second Ctrl-C", file=sys.stderr, flush=True)
    real(self)

setup.RunSetup._teardown = teardown
from workbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


@posix
def test_a_second_ctrl_c_in_the_teardown_waits_for_run_json(tmp_path, tiny_experiment):
    """Stop 30's note: a second Ctrl-C after the run had stopped, in the teardown, skipped
    the end hooks and left run.json "running" (listed as interrupted) with no bundle."""
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", _TEARDOWN_SCRIPT, "train",
                           str(tmp_path / "exp.json"), "--out", str(run_dir)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WORKBENCH_TENSORBOARD": "0"})
    err = proc.stderr
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "after the second Ctrl-C" in err
    assert "finishing the run first, then aborting" in err
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] != "running" and info["epochs_done"] == 1, info
    assert info["finished"] and (run_dir / "bundle.pt").exists()
