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


def _format_99(path) -> None:
    import torch

    data = torch.load(path, weights_only=True)
    data["format_version"] = 99
    torch.save(data, path)


def test_a_last_pt_of_a_newer_workbench_is_refused_not_passed_over_for_best_pt(run, capsys):
    # Measured before: "...last.pt is not a checkpoint this Workbench continues from;
    # continuing from checkpoints/best.pt instead": a newer file called damaged, and the
    # resume went on from best.pt, writing over the newer last.pt.
    from workbench.core.runs.plan import continue_plan

    last = run / "checkpoints" / "last.pt"
    _format_99(last)
    kept = last.read_bytes()
    said = (f"{last} is checkpoint format 99, written by a newer Workbench: upgrade "
            f"Workbench to resume it")
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(run)
    assert str(info.value) == said
    with pytest.raises(CheckpointError, match="upgrade Workbench"):
        continue_plan(run)
    code, _, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 2 and said in err
    assert last.read_bytes() == kept and _info(run)["epochs_done"] == 2


def test_a_best_pt_of_a_newer_workbench_standing_in_says_upgrade(run):
    _truncate(run / "checkpoints" / "last.pt")
    _format_99(run / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="best.pt is checkpoint format 99, written by "
                                              "a newer Workbench: upgrade Workbench"):
        load_checkpoint(run)


def test_a_last_pt_that_cannot_be_opened_is_refused_not_written_over(run, capsys,
                                                                      monkeypatch):
    # Measured before: a last.pt without read permission was "not a readable checkpoint
    # (truncated, damaged ...): Permission denied", best.pt (an earlier epoch) stood in,
    # and the resumed run wrote over last.pt: its later epochs lost for good.
    import errno

    import torch

    last = run / "checkpoints" / "last.pt"
    real = torch.load

    def load(path, *args, **kwargs):
        if str(path) == str(last):  # chmod does not stop root: refuse it here
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    kept = last.read_bytes()
    code, _, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 2
    assert f"{last} cannot be read (Permission denied): give yourself read permission on " \
           f"it, then try again" in err
    assert "best.pt" not in err and "damaged" not in err
    assert last.read_bytes() == kept and _info(run)["epochs_done"] == 2


def test_resume_says_why_it_goes_on_from_best_pt_before_its_header_once(
        tiny_experiment, tmp_path, capsys, monkeypatch):
    # Measured before: "resuming ... after epoch 1" came first, the note explaining the
    # epoch after the run's own header.
    import sys

    tiny_experiment.training.epochs = 1
    tiny_experiment.save(tmp_path / "e.json")
    run_dir, ckpts = tmp_path / "run", tmp_path / "run" / "checkpoints"
    assert run_cli(capsys, "train", tmp_path / "e.json", "--out", run_dir)[0] == 0
    _truncate(ckpts / "last.pt")
    monkeypatch.setattr(sys, "stderr", sys.stdout)  # one stream: the order as printed
    code, out, _ = run_cli(capsys, "resume", run_dir, "--epochs", 1)
    assert code == 0, out
    lines = out.splitlines()
    notes = [i for i, line in enumerate(lines) if "continuing from checkpoints/best.pt" in line]
    header = next(i for i, line in enumerate(lines) if line.startswith("resuming "))
    assert len(notes) == 1 and notes[0] < header, out
    assert "continuing from checkpoints/best.pt" in " ".join(_info(run_dir)["start_notes"])


def test_the_continue_plan_maps_the_checkpoints_once_and_reads_none_in_full(run,
                                                                            monkeypatch):
    # Measured before: continue_from ran twice, and best.pt was read in full (its tensors
    # too) on the GUI thread when last.pt was damaged.
    import torch

    from workbench.core.runs.plan import continue_plan

    _truncate(run / "checkpoints" / "last.pt")
    real, reads = torch.load, []

    def load(path, *args, **kwargs):
        reads.append((str(path).rsplit("/", 1)[-1], bool(kwargs.get("mmap"))))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    plan = continue_plan(run)
    assert plan.done == 2 and "best.pt" in plan.notes[0]
    assert reads == [("last.pt", True), ("best.pt", True)]
