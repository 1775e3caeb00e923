"""The Train tab when a network's own state does not fit in memory: it says so, and offers
no half-batch retry (that retry is for a batch too big: tests/qt/test_train_control.py)."""

from __future__ import annotations

import pytest

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel(epochs=2)


def test_a_network_too_big_for_memory_is_not_offered_a_smaller_batch(
        qtbot, panel, monkeypatch, train_error_boxes):
    from workbench.core.train import memory
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def hungry(self, x, target):  # the CPU allocator fails at the first step
        if not self.epochs_done:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to "
                               "allocate 4294967296 bytes. Error code 12")
        return real(self, x, target)

    monkeypatch.setattr(Trainer, "forward_loss", hungry)
    monkeypatch.setattr(memory, "room", lambda device: (1024, "this machine's RAM"),
                        raising=False)  # (raising: so the test runs before the fix too)
    asked = []
    panel.ask = lambda title, text: asked.append(text) or False
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=RUN_TIMEOUT_MS)
    assert not asked  # no "Start again with batch size 4?"
    assert panel.experiment.data.batch_size == 8
    message = err.args[0]
    assert "network does not fit" in message and "no batch size fits" in message
    assert "layer 2 (Linear) alone has" in message
    assert "does not fit" in panel.status.text()
    assert train_error_boxes and "Try batch size" not in train_error_boxes[0][1]
