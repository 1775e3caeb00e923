"""``workbench check --experiment`` and ``workbench train`` say, as a ``warning:`` (as the
Model doctor's milder advice is said), that the optimizer's learning rate will very likely
fail the run, before it starts (the training doctor would only say so afterwards); the
warning stops nothing."""

from __future__ import annotations

from helpers import run_cli


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: lr ")]


def test_check_notes_a_learning_rate_that_will_diverge(capsys, tmp_path, tiny_experiment):
    tiny_experiment.optimizer.params["lr"] = 10.0  # Adam
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    code, out, err = run_cli(capsys, "check", "--experiment", path)
    assert code == 0, err
    (note,) = _notes(err)
    assert note.startswith("warning: lr 10 is very high for Adam")
    assert "very likely diverge" in note
    assert note.endswith("On the command line: --lr 0.001, or set optimizer.params.lr in "
                         "the experiment file.")
    assert "images" in out  # the dataset report itself follows as before


def test_check_says_nothing_of_a_usual_rate(capsys, tmp_path, tiny_experiment):
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)  # Adam at lr 0.01
    code, _, err = run_cli(capsys, "check", "--experiment", path)
    assert code == 0, err
    assert "very high" not in err and "very low" not in err


def test_train_notes_a_tiny_rate_before_the_first_epoch_and_trains(capsys, tmp_path,
                                                                   tiny_experiment):
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    code, out, err = run_cli(capsys, "train", path, "--epochs", "1", "--lr", "1e-8",
                             "--out", tmp_path / "run")
    assert code == 0, err  # a warning, not a refusal: the run went on
    (note,) = _notes(err)
    assert note.startswith("warning: lr 1e-8 is very low for Adam") and "--lr 0.001" in note
    assert "epoch 1/1" in out and (tmp_path / "run" / "metrics.json").exists()


def test_the_train_note_names_the_set_option_for_weight_decay(tiny_experiment):
    from workbench.cli.training import optimizer_note

    assert optimizer_note(tiny_experiment) == ""
    tiny_experiment.optimizer.params["weight_decay"] = 0.5
    note = optimizer_note(tiny_experiment)
    assert note.startswith("weight_decay 0.5 is very large for Adam")
    assert "--set optimizer.params.weight_decay=0.0005" in note


def test_resume_warns_of_a_rate_given_with_lr_as_train_does(capsys, tmp_path,
                                                           tiny_experiment):
    """`workbench resume RUN --lr 1e-8` (tomorrow's continuation at a new rate) said
    nothing of the rate that train would have warned of."""
    path = tmp_path / "exp.json"
    tiny_experiment.save(path)
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", path, "--epochs", "1", "--out", run)
    assert code == 0, err
    assert not _notes(err)
    code, out, err = run_cli(capsys, "resume", run, "--epochs", "1", "--lr", "1e-8")
    assert code == 0, err
    (note,) = _notes(err)
    assert note.startswith("warning: lr 1e-8 is very low for Adam") and "--lr 0.001" in note
    assert "epoch 2/2" in out
