"""The `workbench` command: every subcommand and its error paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from helpers import make_image_folder, random_bundle, run_cli as run
from workbench.core.registry import Component


def test_python_m_workbench_help_and_version():
    proc = subprocess.run([sys.executable, "-m", "workbench", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0
    for cmd in ("gui", "init", "scan", "train", "predict"):
        assert cmd in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "workbench", "--version"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "workbench" in proc.stdout


def test_init_lists_presets(capsys):
    code, out, _ = run(capsys, "init", "--list-presets")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"mlp", "seed-cnn", "lenet5"} <= set(names)


def test_init_writes_a_loadable_experiment(capsys, tmp_path, tiny_folder):
    from workbench.core.experiment import Experiment

    out_file = tmp_path / "exp.json"
    code, _, err = run(capsys, "init", "--preset", "mlp", "--data", tiny_folder, "-o",
                       str(out_file))
    assert code == 0 and "workbench train" in err
    exp = Experiment.load(out_file)
    assert exp.data.folder == str(Path(tiny_folder).resolve())
    assert exp.model.preset == "mlp"


def test_init_takes_size_channels_and_flips_from_the_data(capsys, tmp_path):
    from workbench.core.experiment import Experiment

    digits = make_image_folder(tmp_path / "mnist", classes=[str(i) for i in range(10)],
                               per_class=2, size=28, mode="L")
    out_file = tmp_path / "exp.json"
    code, _, err = run(capsys, "init", "--preset", "seed-cnn", "--data", digits, "-o",
                       str(out_file))
    assert code == 0
    exp = Experiment.load(out_file)
    assert exp.data.input_size == [28, 28] and exp.data.channels == 1
    assert exp.augment.transforms == []
    # It says what it chose and why, on stderr.
    assert "input 28x28 and 1 channel" in err and "grayscale" in err
    assert "no horizontal flip" in err and "digits" in err

    # Without --data nothing changes: the preset's 32x32 RGB with a flip.
    code, out, err = run(capsys, "init", "--preset", "seed-cnn")
    data = json.loads(out)
    assert (data["data"]["input_size"], data["data"]["channels"]) == ([32, 32], 3)
    assert [t["type"] for t in data["augment"]["transforms"]] == ["RandomHorizontalFlip"]
    assert "chose" not in err

    # A folder without images keeps the preset's values and says why.
    (tmp_path / "empty" / "a").mkdir(parents=True)
    code, out, err = run(capsys, "init", "--data", str(tmp_path / "empty"))
    assert code == 0 and json.loads(out)["data"]["input_size"] == [32, 32]
    assert "kept the preset's" in err


@pytest.mark.parametrize("argv, words", [
    (["init", "--preset", "nope"], "nope"),
    (["init", "--data", "/no/such/dir"], "does not exist"),
    (["scan", "/no/such/dir"], "/no/such/dir"),
    (["train", "/no/such.json", "--out", "x"], "does not exist"),
    (["train", "exp.json"], "--out"),
    (["predict", "/no/bundle.pt", "img.png"], "does not exist"),
    (["frobnicate"], "frobnicate"),
    (["gui", "--data", "/no/such/dir"], "does not exist"),
    (["--experiment", "/no/such.json"], "does not exist"),
])
def test_user_errors_are_one_line_with_exit_code_2(capsys, argv, words, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert words in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_argparse_errors_are_one_line_exit_2():
    proc = subprocess.run([sys.executable, "-m", "workbench", "train", "exp.json"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--out" in proc.stderr


def test_bad_experiment_json_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": {"batch_size": -3}}')
    code, _, err = run(capsys, "train", str(bad), "--out", str(tmp_path / "run"))
    assert code == 2 and "data.batch_size" in err and len(err.strip().splitlines()) == 1


def test_scan_text_and_json(capsys, tmp_path):
    root = Path(make_image_folder(tmp_path / "d", per_class=3))
    (root / "red" / "broken.png").write_bytes(b"nope")
    code, out, _ = run(capsys, "scan", str(root))
    assert code == 0 and "3 classes" in out and "broken.png" in out
    code, out, _ = run(capsys, "scan", str(root), "--json")
    data = json.loads(out)
    assert data["classes"] == ["blue", "green", "red"]
    assert data["counts"] == {"blue": 3, "green": 3, "red": 3}
    assert [Path(u["path"]).name for u in data["unreadable"]] == ["broken.png"]
    assert data["unreadable"][0]["reason"]


@pytest.mark.parametrize("files, words", [
    ({"a/1.jpg": b"x", "b/2.png": b"y"}, "no usable training images"),  # all unreadable
    ({"a/1.png": None}, "a single class"),
    ({}, "no class folders")])
def test_scan_says_what_training_would_refuse(capsys, tmp_path, files, words):
    # An all-unreadable folder said "2 classes, 0 images" and nothing else.
    root = tmp_path / "d"
    root.mkdir()
    for name, data in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        if data is None:
            Image.new("RGB", (4, 4)).save(root / name)
        else:
            (root / name).write_bytes(data)
    code, out, err = run(capsys, "scan", str(root))
    assert code == 0 and "note: cannot be trained on yet: " in err and words in err, err
    assert ("1 class, 1 image" in out) == (words == "a single class")


def test_train_writes_bundle_and_metrics_then_predict(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", str(exp_file), "--epochs", "3", "--lr", "0.02",
                         "--batch-size", "4", "--device", "cpu", "--out", str(run_dir))
    assert code == 0, err
    assert out.count("epoch ") >= 3 and "epoch 3/3" in out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [m["epoch"] for m in metrics["epochs"]] == [1, 2, 3]
    for m in metrics["epochs"]:
        assert {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"} <= set(m)
    assert (run_dir / "bundle.pt").is_file()
    saved = json.loads((run_dir / "experiment.json").read_text())
    assert saved["optimizer"]["params"]["lr"] == 0.02 and saved["data"]["batch_size"] == 4
    # The Runs tab lists it by its folder's name, not the experiment's ("tiny" for all).
    assert json.loads((run_dir / "run.json").read_text())["name"] == "run"

    folder = Path(tiny_experiment.data.folder)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    code, out, _ = run(capsys, "predict", str(run_dir / "bundle.pt"), str(folder / "red"),
                       str(bad), "--top-k", "2", "--json")
    assert code == 0
    results = json.loads(out)
    assert len(results) == 11
    good = [r for r in results if "error" not in r]
    assert len(good) == 10 and all(len(r["top"]) == 2 for r in good)
    assert {"class", "prob"} == set(good[0]["top"][0])
    errors = [r for r in results if "error" in r]
    assert [Path(r["path"]).name for r in errors] == ["bad.png"]

    code, out, _ = run(capsys, "predict", str(run_dir / "bundle.pt"),
                       str(folder / "green" / "green_000.png"))
    assert code == 0 and "green_000.png: " in out and "%" in out


def test_train_data_override_and_bad_override(capsys, tmp_path, tiny_experiment, tiny_folder):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.data.folder = "/somewhere/else"
    tiny_experiment.save(exp_file)
    code, _, err = run(capsys, "train", str(exp_file), "--data", tiny_folder, "--epochs", "0",
                       "--out", str(tmp_path / "r"))
    assert code == 2 and "--epochs" in err
    code, _, err = run(capsys, "train", str(exp_file), "--data", tiny_folder, "--epochs", "1",
                       "--out", str(tmp_path / "r"))
    assert code == 0, err


def test_predict_on_a_non_bundle_is_one_line(capsys, tmp_path):
    img = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(img)
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"not torch")
    code, _, err = run(capsys, "predict", str(fake), str(img))
    assert code == 2 and "fake.pt" in err and len(err.strip().splitlines()) == 1


def test_gui_without_a_display_says_so(capsys, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = run(capsys, "gui")
    assert code == 2 and "no display" in err and "xvfb-run" in err


def test_predict_folder_includes_gifs_and_skips_hidden_files(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    assert run(capsys, "train", str(exp_file), "--epochs", "1", "--out", str(run_dir))[0] == 0
    folder = tmp_path / "to_classify"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (8, 8), (220, 30, 30)).save(folder / "a.PNG")
    Image.new("RGB", (8, 8), (30, 40, 220)).save(folder / "sub" / "b.gif")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "._a.PNG").write_bytes(b"macOS resource fork")
    (folder / "notes.txt").write_text("not an image")
    code, out, _ = run(capsys, "predict", str(run_dir / "bundle.pt"), str(folder), "--json")
    assert code == 0
    names = [Path(r["path"]).name for r in json.loads(out)]
    assert names == ["a.PNG", "b.gif"]


def _bundle_file(tmp_path, tiny_experiment):
    """A bundle of the tiny experiment's network with random weights (no training needed)."""
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)


def test_export_code_writes_a_module_that_loads_the_bundle(capsys, tmp_path, tiny_experiment):
    import torch

    bundle, model = _bundle_file(tmp_path, tiny_experiment)
    out_file = tmp_path / "out" / "classifier.py"
    out_file.parent.mkdir()  # a file output's folder is not made (a mistyped one is refused)
    code, _, err = run(capsys, "export", str(bundle), "--code", str(out_file))
    assert code == 0 and f"wrote {out_file}" in err
    text = out_file.read_text()
    assert "from classifier import build_model" in text and "2: red" in text
    namespace = {"__name__": "classifier"}
    exec(compile(text, str(out_file), "exec"), namespace)
    exported = namespace["build_model"]()
    exported.load_state_dict(torch.load(bundle, weights_only=True)["state_dict"])
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(exported.eval()(x), model(x))


def test_export_code_to_stdout(capsys, tmp_path, tiny_experiment):
    bundle, _ = _bundle_file(tmp_path, tiny_experiment)
    code, out, _ = run(capsys, "export", str(bundle), "--code", "-")
    assert code == 0 and "def build_model() -> nn.Sequential:" in out


def _torch_save(obj, path):
    import torch

    torch.save(obj, path)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda p: p / "missing.pt", ["missing.pt does not exist"]),
    (lambda p: (p / "notes.txt").write_text("hello") and p / "notes.txt",
     ["notes.txt is not a readable bundle"]),
    (lambda p: p, ["is a folder"]),
    (lambda p: _torch_save({"weights": [1.0]}, p / "other.pt"), ["not a Workbench bundle"]),
])
def test_export_of_a_missing_or_foreign_bundle_is_one_line(capsys, tmp_path, make, words):
    target = make(tmp_path)
    code, out, err = run(capsys, "export", str(target), "--code", str(tmp_path / "m.py"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    for word in words:
        assert word in err
    assert not (tmp_path / "m.py").exists()


def test_export_needs_a_format_and_a_writable_target(capsys, tmp_path, tiny_experiment):
    bundle, _ = _bundle_file(tmp_path, tiny_experiment)
    code, _, err = run(capsys, "export", str(bundle))
    assert code == 2 and "nothing to export" in err and "--code" in err
    code, _, err = run(capsys, "export", str(bundle), "--code", str(tmp_path))
    assert code == 2 and "is a folder" in err and len(err.strip().splitlines()) == 1


def test_train_that_diverges_says_so_and_exits_with_3(capsys, tmp_path, tiny_experiment):
    # A learning rate far too high: the loss blows up within a few batches. Into a folder
    # that exists already, so the run's record stays even though no epoch finished (a
    # folder the command made itself is removed then).
    exp_file = tmp_path / "exp.json"
    tiny_experiment.optimizer = Component("SGD", {"lr": 10.0, "momentum": 0.9})
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    code, out, err = run(capsys, "train", str(exp_file), "--epochs", "3", "--batch-size", "4",
                         "--device", "cpu", "--out", str(run_dir))
    assert code == 3
    assert "diverged" in err and "learning rate" in err and "no bundle written" in err
    assert not (run_dir / "bundle.pt").exists()
    # The training doctor ends it in epoch 1, when the loss explodes (before, it went on to
    # NaN in a later epoch): no epoch to keep, but the record says what happened, and
    # metrics.json the batches up to the exploded one, as plotted (a restart plots them).
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs"] == [] and [b["epoch"] for b in metrics["batches"]] == [1]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "diverged"


def test_resume_continues_a_run_for_more_epochs(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", str(exp_file), "--out", str(run_dir))
    assert code == 0 and (run_dir / "checkpoints" / "last.pt").exists()
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["epochs_done"] == 2

    code, out, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "finished all its 2 epochs" in err and "--epochs N" in err

    code, out, err = run(capsys, "resume", str(run_dir), "--epochs", "2")
    assert code == 0, err
    assert "epoch 3/4" in out and "epoch 4/4" in out and "epoch 1/" not in out
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    assert [m["epoch"] for m in epochs] == [1, 2, 3, 4]
    assert json.loads((run_dir / "run.json").read_text())["epochs_done"] == 4


def test_resume_errors_are_one_line(capsys, tmp_path, tiny_experiment):
    code, out, err = run(capsys, "resume", str(tmp_path))
    assert code == 2 and f"{tmp_path} is not a run folder" in err
    assert len(err.strip().splitlines()) == 1


def test_stopped_train_says_how_to_resume(capsys, tmp_path, tiny_experiment, monkeypatch):
    from workbench.core.train import trainer as trainer_module

    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 3
    tiny_experiment.save(exp_file)
    real = trainer_module.Trainer._run_epoch

    def stop_in_epoch_2(self, epoch, train):
        if epoch == 2 and train:
            self.request_stop()  # as a Ctrl-C would
        return real(self, epoch, train)

    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", stop_in_epoch_2)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", str(exp_file), "--out", str(run_dir))
    assert code == 130 and f"workbench resume {run_dir}" in err
    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", real)
    code, out, err = run(capsys, "resume", str(run_dir))
    assert code == 0 and "epoch 2/3" in out and "epoch 3/3" in out


def test_predict_csv_writes_one_row_per_image_with_top_k_and_errors(capsys, tmp_path,
                                                                     tiny_experiment):
    import csv

    bundle, _ = _bundle_file(tmp_path, tiny_experiment)
    folder = Path(tiny_experiment.data.folder)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    out = tmp_path / "out" / "predictions.csv"
    out.parent.mkdir()
    code, _, err = run(capsys, "predict", str(bundle), str(folder / "red"), str(bad),
                       "--top-k", "2", "--csv", str(out))
    assert code == 0 and str(out) in err
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["path", "predicted", "confidence", "class_1", "prob_1", "class_2",
                       "prob_2", "error"]
    body = {Path(r[0]).name: r for r in rows[1:]}
    assert len(body) == 11 and body["bad.png"][1:7] == [""] * 6 and body["bad.png"][7]
    good = [r for name, r in body.items() if name != "bad.png"]
    for r in good:
        assert r[1] == r[3] and r[2] == r[4] and r[7] == ""
        assert r[1] in {"blue", "green", "red"} and float(r[4]) >= float(r[6])


def test_set_overrides_reach_the_run_and_a_wrong_one_is_one_line(capsys, tmp_path):
    data = make_image_folder(tmp_path / "data", per_class=6, size=12)
    code, _, err = run(capsys, "init", "--preset", "mlp", "--data", data, "-o",
                       tmp_path / "exp.json")
    assert code == 0, err
    code, _, err = run(capsys, "train", tmp_path / "exp.json", "--out", tmp_path / "run",
                       "--epochs", "1", "--device", "cpu",
                       "--set", "optimizer.params.lr=0.02", "--set", "data.batch_size=4",
                       "--set", "training.early_stopping=true",
                       "--set", "model.layers[1].params.out_features=7")
    assert code == 0, err
    ran = json.loads((tmp_path / "run" / "experiment.json").read_text())
    assert ran["optimizer"]["params"]["lr"] == 0.02 and ran["data"]["batch_size"] == 4
    assert ran["training"]["early_stopping"] is True
    assert ran["model"]["layers"][1]["params"]["out_features"] == 7
    for bad, says in (("optimizer.params.lrr=0.1", "no parameter 'lrr'"),
                      ("data.batch_size=-3", "below the minimum"),
                      ("data.nothing=1", "no field 'nothing'"),
                      ("optimizer.params.lr", "expected PATH=VALUE")):
        code, out, err = run(capsys, "train", tmp_path / "exp.json", "--out",
                             tmp_path / "other", "--set", bad)
        assert code == 2 and says in err and err.count("\n") == 1, (bad, err)
        assert "--set" in err
    # --data and --set wherever an experiment is taken: lr-find too.
    code, out, err = run(capsys, "lr-find", tmp_path / "exp.json", "--data", data,
                         "--steps", "5", "--json", "--set", "training.device=cpu")
    assert code == 0, err
    assert json.loads(out)["lrs"]
    code, _, err = run(capsys, "lr-find", tmp_path / "exp.json", "--data", tmp_path / "none")
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "tune", tmp_path / "exp.json", "--space", tmp_path / "s.json",
                       "--data", tmp_path / "none")
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "tune", tmp_path / "exp.json", "--space", tmp_path / "s.json",
                       "--set", "optimizer.params.nope=1")
    assert code == 2 and "--set optimizer.params.nope" in err
