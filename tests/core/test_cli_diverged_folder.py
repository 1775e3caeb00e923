"""A run folder whose run kept no epoch (it diverged in epoch 1): training into it again
does not send the user to ``workbench resume``, which has nothing to resume."""

from __future__ import annotations

import json

from helpers import run_cli as run
from workbench.core.experiment import Component


def test_training_again_into_a_run_that_kept_no_epoch_offers_overwrite_not_resume(
        capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.optimizer = Component("SGD", {"lr": 10.0, "momentum": 0.9})
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "R"
    run_dir.mkdir()  # a folder that exists: the diverged run's record stays in it
    code, _, err = run(capsys, "train", exp_file, "--epochs", "3", "--batch-size", "4",
                       "--device", "cpu", "--out", run_dir)
    assert code == 3 and "diverged" in err
    assert not (run_dir / "checkpoints" / "last.pt").exists()
    # What TensorBoard logging leaves next to it makes the folder more than a bare record.
    (run_dir / "events.out.tfevents.1.host.1.0").write_bytes(b"x")
    before = sorted(p.name for p in run_dir.iterdir())

    code, out, err = run(capsys, "train", exp_file, "--lr", "0.001", "--out", run_dir)
    assert code == 2 and out == ""
    assert err.strip() == (f"workbench train: error: the folder {run_dir} holds a run that kept no "
                           f"epoch (diverged in epoch 1): give --overwrite to train again "
                           f"into it, or train into a fresh folder (--out {run_dir}-2)")
    assert "resume" not in err
    assert sorted(p.name for p in run_dir.iterdir()) == before
    assert json.loads((run_dir / "run.json").read_text())["status"] == "diverged"

    # The advice works: --overwrite trains again into it.
    code, _, err = run(capsys, "train", exp_file, "--lr", "0.001", "--epochs", "1",
                       "--out", run_dir, "--overwrite")
    assert code == 0, err
    assert (run_dir / "checkpoints" / "last.pt").exists()
