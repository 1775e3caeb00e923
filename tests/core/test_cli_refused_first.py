"""A refusal of ``train`` or ``resume`` is printed alone, before any progress or warning
line (the README's promise: scripts read one line), and ``resume`` reads the checkpoint
only once it holds the run's lock, so it never continues from an epoch that another
process has trained past."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from helpers import make_image_folder, refused, run_cli
from workbench.core.runs.lock import RunLock


def _trained(capsys, tmp_path, experiment) -> Path:
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    experiment.save(exp_file)
    code, _, err = run_cli(capsys, "train", exp_file, "--out", run_dir, "--epochs", "1")
    assert code == 0, err
    return run_dir


def test_resume_onto_other_classes_is_refused_before_resuming_is_said(
        capsys, tmp_path, tiny_experiment):
    run_dir = _trained(capsys, tmp_path, tiny_experiment)
    other = make_image_folder(tmp_path / "other", classes=("blue", "red", "yellow"))
    line = refused(run_cli(capsys, "resume", run_dir, "--epochs", "1", "--data", other),
                   "classes changed", "'yellow' is new")
    assert "resuming" not in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_train_on_a_missing_device_is_refused_before_any_warning(capsys, tmp_path,
                                                                 tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)  # 9 validation images: a warning would come first
    refused(run_cli(capsys, "train", exp_file, "--out", tmp_path / "dev", "--device", "cuda"),
            "training.device", "no usable CUDA GPU")
    assert not (tmp_path / "dev").exists()


def test_train_into_a_folder_another_process_trains_is_refused_alone(capsys, tmp_path,
                                                                      tiny_experiment):
    exp_file, out = tmp_path / "exp.json", tmp_path / "same"
    tiny_experiment.save(exp_file)
    out.mkdir()  # the other process made it and has written nothing yet
    other = RunLock(out)
    assert other.acquire()
    try:
        line = refused(run_cli(capsys, "train", exp_file, "--out", out),
                       "is being trained right now", "--out")
        assert f"the terminal that trains it (process {os.getpid()}), with Ctrl-C" in line
        assert "resume" not in line  # this user ran train
        assert out.is_dir()  # the other process's folder is left to it
    finally:
        other.release()


def test_resume_reads_the_checkpoint_only_once_it_holds_the_lock(
        capsys, tmp_path, tiny_experiment, monkeypatch):
    # Another resume trains the run; it ends (releasing the lock) just after this one read
    # the checkpoint: continuing from what was read would train its last epoch again from
    # the epoch before and overwrite its results. Read under the lock, it is refused.
    import workbench.core.train.checkpoint as checkpoint

    run_dir = _trained(capsys, tmp_path, tiny_experiment)
    other = RunLock(run_dir)
    assert other.acquire()
    real = checkpoint.load_checkpoint

    def read_as_the_other_run_ends(path):
        ckpt = real(path)
        other.release()
        return ckpt

    monkeypatch.setattr(checkpoint, "load_checkpoint", read_as_the_other_run_ends)
    try:
        line = refused(run_cli(capsys, "resume", run_dir, "--epochs", "1"),
                       "is being trained right now")
        assert "resuming" not in line
    finally:
        other.release()
