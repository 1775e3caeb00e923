"""predict, evaluate and export take a run folder for its bundle.pt, as resume and report
take the run folder; a folder without one is refused in one line that says what it holds
and what to give instead."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import random_bundle, refused, run_cli as run


def _run_folder(tmp_path, tiny_experiment, status="finished"):
    run_dir = tmp_path / "runs" / "my-run"
    run_dir.mkdir(parents=True)
    random_bundle(run_dir / "bundle.pt", tiny_experiment)
    (run_dir / "run.json").write_text(json.dumps({"format_version": 1, "status": status}))
    return run_dir


def test_predict_evaluate_and_export_take_a_run_folder(capsys, tmp_path, tiny_experiment,
                                                       tiny_folder):
    run_dir = _run_folder(tmp_path, tiny_experiment)
    image = sorted(Path(tiny_folder).rglob("*.png"))[0]
    code, out, err = run(capsys, "evaluate", str(run_dir), tiny_folder)
    assert code == 0, err
    assert f"evaluated {run_dir / 'bundle.pt'} on" in out and "macro average" in out
    code, out, err = run(capsys, "predict", str(run_dir), str(image))
    assert code == 0 and out.startswith(f"{image}: "), err
    code, _, err = run(capsys, "export", str(run_dir), "--code", str(tmp_path / "m.py"))
    assert code == 0 and (tmp_path / "m.py").is_file(), err


def test_a_run_without_a_bundle_says_what_it_holds_and_what_to_give(capsys, tmp_path,
                                                                  tiny_experiment):
    run_dir = _run_folder(tmp_path, tiny_experiment, status="stopped")
    (run_dir / "checkpoints").mkdir()
    shutil.move(run_dir / "bundle.pt", run_dir / "checkpoints" / "last.pt")
    for command in (["evaluate", str(run_dir)], ["predict", str(run_dir), "x.png"],
                    ["export", str(run_dir), "--code", "-"]):
        line = refused(run(capsys, *command), f"{run_dir} is a run folder with no bundle.pt",
                       "stopped", f"give its checkpoint {run_dir / 'checkpoints' / 'last.pt'}",
                       f"workbench resume {run_dir}")
        assert line.startswith(f"workbench {command[0]}: error: ")
    (run_dir / "checkpoints" / "last.pt").unlink()  # nothing trained at all
    refused(run(capsys, "evaluate", str(run_dir)), "no bundle.pt", "train it again")


def test_a_plain_folder_without_a_bundle_is_refused(capsys, tmp_path, tiny_experiment):
    folder = tmp_path / "models"
    folder.mkdir()
    refused(run(capsys, "evaluate", str(folder)), f"{folder} is a folder with no bundle.pt",
            "give a bundle file")
    random_bundle(folder / "cats.pt", tiny_experiment)
    refused(run(capsys, "predict", str(folder), "x.png"), "it holds cats.pt",
            "give the bundle file itself")
