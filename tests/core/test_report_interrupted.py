"""`workbench report` of a run whose process was killed says "interrupted", the Runs tab's
word, and how to continue it; a finished run's report says neither."""

from __future__ import annotations

import json

from helpers import report_html, stop_after
from workbench.core.runs.store import INTERRUPTED, current_status
from workbench.core.train.run import run_training


def test_report_of_a_killed_run_says_interrupted_and_how_to_continue(
        capsys, tiny_experiment, tmp_path):
    exp = tiny_experiment.copy()
    exp.training.epochs = 4
    run = tmp_path / "run"
    assert run_training(exp, run, [stop_after(2)]).status == "stopped"
    stopped = tmp_path / "stopped.html"
    assert f"Continue it with workbench resume {run}" in report_html(capsys, run, stopped)
    # Killed: run.json still says "running", no process holds its lock.
    (run / "bundle.pt").unlink(missing_ok=True)
    info = json.loads((run / "run.json").read_text())
    info.update(status="running", finished=None, bundle=None, message="")
    (run / "run.json").write_text(json.dumps(info))
    assert current_status(run, "running") == INTERRUPTED  # as the Runs tab lists it
    out = tmp_path / "r.html"
    page = report_html(capsys, run, out)
    assert "Status <b>interrupted</b> (its process is gone), 2 of 4 epochs" in page
    assert "<b>running</b>" not in page
    assert f"Continue it with workbench resume {run}, or Continue in Train" in page


def test_report_of_a_finished_run_offers_no_continuing(capsys, tiny_experiment, tmp_path):
    run = tmp_path / "run"
    assert run_training(tiny_experiment, run).status == "finished"
    out = tmp_path / "r.html"
    page = report_html(capsys, run, out)
    assert "Status <b>finished</b>, 2 of 2 epochs" in page and "workbench resume" not in page
