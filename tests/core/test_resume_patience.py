"""A continuation that asks for other epochs than the run's plan ("N more", ``resume
--epochs N``) counts early stopping's patience afresh, keeping the best epoch, and says so;
finishing the planned epochs counts on, as the uninterrupted run would (walk-tomorrow2
defect 3).

Measured before: a run with patience 3 whose last 2 epochs had not improved, resumed with
``--epochs 3`` ("resuming ... epochs 4 to 6"), stopped early after epoch 4.
"""

from __future__ import annotations

import json

from helpers import run_cli as run, stop_after


def _early_stopping(experiment, epochs: int):
    """Patience 3, and a min_delta no epoch after the first improves by: each later epoch
    counts against the patience."""
    t = experiment.training
    t.epochs, t.early_stopping, t.patience, t.min_delta = epochs, True, 3, 0.5
    return experiment.validate()


def _info(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_n_more_trains_the_epochs_it_announced(capsys, tmp_path, tiny_experiment):
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    _early_stopping(tiny_experiment, 3).save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    assert _info(run_dir)["status"] == "finished"  # 2 epochs without improvement
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "3")
    assert code == 0, err
    assert "epochs 4 to 6" in out
    assert ("early stopping counts its patience (3 epochs) afresh from epoch 4: the 2 epochs "
            "without improvement before it no longer count (the best stays val_loss ") in out
    info = _info(run_dir)
    assert info["epochs_done"] == 6, info["message"]
    assert info["best"]["epoch"] == 1  # kept


def test_finishing_the_planned_epochs_counts_on(capsys, tmp_path, tiny_experiment):
    from workbench.core.train.run import run_training

    run_dir = tmp_path / "run"
    exp = _early_stopping(tiny_experiment, 6)
    assert run_training(exp, run_dir, [stop_after(3)], name="run").status == "stopped"
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "afresh" not in out
    info = _info(run_dir)
    # As the uninterrupted run: the third epoch without improvement ends it.
    assert (info["status"], info["epochs_done"]) == ("early_stopped", 4)


def test_resuming_a_run_early_stopping_ended_says_the_patience_counts_afresh(
        capsys, tmp_path, tiny_experiment):
    # Its count was zeroed silently as the checkpoint was read (walk-longrun, defect 5).
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    _early_stopping(tiny_experiment, 8).save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    assert (_info(run_dir)["status"], _info(run_dir)["epochs_done"]) == ("early_stopped", 4)
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0, err
    assert ("early stopping counts its patience (3 epochs) afresh from epoch 5: the 3 epochs "
            "without improvement before it no longer count") in out
    assert _info(run_dir)["epochs_done"] == 6  # both epochs asked for


def test_finishing_a_run_early_stopping_ended_counts_afresh_as_its_continue_says(
        capsys, tmp_path, tiny_experiment):
    # The app's default for it: finish its planned epochs. The run counted afresh while
    # the Continue dialog said nothing of it (review-core, item 2).
    from workbench.core.runs.plan import continue_plan

    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    _early_stopping(tiny_experiment, 8).save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0 and _info(run_dir)["status"] == "early_stopped", err
    plan = continue_plan(run_dir)
    assert plan.target == plan.planned == 8  # finishing its plan
    assert plan.patience_note() == ("Early stopping counts its patience (3 epochs) afresh "
                                    "from epoch 5, keeping the best epoch so far.")
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "early stopping counts its patience (3 epochs) afresh from epoch 5" in out
