"""A run whose checkpoints/last.pt is damaged or gone (a power cut) continues from its
best.pt when that one is readable, saying so and from which epoch; the messages are never
cut mid-sentence, and never say "finished none" of a run with epochs (walk-crash defect 5).

Measured before: "...last.pt is not a readable checkpoint (truncated, damaged or not a
PyTorch file): PytorchStreamReader failed reading zip archive: failed finding central
directory. This is an internal miniz error. If you are seeing this error, there is a high
likelihood that your checkpoint file is" (cut at 200 characters), and with last.pt
missing, "this one finished none ... train it again" of a run with 2 epochs and a best.pt.
"""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import run_cli
from workbench.core.train.checkpoint import CheckpointError, load_checkpoint

#: What torch says after the first sentence of a truncated file's error.
TORCH_INTERNALS = "This is an internal miniz error"


@pytest.fixture
def run(tiny_experiment, tmp_path, capsys):
    """A run of 2 epochs whose best.pt holds epoch 2 (its last.pt's copy)."""
    tiny_experiment.training.epochs = 2
    tiny_experiment.save(tmp_path / "e.json")
    run_dir = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", tmp_path / "e.json", "--out", run_dir)
    assert code == 0, err
    ckpts = run_dir / "checkpoints"
    shutil.copyfile(ckpts / "last.pt", ckpts / "best.pt")
    return run_dir


def _truncate(path, size=300) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:size])


def _info(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_a_damaged_last_pt_continues_from_best_pt_with_a_note(run, capsys):
    _truncate(run / "checkpoints" / "last.pt")
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 0, err
    (note,) = [ln for ln in err.splitlines() + out.splitlines() if "best.pt" in ln]
    assert note.startswith(f"note: {run / 'checkpoints' / 'last.pt'} is not a readable "
                           f"checkpoint (truncated, damaged or not a PyTorch file)")
    assert note.endswith("; continuing from checkpoints/best.pt instead, which holds epoch 2, "
                         "the last finished one")
    assert TORCH_INTERNALS not in note
    assert _info(run)["epochs_done"] == 3
    assert load_checkpoint(run).epoch == 3 and load_checkpoint(run).note == ""


def test_a_missing_last_pt_continues_from_best_pt(run, capsys):
    (run / "checkpoints" / "last.pt").unlink()
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 0, err
    assert "finished none" not in out + err
    note = (f"note: {run / 'checkpoints' / 'last.pt'} is missing; continuing from "
            f"checkpoints/best.pt instead, which holds epoch 2, the last finished one")
    assert note in err + out
    assert _info(run)["epochs_done"] == 3


def test_a_best_pt_of_an_earlier_epoch_says_which_epoch_it_continues_from(
        tiny_experiment, tmp_path, capsys):
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(tmp_path / "e.json")
    run_dir, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    assert run_cli(capsys, "train", tmp_path / "e.json", "--out", run_dir)[0] == 0
    shutil.copyfile(ckpts / "last.pt", tmp_path / "epoch1.pt")
    assert run_cli(capsys, "resume", run_dir, "--epochs", 1)[0] == 0
    assert _info(run_dir)["epochs_done"] == 2
    shutil.copyfile(tmp_path / "epoch1.pt", ckpts / "best.pt")
    _truncate(ckpts / "last.pt")
    ckpt = load_checkpoint(run_dir)
    assert ckpt.epoch == 1 and ckpt.path == str(ckpts / "best.pt")
    assert ckpt.note.endswith("; continuing from checkpoints/best.pt instead, which holds "
                              "epoch 1, not 2, the last one run.json says finished: epoch 2 "
                              "is trained again")
    code, out, err = run_cli(capsys, "resume", run_dir, "--epochs", 1)
    assert code == 0, err
    assert "resuming" in out and "after epoch 1: epochs 2 to 2" in out
    assert _info(run_dir)["epochs_done"] == 2


def test_no_checkpoint_at_all_is_not_called_a_run_that_finished_none(run, capsys):
    for name in ("last.pt", "best.pt"):
        (run / "checkpoints" / name).unlink()
    code, _, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 2
    assert "finished none" not in err
    assert "run.json says 2 epochs finished, but checkpoints/last.pt is missing and best.pt " \
           "is missing too" in err


def test_damaged_with_no_best_pt_says_so_in_whole_sentences(run):
    _truncate(run / "checkpoints" / "last.pt")
    (run / "checkpoints" / "best.pt").unlink()
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(run)
    text = str(info.value)
    assert TORCH_INTERNALS not in text and "likelihood" not in text
    assert "is not a readable checkpoint (truncated, damaged or not a PyTorch file)" in text
    assert text.endswith("and checkpoints/best.pt is missing: the run cannot be continued; "
                         "train it again")


def test_the_continue_plan_says_it_goes_on_from_best_pt(run):
    from workbench.core.runs.plan import continue_plan

    _truncate(run / "checkpoints" / "last.pt")
    plan = continue_plan(run)
    assert plan.done == 2
    assert plan.notes[0].endswith("continuing from checkpoints/best.pt instead, which holds "
                                  "epoch 2, the last finished one")
