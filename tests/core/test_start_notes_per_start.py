"""run.json keeps what a run said as it started per start: ``start_notes`` are the latest
start's (with ``start_notes_from``, its first epoch), the earlier starts' are kept apart
(``earlier_start_notes``), and ``workbench report`` labels each with its epochs
(walk-tomorrow2 defect 4).

Measured before: a run continued at lr 0.02, then resumed again without a new rate,
showed "Last run started with these notes: learning rate changed from 0.01 to 0.02 on
resuming": ``start_notes`` gathered every start's notes, with no epoch attached.
"""

from __future__ import annotations

import json

from helpers import report_html, run_cli as run
from workbench.core.runs.start_notes import labelled_start_notes, latest_start, started

CHANGED = "learning rate changed from 0.01 to 0.02 on resuming"


def _info(run_dir) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def test_a_later_start_keeps_its_own_notes_and_the_earlier_ones_apart(capsys, tmp_path,
                                                                      tiny_experiment):
    exp_file, run_dir = tmp_path / "exp.json", tmp_path / "run"
    tiny_experiment.save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", run_dir)
    assert code == 0, err
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "1", "--lr", "0.02")
    assert code == 0 and f"note: {CHANGED}" in out, err
    assert _info(run_dir)["start_notes"] == [CHANGED]
    code, out, err = run(capsys, "resume", run_dir, "--epochs", "2")
    assert code == 0 and "changed" not in out, err
    info = _info(run_dir)
    assert CHANGED not in info["start_notes"]  # the latest start did not change the rate
    assert info["start_notes_from"] == 4
    assert {"from_epoch": 3, "notes": [CHANGED]} in info["earlier_start_notes"]
    assert latest_start(info) == (4, info["start_notes"])
    assert ("epoch 3", CHANGED) in labelled_start_notes(info)
    page = report_html(capsys, run_dir, tmp_path / "report.html")
    assert f"Note (epoch 3): {CHANGED}" in page


def test_a_run_json_with_every_starts_notes_in_one_list_still_reads():
    old = {"start_notes": ["a", "b"]}  # before notes were kept per start
    assert latest_start(old) == (None, ["a", "b"])
    assert labelled_start_notes(old) == [("", "a"), ("", "b")]
    # Continued: the old notes are an earlier start's, of epochs not known.
    after = started(old, 5, ["c"])
    assert after == {"start_notes": ["c"], "start_notes_from": 5,
                     "earlier_start_notes": [{"from_epoch": None, "notes": ["a", "b"]}]}
    assert labelled_start_notes(after) == [("", "a"), ("", "b"), ("from epoch 5", "c")]


def test_a_start_that_trained_no_kept_epoch_is_replaced_by_the_next():
    """Killed in its first epoch, continued again from the same checkpoint: the notes of
    the start whose epochs the run no longer keeps go."""
    first = started({}, 1, ["one"])
    second = started(first, 4, ["killed in epoch 4"])
    third = started(second, 4, ["again"])
    assert third["earlier_start_notes"] == [{"from_epoch": 1, "notes": ["one"]}]
    assert labelled_start_notes(third) == [("epochs 1-3", "one"), ("from epoch 4", "again")]
    # A start that said nothing still ends the epochs of the one before.
    quiet = started(started(third, 6, []), 9, ["last"])
    assert labelled_start_notes(quiet) == [("epochs 1-3", "one"), ("epochs 4-5", "again"),
                                           ("from epoch 9", "last")]
