"""Dedicated flags (--lr, --epochs, --batch-size, --device, --data) win over ``--set``
whatever order they are typed in: a ``--set optimizer.type=SGD`` resets the optimizer's
parameters to SGD's defaults, which must not undo an ``--lr`` given beside it."""

from __future__ import annotations

import json

from helpers import make_image_folder, run_cli


def _ran(run_dir):
    return json.loads((run_dir / "experiment.json").read_text())


def test_train_lr_survives_a_change_of_optimizer_type(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)  # Adam at 0.01
    for i, order in enumerate((["--lr", "0.3", "--set", "optimizer.type=SGD"],
                               ["--set", "optimizer.type=SGD", "--lr", "0.3"])):
        out = tmp_path / f"run{i}"
        code, _, err = run_cli(capsys, "train", exp_file, "--epochs", "1", "--out", out,
                               *order)
        assert code == 0, err
        ran = _ran(out)
        assert ran["optimizer"]["type"] == "SGD"
        assert ran["optimizer"]["params"]["lr"] == 0.3, order  # not SGD's default 0.01


def test_train_flags_win_over_sets_of_the_same_field(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", exp_file, "--out", out, "--lr", "0.05",
                           "--epochs", "1", "--batch-size", "4",
                           "--set", "optimizer.params.lr=0.2", "--set", "training.epochs=3",
                           "--set", "data.batch_size=16")
    assert code == 0, err
    ran = _ran(out)
    assert ran["optimizer"]["params"]["lr"] == 0.05
    assert ran["training"]["epochs"] == 1 and ran["data"]["batch_size"] == 4
    # A flag's own bad value still names the flag.
    code, _, err = run_cli(capsys, "train", exp_file, "--out", tmp_path / "bad", "--lr", "-1",
                           "--set", "optimizer.type=SGD")
    assert code == 2 and "--lr: -1.0 is below the minimum" in err, err


def test_resume_lr_survives_a_change_of_optimizer_type(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", exp_file, "--out", out)
    assert code == 0, err
    code, _, err = run_cli(capsys, "resume", out, "--epochs", "1", "--lr", "0.2",
                           "--set", "training.epochs=7")
    assert code == 0, err
    ran = _ran(out)
    assert ran["optimizer"]["params"]["lr"] == 0.2
    assert ran["training"]["epochs"] == 2  # --epochs 1 more, not --set's 7


def test_lr_find_data_wins_over_a_set_of_the_folder(capsys, tmp_path, tiny_experiment):
    data = make_image_folder(tmp_path / "other", per_class=6, size=12)
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, out, err = run_cli(capsys, "lr-find", exp_file, "--steps", "5", "--json",
                             "--data", data, "--set", f"data.folder={tmp_path / 'nowhere'}")
    assert code == 0, err
    assert json.loads(out)["lrs"]
