"""A run continued at a typed learning rate: the report says the rates it was set to, start
by start ("0.01, then 0.003 from epoch 3"), not the new rate alone as the whole run's beside
the schedule it never used at that rate (walk-tomorrow3 defect 7)."""

from __future__ import annotations

import html

from helpers import report_html, run_cli as run
from workbench.core.runs.rate_history import rates_text


def test_the_report_says_each_starts_learning_rate(capsys, tmp_path, tiny_experiment):
    tiny_experiment.training.epochs = 2  # at lr 0.01
    tiny_experiment.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", tmp_path / "exp.json", "--out", run_dir)
    assert code == 0, err
    code, _, err = run(capsys, "resume", run_dir, "--epochs", "1", "--lr", "0.003")
    assert code == 0, err
    page = html.unescape(report_html(capsys, run_dir, tmp_path / "r.html"))
    optimisation = page.split("<h2>Optimisation</h2>")[1].split("</p>")[0]
    assert "lr 0.003" in optimisation  # experiment.json's, the latest
    assert "the learning rate was 0.01, then 0.003 from epoch 3" in optimisation, optimisation


def test_rates_text_reads_every_starts_change():
    info = {"earlier_start_notes": [
        {"from_epoch": 1, "notes": []},
        {"from_epoch": 6, "notes": ["learning rate changed from 0.001 to 0.0005 on resuming"]}],
        "start_notes_from": 9,
        "start_notes": ["learning rate changed from 0.0005 to 0.0003 on resuming"]}
    assert rates_text(info) == "0.001, then 0.0005 from epoch 6, then 0.0003 from epoch 9"
    assert rates_text({"start_notes": ["learning rate changed from 0.01 to 0.02 on resuming"]}
                      ) == "0.01, then 0.02 on a resume"  # run.json from before per start
    assert rates_text({"start_notes_from": 4, "start_notes": ["other"]}) == ""
