"""A run's record keeps what the Runs tab needs to compare runs on imbalanced data (walker
report walk-imbalance, defect 5): the saved model's validation balanced accuracy (run.json's
``bundle`` metrics, the number Tune gives for a study of val_bal_acc), the class balance it
trained with (experiment.json's ``data.balance``) and run.json's best epoch with the metric
that picked it; unknown where the run's files do not say. Kept through the runs index."""

from __future__ import annotations

import json

from workbench.core.runs.record import read_record
from workbench.core.runs.store import RunStore, write_run_info


def _run(root, name: str, balance: str | None, bundle_metrics: dict | None,
         best: dict | None):
    run = root / name
    run.mkdir(parents=True)
    epochs = [{"epoch": e, "val_acc": 0.9, "val_loss": 0.3} for e in (1, 2, 3)]
    (run / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    data = {"folder": "/data/imbalanced"} | ({"balance": balance} if balance else {})
    (run / "experiment.json").write_text(json.dumps({"data": data}))
    info = {"name": name, "status": "finished", "epochs_done": 3, "best": best}
    if bundle_metrics is not None:
        (run / "bundle.pt").write_bytes(b"weights")
        info["bundle"] = {"epoch": 3, "restored_best": False, "metrics": bundle_metrics}
    write_run_info(run, info)
    return run


def test_the_record_keeps_the_balanced_accuracy_the_balance_and_the_best_epoch(tmp_path):
    root = tmp_path / "runs"
    _run(root, "sampler", "weighted_sampler",
         {"epoch": 3, "val_acc": 0.991, "val_bal_acc": 0.75, "val_loss": 0.01},
         {"metric": "val_bal_acc", "value": 1.0, "epoch": 2})
    _run(root, "older", None, {"epoch": 3, "val_acc": 0.943, "val_loss": 0.3}, None)
    _run(root, "odd", "none", {"epoch": 3, "val_acc": 0.5, "val_bal_acc": "x"},
         {"metric": 7, "value": "y", "epoch": "z"})
    new = read_record(root / "sampler")
    assert (new.model_val_bal_acc, new.balance) == (0.75, "weighted_sampler")
    assert (new.best_metric, new.best_epoch, new.best_value) == ("val_bal_acc", 2, 1.0)
    old = read_record(root / "older")
    assert (old.model_val_bal_acc, old.balance, old.best_metric, old.best_epoch,
            old.best_value) == (None, "", "", None, None)
    odd = read_record(root / "odd")
    assert (odd.model_val_bal_acc, odd.balance, odd.best_metric, odd.best_epoch,
            odd.best_value) == (None, "none", "", None, None)
    store = RunStore(root)
    store.refresh()
    listed = {r.name: (r.model_val_bal_acc, r.balance, r.best_metric, r.best_epoch,
                       r.best_value) for r in store.runs()}  # through the SQLite index
    assert listed["sampler"] == (0.75, "weighted_sampler", "val_bal_acc", 2, 1.0)
    assert listed["older"] == (None, "", "", None, None)
    assert {r.name: (r.model_val_bal_acc, r.balance, r.best_metric, r.best_epoch,
                     r.best_value) for r in RunStore(root).runs()} == listed  # read back
