"""A run's record says which dataset it trained on (walker report walk-projects, defect 2):
experiment.json's data folder, kept in the runs index; ``None`` where the run's files do
not say (a run folder from before experiment.json, or one without a data folder)."""

from __future__ import annotations

import json

from workbench.core.runs.record import read_record
from workbench.core.runs.store import RunStore, write_run_info


def _run(root, name: str, experiment: dict | None):
    run = root / name
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"epochs": [{"epoch": 1, "val_acc": 0.5}]}))
    if experiment is not None:
        (run / "experiment.json").write_text(json.dumps(experiment))
    write_run_info(run, {"name": name, "status": "finished", "epochs_done": 1})
    return run


def test_the_record_keeps_the_runs_data_folder(tmp_path):
    root = tmp_path / "runs"
    _run(root, "shapes", {"data": {"folder": "/data/shapesA", "batch_size": 8}})
    _run(root, "demo", {"data": {"folder": ""}})
    _run(root, "nofolder", {"data": {"batch_size": 8}})
    _run(root, "legacy", None)
    _run(root, "odd", {"data": {"folder": 3}})
    assert read_record(root / "shapes").data_folder == "/data/shapesA"
    assert read_record(root / "demo").data_folder == ""
    for name in ("nofolder", "legacy", "odd"):
        assert read_record(root / name).data_folder is None, name
    store = RunStore(root)
    store.refresh()
    listed = {r.name: r.data_folder for r in store.runs()}  # through the SQLite index
    assert listed == {"shapes": "/data/shapesA", "demo": "", "nofolder": None,
                      "legacy": None, "odd": None}
    assert {r.name: r.data_folder for r in RunStore(root).runs()} == listed  # read back
