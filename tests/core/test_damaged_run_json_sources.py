"""A resume of a run whose run.json is damaged keeps the run's name, creation date and notes
where the damaged text no longer holds them: from the runs index's row (the Runs tab's) and
from the folder's ``<date>_<time>-<name>`` name, never the time of the repair; its note
names each source, and calls lost only what none holds (walk-crash2 defect 1)."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.core.runs.store import RunStore, read_run_info, update_run_info
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training

FOLDER = "2026-12-01_10-00-00-myrun"


def _trained(tiny_experiment, run_dir: Path) -> Path:
    tiny_experiment.training.epochs = 1
    assert run_training(tiny_experiment, run_dir).status == "finished"
    return run_dir


def _damaged_and_resumed(run_dir: Path) -> list[str]:
    """Cut run.json short as a kill mid-write would, resume it one more epoch: its notes."""
    (run_dir / "run.json").write_text('{"format_version": 1, "na')
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment
    exp.training.epochs = ckpt.epoch + 1
    outcome = run_training(exp, run_dir, checkpoint=ckpt)
    assert outcome.status == "finished", outcome.error
    return [n for n in read_run_info(run_dir)["start_notes"] if "was damaged" in n]


def test_without_an_index_the_folder_name_gives_the_date_and_the_name(
        tmp_path, tiny_experiment):
    run_dir = _trained(tiny_experiment, tmp_path / FOLDER)  # `train --out` somewhere
    [note] = _damaged_and_resumed(run_dir)
    info = read_run_info(run_dir)
    assert info["created"].startswith("2026-12-01T10:00:00")  # not the repair's time
    assert info["name"] == "myrun"
    assert note.endswith("; taken from the folder's name: its name (myrun) and its creation "
                         f"date ({info['created']}); could not be read back: its notes")
    assert not (tmp_path / "runs.sqlite").exists()  # no index made where there was none


def test_the_runs_index_gives_the_name_date_and_notes_it_listed(tmp_path, tiny_experiment):
    runs = tmp_path / "runs"
    run_dir = _trained(tiny_experiment, runs / FOLDER)
    update_run_info(run_dir, name="renamed", notes="three days of tuning")
    before = read_run_info(run_dir)
    store = RunStore(runs)
    store.refresh()  # the Runs tab lists it, as it was
    [note] = _damaged_and_resumed(run_dir)
    info = read_run_info(run_dir)
    assert (info["name"], info["created"], info["notes"]) == \
        ("renamed", before["created"], "three days of tuning")
    assert note.endswith(f"; taken from the runs index ({store.index_path}): its name "
                         f"(renamed), its creation date ({before['created']}) and its notes")
    store.refresh()
    [row] = store.runs()
    assert (row.name, row.created, row.notes) == ("renamed", before["created"],
                                                  "three days of tuning")


def test_what_the_damaged_text_still_holds_comes_first(tmp_path, tiny_experiment):
    runs = tmp_path / "runs"
    run_dir = _trained(tiny_experiment, runs / FOLDER)
    update_run_info(run_dir, name="renamed", notes="kept in the index")
    RunStore(runs).refresh()
    text = json.dumps({**read_run_info(run_dir), "name": "as-written"}, indent=2)
    cut = text[:text.index("\n", text.index('"created"')) + 1]  # name and date read whole

    (run_dir / "run.json").write_text(cut)
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment
    exp.training.epochs = ckpt.epoch + 1
    assert run_training(exp, run_dir, checkpoint=ckpt).status == "finished"
    info = read_run_info(run_dir)
    assert (info["name"], info["notes"]) == ("as-written", "kept in the index")
    [note] = [n for n in info["start_notes"] if "was damaged" in n]
    assert "read back from it: its name (as-written) and its creation date; taken from " \
           "the runs index" in note and note.endswith(": its notes")


def test_a_refresh_after_the_damage_keeps_the_indexed_name_date_and_notes(
        tmp_path, tiny_experiment):
    # The Runs tab lists the runs again at start-up, before anyone presses Continue…: the
    # row read from the damaged run.json lost the notes the resume would have taken.
    runs = tmp_path / "runs"
    run_dir = _trained(tiny_experiment, runs / FOLDER)
    update_run_info(run_dir, name="renamed", notes="three days of tuning")
    before = read_run_info(run_dir)
    RunStore(runs).refresh()
    (run_dir / "run.json").write_text('{"format_version": 1, "na')
    for _ in range(2):  # the next start-up's listing, and the one after it
        store = RunStore(runs)
        store.refresh()
        [row] = store.runs()
        assert (row.name, row.created, row.notes) == ("renamed", before["created"],
                                                      "three days of tuning")
        assert "run.json" in row.problem  # still shown as damaged
        (run_dir / "metrics.json").touch()  # a change: the folder is read again
    [note] = _damaged_and_resumed(run_dir)
    info = read_run_info(run_dir)
    assert (info["name"], info["notes"]) == ("renamed", "three days of tuning")
    assert "taken from the runs index" in note
