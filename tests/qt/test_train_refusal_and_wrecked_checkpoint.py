"""The Train tab on a run that cannot train and on one whose checkpoint is wrecked.

Batches of one image with BatchNorm: Start used to train every epoch on no batch and
"finish" with an untrained model; now the run is refused as the command line refuses it,
with its fix offered. A divergence whose last kept epoch is itself wrecked: the line under
the plots used to call it "the last good checkpoint" and send the learner to Continue….
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from workbench.core.model.presets import preset_layers

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def bn_experiment(tiny_experiment):
    tiny_experiment.model.layers = preset_layers("cnn-bn")
    tiny_experiment.model.preset = "cnn-bn"
    tiny_experiment.augment.transforms = []
    return tiny_experiment


def test_batches_of_one_with_batchnorm_are_refused_and_the_fix_trains(
        qtbot, train_panel, bn_experiment, train_error_boxes):
    bn_experiment.data.batch_size = 1
    panel = train_panel()
    asked, finished = [], []
    panel.ask = lambda title, text: asked.append((title, text)) or True
    panel.training_finished.connect(finished.append)
    with qtbot.waitSignal(panel.training_not_started, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    ((title, text),) = asked
    assert title == "Cannot start training"
    assert "every training batch would be skipped" in text and "--set" not in text
    # A batch size that fits the 27 training images: 32 would be one step an epoch.
    assert "the 27 training images make 4 steps an epoch at 8, only 1 at 32" in text
    assert text.endswith("Set the batch size to 8 and start training?")
    assert train_error_boxes == []  # not "Training failed": nothing ran
    assert panel.experiment.data.batch_size == 8
    qtbot.waitUntil(lambda: bool(finished), timeout=RUN_TIMEOUT_MS)  # the retry trains
    assert finished[0]["status"] == "finished"
    assert not (finished[0]["model"] or {}).get("untrained")


def test_declining_the_fix_leaves_the_refusal_said(qtbot, train_panel, bn_experiment,
                                                    train_error_boxes):
    bn_experiment.data.batch_size = 1
    panel = train_panel()
    panel.ask = lambda title, text: False
    with qtbot.waitSignal(panel.training_not_started, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert panel.status.text().startswith("Cannot start training: The batch size is 1 and "
                                          "the network has BatchNorm")
    assert "Set the batch size to 8: the 27 training images" in panel.status.text()
    assert panel.experiment.data.batch_size == 1 and not panel.is_running()
    assert panel.start_button.isEnabled()


def test_a_divergence_after_a_wrecked_epoch_offers_a_fresh_start_not_continue(
        qtbot, train_panel, bn_experiment, monkeypatch, train_error_boxes):
    from workbench.core.train.lr_find import LRFindResult
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def wrecked(self, x, target):  # epoch 1 kept, its validation loss 1e4x; then NaN
        logits, loss = real(self, x, target)
        if not self.model.training:
            return logits, loss * 1e4
        return logits, (loss * float("nan") if self.epochs_done >= 1 else loss)

    monkeypatch.setattr(Trainer, "forward_loss", wrecked)
    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", lambda experiment, **kw:
                        LRFindResult([1e-4], [1.0], [1.0], None, False, "stubbed"))
    panel = train_panel(epochs=3)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    status = panel.status.text()
    assert "last good checkpoint" not in status and "Continue…" not in status
    assert "the checkpoint is no sound place to go on from" in status
    assert "train again from the start" in status
    sweep = panel.findings.after_divergence
    qtbot.waitUntil(lambda: not sweep.is_running(), timeout=RUN_TIMEOUT_MS)
    panel._show_last_run_line(panel.last_run_dir)  # as the tab shows the run at next start
    line = panel.run_label.text()
    assert "no sound place to go on from" in line and "Continue…" not in line
    (f,) = [f for f in panel.findings.findings if f["kind"] == "diverged"]
    assert f["action"]["continue"] is False
    button = panel.findings.fix_button(panel.findings.findings.index(f))
    assert button.text().startswith("Use lr ")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "Start training trains a new run with it" in panel.status.text()
