"""`workbench resume` and the app's Continue… read a run's settings by one rule
(workbench.core.train.continuing): the checkpoint's experiment, with a hand edit of
RUN/experiment.json applied and named where the checkpoint can follow it, refused (naming
the file, changing nothing) where it cannot or where the file is not a valid experiment.
A run whose dataset folder is gone says how to give its new place: ``--data DIR`` on the
command line, the Data tab's folder in the app (when it has the run's classes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import make_image_folder, run_cli as run
from workbench.core.errors import WorkbenchError
from workbench.core.runs.plan import choose_dataset, continue_plan
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.continuing import checkpoint_head, experiment_changes, run_settings


class _StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, trainer, epoch, metrics):
        trainer.request_stop()


@pytest.fixture
def run_dir(tmp_path, tiny_experiment) -> Path:
    """A run stopped after epoch 1 of its 2."""
    from workbench.core.train.run import run_training

    out = tmp_path / "run"
    outcome = run_training(tiny_experiment, out, [_StopAfterFirstEpoch()], name="run")
    assert outcome.status == "stopped" and outcome.epochs_done == 1
    return out


def _edit(run_dir: Path, **sets) -> None:
    path = run_dir / "experiment.json"
    data = json.loads(path.read_text())
    for dotted, value in sets.items():
        *parents, key = dotted.split("__")
        holder = data
        for name in parents:
            holder = holder[name]
        holder[key] = value
    path.write_text(json.dumps(data))


def _snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_the_checkpoint_is_the_source_and_an_edit_is_applied_by_both_with_a_note(
        capsys, run_dir):
    lr = load_checkpoint(run_dir).experiment.optimizer.params["lr"]
    _edit(run_dir, optimizer__params__lr=lr / 10)
    settings = run_settings(run_dir)
    assert settings.saved.optimizer.params["lr"] == pytest.approx(lr)
    assert settings.experiment.optimizer.params["lr"] == pytest.approx(lr / 10)
    [note] = settings.notes
    assert "experiment.json differs from the checkpoint's settings (epoch 1)" in note
    assert f"optimizer.params.lr {lr} → {lr / 10}" in note
    # The app's plan shows the same settings and the same note ...
    plan = continue_plan(run_dir)
    assert plan.lr == pytest.approx(lr / 10) and plan.notes == settings.notes
    assert (plan.done, plan.planned) == (1, 2)
    # ... and the command line trains with them, saying so.
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert "note: experiment.json differs from the checkpoint's settings" in err
    assert f"learning rate changed from {lr:g} to {lr / 10:g} on resuming" in out
    assert load_checkpoint(run_dir).experiment.optimizer.params["lr"] == \
        pytest.approx(lr / 10)


def test_an_edit_the_checkpoint_cannot_follow_is_refused_naming_the_file(capsys, run_dir):
    _edit(run_dir, optimizer__type="SGD", optimizer__params={"lr": 0.1})
    before = _snapshot(run_dir)
    with pytest.raises(WorkbenchError) as app:
        continue_plan(run_dir)
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 2 and out == ""
    for message in (str(app.value), err):
        assert f"{run_dir / 'experiment.json'} differs from the settings saved in the " \
               f"run's checkpoint" in message
        assert "optimizer.type" in message and "delete experiment.json" in message
    assert _snapshot(run_dir) == before


def test_an_invalid_experiment_json_is_never_silently_rewritten(capsys, run_dir):
    path = run_dir / "experiment.json"
    path.write_text('{"data": {"batch_size": "many"}')  # bad JSON, as a hand edit leaves it
    before = _snapshot(run_dir)
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 2 and out == ""
    assert f"{path} is not a valid experiment" in err
    assert "delete it to continue with the settings saved in the run's checkpoint" in err
    assert _snapshot(run_dir) == before  # the user's file as they left it
    with pytest.raises(WorkbenchError, match="is not a valid experiment"):
        continue_plan(run_dir)
    # Deleted: the checkpoint's settings, and the file is written again.
    path.unlink()
    assert run_settings(run_dir).notes == []
    code, _, err = run(capsys, "resume", run_dir)
    assert code == 0, err
    assert json.loads(path.read_text())["training"]["epochs"] == 2


def test_a_resume_whose_dataset_is_gone_names_data_dir(capsys, run_dir, tmp_path):
    folder = Path(load_checkpoint(run_dir).experiment.data.folder)
    moved = tmp_path / "moved"
    shutil.move(str(folder), moved)
    before = _snapshot(run_dir)
    code, out, err = run(capsys, "resume", run_dir)
    assert code == 2 and out == ""
    assert f"the run's dataset folder {folder} does not exist" in err
    assert "--data DIR" in err and f"workbench resume {run_dir} --data DIR" in err
    assert _snapshot(run_dir) == before
    code, out, err = run(capsys, "resume", run_dir, "--data", moved)
    assert code == 0, err
    assert json.loads((run_dir / "experiment.json").read_text())["data"]["folder"] == \
        str(moved)


def test_the_data_tabs_folder_replaces_a_missing_one_only_with_the_same_classes(tmp_path):
    classes = ["blue", "green", "red"]
    gone, here = str(tmp_path / "gone"), make_image_folder(tmp_path / "here")
    folder, note = choose_dataset(gone, classes, here, classes)
    assert folder == here
    assert note == f"The run's folder {gone} is missing; continuing on {here} (same classes)."
    folder, note = choose_dataset(gone, classes, here, None)  # still scanning: the run checks
    assert folder == here and "checked against the run's as it starts" in note
    with pytest.raises(WorkbenchError) as other:
        choose_dataset(gone, classes, here, classes + ["teal"])
    assert f"has other classes (3 classes then, 4 now: 'teal' is new)" in str(other.value)
    assert "press Start training to train a new run" in str(other.value)
    for open_folder in ("", gone):  # nothing open, or the missing folder itself
        with pytest.raises(WorkbenchError) as missing:
            choose_dataset(gone, classes, open_folder, None)
        assert str(missing.value).startswith(f"the run's dataset folder {gone} does not "
                                             f"exist")
        assert "File → Open dataset folder…" in str(missing.value)


def test_the_runs_own_folder_wins_while_it_exists_and_says_so(tmp_path):
    classes = ["blue", "green", "red"]
    own, other = make_image_folder(tmp_path / "own"), make_image_folder(tmp_path / "other")
    assert choose_dataset(own, classes, own, classes) == (own, "")
    folder, note = choose_dataset(own, classes, other, classes)
    assert folder == own
    assert note.startswith(f"Continues on the run's own dataset folder {own}, not {other}")
    with pytest.raises(WorkbenchError, match="classes changed since the checkpoint"):
        choose_dataset(own, classes, own, classes[:2])


def test_the_checkpoint_head_matches_the_full_checkpoint(run_dir):
    ckpt = load_checkpoint(run_dir)
    exp, classes, epoch = checkpoint_head(run_dir)
    assert (exp.to_dict(), classes, epoch) == (ckpt.experiment.to_dict(), ckpt.classes, 1)
    assert experiment_changes(exp, ckpt.experiment) == []
