"""The Doctor tab after "Continue with lr …" on a divergence: the finding reads "Applied"
until the continued run keeps an epoch, and never "Fixed" because the run went on at that
rate (walk-crash defect 4: the continued run exploded again, and the first finding stayed
greyed "Applied" with "Fixed: lr = 0.0059")."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def diverging(train_panel, monkeypatch):
    """A Train tab whose run diverges in epoch 2 while ``state["nan"]`` holds; the LR
    finder proposes nothing (the doctor's own rate, a tenth of the run's 0.001, stands)."""
    from workbench.core.train.lr_find import LRFindResult
    from workbench.core.train.trainer import Trainer

    state = {"nan": True}
    real = Trainer.forward_loss

    def poisoned(self, x, target):
        logits, loss = real(self, x, target)
        if state["nan"] and self.model.training and self.epochs_done >= 1:
            loss = loss * float("nan")
        return logits, loss

    monkeypatch.setattr(Trainer, "forward_loss", poisoned)
    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", lambda experiment, **kw:
                        LRFindResult([1e-4], [1.0], [1.0], None, False, "stubbed"))
    monkeypatch.setattr("workbench.qt.panels.train.panel.show_error", lambda *a: None)
    panel = train_panel(epochs=3)
    panel.ask_continue = lambda plan: plan  # accept what the Continue dialog offers
    return panel, state


def _diverge(qtbot, panel):
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    sweep = panel.findings.after_divergence
    qtbot.waitUntil(lambda: not sweep.is_running(), timeout=RUN_TIMEOUT_MS)
    button = panel.findings.fix_button(0)
    assert panel.findings.findings[0]["kind"] == "diverged"
    assert button.text() == "Continue with lr 0.0001" and button.isEnabled()
    return button


def _title(panel):
    tabs = panel.settings_tabs
    return tabs.tabText(tabs.indexOf(panel.findings.view))


def test_continuing_that_diverges_again_leaves_the_fix_applied_not_fixed(qtbot, diverging):
    panel, _ = diverging
    button = _diverge(qtbot, panel)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    view = panel.findings.view
    assert view.addressed()[0] == "Applied: lr = 0.0001."
    assert not any(n.startswith("Fixed") for n in view.addressed())
    assert panel.findings.fix_button(0).text() == "Applied"
    # The continued run's own divergence is open, with its way forward.
    kinds = [f["kind"] for f in panel.findings.findings]
    assert kinds.count("diverged") == 2 and view.addressed()[-1] == ""
    assert _title(panel) == "Doctor (1)"


def test_continuing_that_keeps_an_epoch_withdraws_the_divergence(qtbot, diverging):
    panel, state = diverging
    button = _diverge(qtbot, panel)
    state["nan"] = False
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        # While it trains, before an epoch is kept: applied, not fixed.
        assert panel.findings.view.addressed()[0] == "Applied: lr = 0.0001."
        assert _title(panel) == "Doctor (fix applied)"
    note = panel.findings.view.addressed()[0]
    assert note.startswith("Withdrawn: fixed by continuing at lr 0.0001: epoch 2 trained and "
                           "was kept, at a training loss of "), note
    assert _title(panel) == "Doctor"
