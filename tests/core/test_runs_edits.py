"""Editing runs never loses what a person wrote: a damaged run.json is not written over
unseen, a name already taken is refused, and a run without run.json says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.runs.store import RunStore, read_run_info, update_run_info, write_run_info

BROKEN = '{"name": "my best run", "notes": "three days of tuning", '


def make_run(root: Path, folder: str, name: str | None = None, bundle: bool = True) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    epochs = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.4, "val_loss": 0.5,
               "val_acc": 0.5, "lr": 0.01, "seconds": 1.5}]
    (d / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    (d / "experiment.json").write_text(json.dumps({"name": "colours",
                                                   "training": {"epochs": 1}}))
    if bundle:
        (d / "bundle.pt").write_bytes(b"weights")
    if name is not None:
        write_run_info(d, {"name": name, "created": "2024-05-01T10:00:00",
                           "status": "finished", "epochs_done": 1, "epochs_planned": 1})
    return d


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "runs"


@pytest.mark.parametrize("edit", ["rename", "annotate"])
def test_an_edit_of_a_run_whose_run_json_is_damaged_is_refused(root, edit):
    a = make_run(root, "a", name="a")
    (a / "run.json").write_text(BROKEN)
    store = RunStore(root)
    store.refresh()
    with pytest.raises(WorkbenchError) as raised:
        getattr(store, edit)(a, "baseline")
    message = str(raised.value)
    assert "a/run.json is not valid JSON" in message
    assert "fix or delete it first; nothing was changed" in message
    assert (a / "run.json").read_text() == BROKEN  # the user's text is untouched


def test_a_run_ending_over_a_damaged_run_json_keeps_a_copy_of_it(root):
    a = make_run(root, "a", name="a")
    (a / "run.json").write_text(BROKEN)
    update_run_info(a, status="finished", message="")  # what the recorder does at the end
    assert read_run_info(a)["status"] == "finished"
    [copy] = list(a.glob("run.json.damaged-*"))
    assert copy.read_text() == BROKEN


def test_renaming_to_a_name_another_run_has_is_refused(root):
    a = make_run(root, "2024-05-01_10-00-00-colours", name="baseline")
    b = make_run(root, "2024-05-02_10-00-00-colours", name="wide")
    store = RunStore(root)
    store.refresh()
    with pytest.raises(WorkbenchError, match="another run is already called baseline "
                                             r"\(2024-05-01_10-00-00-colours\): choose"):
        store.rename(b, "Baseline ")
    assert read_run_info(b)["name"] == "wide"
    assert store.rename(a, "baseline").name == "baseline"  # its own name is fine
    assert store.rename(b, "baseline 2").name == "baseline 2"


def test_renaming_a_copied_run_folder_to_its_twin_name_is_refused(root):
    make_run(root, "orig", name="baseline")
    copy = make_run(root, "orig-copy", name="baseline")  # copied by hand: same run.json
    store = RunStore(root)
    store.refresh()
    with pytest.raises(WorkbenchError, match=r"already called baseline \(orig\)"):
        store.rename(copy, "baseline")


def test_a_run_folder_without_run_json_says_its_status_is_inferred(root):
    gone = make_run(root, "gone", name="gone")
    (gone / "run.json").unlink()
    make_run(root, "ok", name="ok")
    store = RunStore(root)
    store.refresh()
    runs = {Path(r.path).name: r for r in store.runs()}
    assert runs["gone"].problem == "run.json is missing: its status and dates are inferred"
    assert runs["ok"].problem == ""


def test_a_cli_run_in_a_dated_folder_is_named_without_the_date(tmp_path, tiny_experiment):
    from workbench.cli import main

    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    out = tmp_path / "runs" / "2026-12-06_11-00-00-baseline"
    assert main(["train", str(exp_file), "--out", str(out)]) == 0
    assert read_run_info(out)["name"] == "baseline"
    plain = tmp_path / "runs" / "flowers"
    assert main(["train", str(exp_file), "--out", str(plain)]) == 0
    assert read_run_info(plain)["name"] == "flowers"
