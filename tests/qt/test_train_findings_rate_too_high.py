"""A run whose rate was too high to stay stable, restored at start-up: the Doctor tab shows
the ``lr_too_high`` finding with its button to continue at a lower rate, and an
``underfitting`` the run withdrew greyed, with no button to press (walk-tomorrow2 defect 2:
"Continue with lr 0.009", 3 times the rate that blew up, stayed live after the run
recovered and after a restart)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from workbench.core.runs.store import write_run_info
from workbench.core.train.doctor.checks import RunView, lr_too_high

# The run's epochs 1-4 (SGD, OneCycleLR from lr 0.003), as metrics.json keeps them.
EPOCHS = [{"epoch": i + 1, "train_loss": t, "train_acc": a, "val_loss": vl, "val_acc": va,
           "lr": r} for i, (t, a, vl, va, r) in enumerate(
    [(1.379, 0.283, 1.327, 0.817, 0.0067), (1.186, 0.762, 0.677, 0.883, 0.019),
     (0.252, 0.971, 0.101, 0.95, 0.0287), (1.338, 0.838, 3.194, 0.483, 0.0297)])]
UNDERFIT = {"kind": "underfitting", "epoch": 5, "severity": "warning",
            "message": "Underfitting: the training loss has stayed near 1.130 for 3 epochs.",
            "fix": "continue with a learning rate of 0.009 (--lr 0.009)",
            "action": {"label": "Continue with lr 0.009",
                       "set": {"optimizer.params.lr": 0.009}, "continue": True, "open": ""},
            "resolved": "at epoch 8 the training accuracy is 98%: the network fits the "
                        "images after all"}


def test_a_restored_unstable_run_offers_a_lower_rate_and_greys_the_withdrawn_finding(
        qtbot, train_panel, tmp_path):
    high = lr_too_high(RunView(classes=list("abcd"), history=EPOCHS, chance=0.25, lr=0.003,
                               default_lr=0.01, optimizer="SGD")).to_dict()
    run_dir = tmp_path / "R"
    run_dir.mkdir()
    write_run_info(run_dir, {"name": "R", "status": "completed", "epochs_done": 8,
                             "epochs_planned": 8, "findings": [high, UNDERFIT]})
    panel = train_panel()
    panel.show()
    assert panel.restore_last_run(str(run_dir))
    tabs, view = panel.settings_tabs, panel.findings.view
    i = tabs.indexOf(view)
    assert i >= 0 and tabs.tabText(i) == "Doctor (1)"  # the withdrawn one is not counted
    first, second = view.texts()
    assert first.startswith("Epoch 4:") and "too high for the run to stay stable" in first
    button = panel.findings.fix_button(0)
    assert button.text() == "Continue with lr 0.001" and button.isVisible()
    assert view.addressed() == ["", "Withdrawn: at epoch 8 the training accuracy is 98%: "
                                    "the network fits the images after all."]
    assert not panel.findings.fix_button(1).isEnabled()
    assert view.open_findings() == [view.findings[0]]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # this run kept no checkpoint
    assert panel.experiment.optimizer.params["lr"] == 0.001
    assert panel.status.text().startswith("Continue with lr 0.001: lr = 0.001 set.")
