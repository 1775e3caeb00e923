"""What `workbench train` and `resume` report is what happened: a resumed run trains at the
rate it was given, a run that could read no image fails instead of "finishing", the classes
a refused resume names are few, and files the scan left out are said at the start."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch

from helpers import make_image_folder, run_cli as run
from workbench.core.errors import DataError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.runs.store import read_run_info
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.runs.recorder import RunRecorder
from workbench.core.train.trainer import Callback, Trainer


def lrs(run_dir: Path) -> dict[int, float]:
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    return {m["epoch"]: m["lr"] for m in epochs}


def stop_in_epoch(monkeypatch, epoch_to_stop: int):
    """Make the next CLI train stop at the start of ``epoch_to_stop`` (as a Ctrl-C would);
    returns a function that undoes it."""
    from workbench.core.train import trainer as trainer_module

    real = trainer_module.Trainer._run_epoch

    def stopping(self, epoch, train):
        if epoch == epoch_to_stop and train:
            self.request_stop()
        return real(self, epoch, train)

    monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", stopping)
    return lambda: monkeypatch.setattr(trainer_module.Trainer, "_run_epoch", real)


# -- resume --lr --------------------------------------------------------------------------
def test_resume_with_lr_trains_at_the_new_rate(capsys, tmp_path, tiny_experiment):
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)  # Adam at 0.01, no schedule
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    before = load_checkpoint(run_dir).model
    reference = tmp_path / "reference"
    shutil.copytree(run_dir, reference)

    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1", "--lr", "1e-6")
    assert code == 0, err
    assert "learning rate changed from 0.01 to 1e-06" in out
    assert lrs(run_dir) == {1: 0.01, 2: 0.01, 3: pytest.approx(1e-6)}
    saved = Experiment.load(run_dir / "experiment.json")
    assert saved.optimizer.params["lr"] == pytest.approx(1e-6)
    after = load_checkpoint(run_dir).model
    # Three Adam steps at 1e-6 move a weight by a few millionths; at 0.01, by hundredths.
    moved = max(float((after[k] - before[k]).abs().max()) for k in before)
    assert 0 < moved < 1e-4
    # The same continuation built from a copy of the experiment (the core's own path).
    result = Trainer(saved, checkpoint=load_checkpoint(reference)).fit()
    ref = result.model.state_dict()
    assert all(torch.allclose(ref[k], after[k], rtol=0, atol=1e-7) for k in ref)


@pytest.mark.parametrize("schedule", [
    Component("StepLR", {"step_size": 1, "gamma": 0.5}),
    Component("CosineAnnealingLR"),
    Component("CosineAnnealingLR", {"warmup_epochs": 3}),  # the cosine starts after resuming
    Component("OneCycleLR"),
    Component("ReduceLROnPlateau", {"patience": 0, "factor": 0.5}),
], ids=lambda c: c.type + ("+warmup" if "warmup_epochs" in c.params else ""))
def test_resume_with_lr_moves_the_schedule_to_the_new_rate(capsys, monkeypatch, tmp_path,
                                                           tiny_experiment, schedule):
    exp = tiny_experiment.copy()
    exp.scheduler = schedule
    exp.training.epochs = 4
    exp.training.deterministic = True
    exp_file = tmp_path / "exp.json"
    exp.validate().save(exp_file)
    run_dir = tmp_path / "run"
    undo = stop_in_epoch(monkeypatch, 3)
    code, out, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 130, err
    undo()
    ckpt = load_checkpoint(run_dir)
    assert ckpt.epoch == 2
    at_checkpoint = ckpt.optimizer["param_groups"][0]["lr"]  # the rate epoch 3 would use

    code, out, err = run(capsys, "resume", run_dir, "--lr", "0.001")
    assert code == 0, err
    got = lrs(run_dir)
    assert [got[1], got[2]] == [m["lr"] for m in ckpt.history]  # the epochs before: kept
    if schedule.type != "OneCycleLR":  # a per-batch schedule moves within the epoch
        assert got[3] == pytest.approx(at_checkpoint / 10)
    assert Experiment.load(run_dir / "experiment.json").optimizer.params["lr"] == 0.001
    if schedule.type != "ReduceLROnPlateau":  # which follows the (changed) losses
        straight = exp.copy()
        straight.optimizer.params["lr"] = 0.001
        history = Trainer(straight.validate()).fit().history
        assert [got[3], got[4]] == pytest.approx([history[2]["lr"], history[3]["lr"]])


def test_an_older_checkpoint_resumes_at_the_new_rate_too(tmp_path, tiny_experiment):
    # Written before the optimizer's groups kept their set rate: the rate read from the
    # file counts, even when the caller edits the checkpoint's experiment in place.
    run_dir = tmp_path / "run"
    Trainer(tiny_experiment, [RunRecorder(run_dir)]).fit()
    ckpt = load_checkpoint(run_dir)
    for group in ckpt.optimizer["param_groups"]:
        group.pop("set_lr")
    exp = ckpt.experiment
    exp.training.epochs = 3
    exp.optimizer.params["lr"] = 1e-4
    result = Trainer(exp, checkpoint=ckpt).fit()
    assert [m["lr"] for m in result.history] == [0.01, 0.01, pytest.approx(1e-4)]


# -- no readable image ----------------------------------------------------------------------
def test_a_dataset_of_empty_files_fails_with_exit_2_and_no_bundle(capsys, tmp_path,
                                                                  tiny_experiment):
    data = tmp_path / "empty"
    for c in ("cats", "dogs"):
        (data / c).mkdir(parents=True)
        for i in range(4):
            (data / c / f"{i}.png").write_bytes(b"")  # the scan lists them; none decodes
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", exp_file, "--data", data, "--out", run_dir)
    assert code == 2
    # Refused before training, as the app's Data tab refuses it (each class's files are
    # decoded until one reads).
    message = err.strip().splitlines()[-1]
    assert ("class 'cats' in " in message and "has no usable training images (all 4 of its "
            "files are unreadable)" in message), message
    assert "epoch 1/" not in out and not (run_dir / "bundle.pt").exists()
    # The folder the command made is not left holding a "failed" husk (the app's runs
    # leave none either).
    assert not run_dir.exists()


def test_files_gone_unreadable_once_the_run_started_fail_it_with_no_bundle(
        tmp_path, tiny_experiment):
    """Files found readable before the run and empty by the time an epoch reads them: no
    image of the training split can be read, so the run fails without a bundle."""
    from workbench.core.train.run import run_training

    exp = tiny_experiment.copy()
    exp.training.epochs = 1
    folder = Path(exp.data.folder)

    class EmptyEveryFile(Callback):
        def on_fit_start(self, trainer, info):
            for path in folder.rglob("*.png"):
                path.write_bytes(b"")

    outcome = run_training(exp, tmp_path / "run", [EmptyEveryFile()], created=True)
    assert outcome.failed and outcome.bundle_path is None
    message = str(outcome.error)
    assert "no image of the training split could be read in epoch 1" in message
    assert "empty file (0 bytes)" in message and "No bundle is written" in message


def test_a_validation_split_of_unreadable_files_fails(capsys, tmp_path, tiny_experiment):
    data = tmp_path / "split"
    make_image_folder(data / "train", classes=("blue", "red"), per_class=4)
    for c in ("blue", "red"):
        (data / "val" / c).mkdir(parents=True)
        (data / "val" / c / "x.png").write_bytes(b"not a png")
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, out, err = run(capsys, "train", exp_file, "--data", data, "--out", tmp_path / "run")
    # Refused before training, with the words of the app's Data tab (a folder checked
    # first is refused by the same check).
    words = r"the validation folder of .* has no readable image \(all 2 of its files are " \
            r"unreadable"
    assert code == 2 and re.search(words, err), err
    assert not (tmp_path / "run").exists()
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import DataError

    with pytest.raises(DataError, match=words):
        scan_folder(data, verify=True).check_trainable()


def test_a_dataset_deleted_during_the_run_keeps_the_finished_epochs(tmp_path, tiny_experiment):
    exp = tiny_experiment.copy()
    exp.training.epochs = 3
    exp.data.cache = "off"  # every epoch reads the files again
    folder = Path(exp.data.folder)

    class DeleteAfterEpoch1(Callback):
        def on_epoch_end(self, trainer, epoch, metrics):
            if epoch == 1:
                shutil.rmtree(folder)

    run_dir = tmp_path / "run"
    with pytest.raises(DataError) as caught:  # the CLI's exit 2
        Trainer(exp.validate(), [RunRecorder(run_dir), DeleteAfterEpoch1()]).fit()
    message = str(caught.value)
    assert "training split could be read in epoch 2" in message
    assert f"the dataset folder {folder} is gone" in message
    assert "the 1 finished epoch and its checkpoint are kept" in message
    assert load_checkpoint(run_dir).epoch == 1
    assert not (run_dir / "bundle.pt").exists()
    info = read_run_info(run_dir)
    assert info["status"] == "failed" and info["epochs_done"] == 1
    assert "epoch 2" in info["message"]


# -- the classes a refused resume names ------------------------------------------------------
def test_changed_classes_are_summed_up_not_listed(capsys, tmp_path, tiny_experiment):
    before = make_image_folder(tmp_path / "before", classes=[f"c{i:02d}" for i in range(14)],
                               per_class=3, size=8)
    after = make_image_folder(tmp_path / "after", classes=[f"c{i:02d}" for i in range(12)]
                              + [f"n{i:02d}" for i in range(5)], per_class=3, size=8)
    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", exp_file, "--data", before, "--out", run_dir)
    assert code == 0, err
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1", "--data", after)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert ("14 classes then, 17 now: 'c12', 'c13' are missing; 'n00', 'n01', 'n02' and 2 "
            "more are new") in err
    assert "c05" not in err  # the classes both lists share are not named


# -- files the scan left out -----------------------------------------------------------------
def test_train_notes_the_csv_rows_whose_files_are_missing(capsys, tmp_path, tiny_experiment):
    folder = Path(tiny_experiment.data.folder)
    rows = ["path,label"] + [f"{p.relative_to(tmp_path).as_posix()},{p.parent.name}"
                             for p in sorted(folder.rglob("*.png"))]
    rows += [f"gone/a{i}.png,blue" for i in range(4)]
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(rows) + "\n")
    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    code, out, err = run(capsys, "train", exp_file, "--data", csv, "--out", tmp_path / "run")
    assert code == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note: ")]
    assert ("note: 4 files listed in data.csv were left out: gone/a0.png (file not found), "
            "gone/a1.png (file not found), gone/a2.png (file not found) and 1 more") in notes


def test_a_verified_folder_notes_the_files_it_left_out(tmp_path, tiny_experiment):
    from workbench.core.data.scan import scan_folder

    folder = Path(tiny_experiment.data.folder)
    (folder / "blue" / "broken.png").write_bytes(b"")
    index = scan_folder(folder, verify=True)  # as the app's Data tab scans
    seen = {}

    class Info(Callback):
        def on_fit_start(self, trainer, info):
            seen.update(info)

    exp = tiny_experiment.copy()
    exp.training.epochs = 1
    Trainer(exp, [Info()], index=index).fit()
    assert (f"1 unreadable file in {folder} was left out: "
            f"{Path('blue', 'broken.png')} (empty file (0 bytes))") in seen["notes"]
