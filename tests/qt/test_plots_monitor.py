"""The Train tab's plots say which metric picked the best epoch they mark (walker report
walk-imbalance, defect 4): the legend names the run's monitor ("best: epoch 3
(val_bal_acc)"), and when the monitor is the validation balanced accuracy the accuracy plot
draws it, live, for a run shown again after a restart, and in the hover read-out."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from qt_helpers import listed_run
from workbench.core.runs.store import update_run_info

# A 64x-imbalanced run's epochs: accuracy high throughout, the balanced accuracy best at 3.
VAL_ACC = (0.23, 0.92, 0.97, 0.98, 0.97, 0.99)
BAL_ACC = (0.26, 0.50, 1.00, 0.74, 1.00, 0.75)


def _epochs(monitor: str | None, best: int = 3) -> list[dict]:
    out = []
    for e, (acc, bal) in enumerate(zip(VAL_ACC, BAL_ACC), start=1):
        m = {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.4 + e / 10,
             "val_loss": 1.2 / e, "val_acc": acc, "val_bal_acc": bal, "lr": 0.001,
             "seconds": 1.0}
        if monitor is not None:  # as the training worker sends an epoch
            m["best"] = {"metric": monitor, "value": BAL_ACC[best - 1], "epoch": min(e, best)}
        out.append(m)
    return out


def _points(curve) -> int:
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def _balanced_entry(plots) -> list[str]:
    return [t for t in plots.acc_plot.legend.shown_texts() if "balanced" in t]


def test_the_best_epoch_names_its_metric_and_the_balanced_accuracy_is_drawn(plots):
    for m in _epochs("val_bal_acc"):
        plots.add_epoch(m)
        plots.set_best_epoch(m["best"]["epoch"])
    plots.update_curves()
    for plot in (plots.loss_plot, plots.acc_plot):
        assert "best: epoch 3 (val_bal_acc)" in plot.legend.shown_texts()
        assert "best: epoch 3 (val_bal_acc)" in plots.headers[plot].text()
    assert _balanced_entry(plots) == ["balanced"]
    x, y = plots.bal_acc_curve.getData()
    assert list(x) == [1, 2, 3, 4, 5, 6]
    assert np.allclose(y, [100 * v for v in BAL_ACC])
    # The read-out says it too, at the marked epoch.
    text, _point = plots._readout_at(plots.acc_plot, 3.0, 100.0)
    assert "validation balanced accuracy 100.0%" in text


def test_another_monitor_is_named_and_the_balanced_accuracy_is_left_out(plots):
    for m in _epochs("val_loss", best=6):
        plots.add_epoch(m)
    plots.set_best_epoch(6)
    plots.update_curves()
    assert "best: epoch 6 (val_loss)" in plots.acc_plot.legend.shown_texts()
    assert _balanced_entry(plots) == []
    assert _points(plots.bal_acc_curve) == 0
    text, _point = plots._readout_at(plots.acc_plot, 3.0, 90.0)
    assert "balanced" not in text
    plots.clear_data()  # the next run says its own monitor
    plots.set_best_epoch(1)
    plots.update_curves()
    assert "best: epoch 1" in plots.acc_plot.legend.shown_texts()


def _saved_run(root, monitor: str):
    run = listed_run(root, "imb", "walk-imbalance-seed-cnn-2")
    (run / "metrics.json").write_text(json.dumps({"epochs": _epochs(None)}))
    update_run_info(run, epochs_done=6, epochs_planned=6,
                    best={"metric": monitor, "value": 1.0, "epoch": 3})
    return run


@pytest.mark.parametrize("monitor", ["val_bal_acc", "val_loss"])
def test_a_run_shown_after_a_restart_names_its_monitor(train_panel, tmp_path, monitor,
                                                       tiny_experiment):
    run = _saved_run(tmp_path / "runs", monitor)
    experiment = json.loads((run / "experiment.json").read_text())
    experiment["data"]["folder"] = tiny_experiment.data.folder
    (run / "experiment.json").write_text(json.dumps(experiment))
    panel = train_panel()
    assert panel.restore_last_run(str(run))
    plots = panel.plots
    plots.update_curves()
    QApplication.processEvents()
    assert f"best: epoch 3 ({monitor})" in plots.acc_plot.legend.shown_texts()
    assert f"best: epoch 3 ({monitor})" in plots.loss_plot.legend.shown_texts()
    shown = _points(plots.bal_acc_curve)
    assert (shown, _balanced_entry(plots)) == ((6, ["balanced"]) if monitor == "val_bal_acc"
                                               else (0, []))
