"""A run that ended looks ended: the progress bar says where ("Diverged in epoch 2 of 3; 1
epoch kept", "Stopped after 2 of 6 epochs") in grey, not "33%" in the busy colour, and the
cache's part-filled bar goes. A diverged run is said once, in the status line (the Doctor
tab has the finding): no message box over the plots; a run that failed otherwise keeps its
box (UI review: the same error four times, the bars as if still running)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette

from workbench.qt.panels.train.run_end import ENDED_COLOUR, run_end_text, show_run_end

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel(epochs=3)


def highlight(bar) -> QColor:
    return bar.palette().color(QPalette.ColorRole.Highlight)


def test_the_words_for_each_ending():
    assert run_end_text("finished", 6, 6) == "Finished: 6 of 6 epochs"
    assert run_end_text("early_stopped", 4, 10) == "Stopped early after 4 of 10 epochs"
    assert run_end_text("stopped", 2, 6) == "Stopped after 2 of 6 epochs"
    assert run_end_text("pruned", 2, 6) == "Pruned after 2 of 6 epochs"  # a tune trial
    assert run_end_text("diverged", 1, 3) == "Diverged in epoch 2 of 3; 1 epoch kept"
    assert run_end_text("diverged", 0, 2) == "Diverged in epoch 1 of 2; nothing kept"
    assert run_end_text("out_of_memory", 2, 6) == "Out of memory in epoch 3 of 6; 2 epochs kept"
    assert run_end_text("failed", 3, 3) == "Failed after 3 of 3 epochs"  # while saving
    assert run_end_text("interrupted", 1, 3) == "Interrupted after 1 of 3 epochs"
    assert run_end_text("running", 1, 3) == "1 of 3 epochs"


def test_an_ended_run_greys_the_bar_and_the_next_run_gives_it_its_colour_back(qtbot, panel):
    bar, busy = panel.progress, QColor(highlight(panel.progress))
    panel.info = {"epochs": 6, "batches_per_epoch": 10}
    bar.setRange(0, 60)
    bar.setValue(25)  # two and a half epochs
    bar.setFormat("%p%")
    panel.cache_bar.setRange(0, 240)
    panel.cache_bar.setValue(160)  # the first epoch never ended: the cache part-filled
    panel.cache_bar.show()
    show_run_end(panel, "stopped", 2)
    assert (bar.value(), bar.maximum(), bar.text()) == (20, 60, "Stopped after 2 of 6 epochs")
    assert highlight(bar) == QColor(ENDED_COLOUR) != busy
    assert not panel.cache_bar.isVisibleTo(panel)
    panel.cache_bar.setValue(240)  # a full cache's bar stays, in the same grey
    panel.cache_bar.show()
    show_run_end(panel, "stopped", 2)
    assert panel.cache_bar.isVisibleTo(panel)
    assert highlight(panel.cache_bar) == QColor(ENDED_COLOUR)
    panel.training_started.emit()
    assert highlight(bar) == busy == highlight(panel.cache_bar)
    show_run_end(panel, "finished", 6)
    assert (bar.value(), bar.text()) == (60, "Finished: 6 of 6 epochs")
    assert highlight(bar) == busy


def test_a_diverged_run_is_said_once_and_its_bar_shows_where_it_ended(
        qtbot, panel, monkeypatch, train_error_boxes):
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss

    def poisoned(self, x, target):
        logits, loss = real(self, x, target)
        return logits, (loss * float("nan") if self.epochs_done == 1 else loss)

    monkeypatch.setattr(Trainer, "forward_loss", poisoned)
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as err:
        panel.start_button.click()
    # No box over the plots: the status line and the Doctor tab say it.
    assert train_error_boxes == []
    status = panel.status.text()
    assert panel.status.level == "error" and status.startswith("Training diverged: ")
    assert status.endswith("begin again.") and err.args[0].endswith("begin again.")
    assert "diverged" in [f["kind"] for f in panel.findings.findings]
    bar = panel.progress
    assert bar.text() == "Diverged in epoch 2 of 3; 1 epoch kept"
    assert bar.value() == panel.info["batches_per_epoch"]  # the epoch kept
    assert highlight(bar) == QColor(ENDED_COLOUR)


def test_a_diverged_run_that_kept_nothing_ends_its_sentence_and_says_where_to_look(
        qtbot, panel, monkeypatch, train_error_boxes):
    from workbench.core.train.trainer import Trainer

    real = Trainer.forward_loss
    monkeypatch.setattr(Trainer, "forward_loss", lambda self, x, target: (
        lambda out: (out[0], out[1] * float("nan")))(real(self, x, target)))
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert train_error_boxes == []
    assert panel.status.text().endswith(". The Doctor tab says how to start again.")
    assert panel.progress.text() == "Diverged in epoch 1 of 3; nothing kept"


def test_a_run_that_failed_otherwise_keeps_its_box(qtbot, panel, tmp_path, train_error_boxes):
    from helpers import make_image_folder

    panel.experiment.data.folder = str(make_image_folder(tmp_path / "one", classes=("red",),
                                                         per_class=4))
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS):
        panel.start()
    assert [title for title, _ in train_error_boxes] == ["Training failed"]
    assert panel.status.text().startswith("Training failed: ")
    assert panel.progress.text() == ""  # it never began to train: nothing to say there


def test_a_run_whose_every_batch_was_skipped_says_its_model_is_untrained():
    from workbench.qt.panels.train.status import saved_model_line

    skipped = {"bundle": "/runs/a/bundle.pt", "model": {"epoch": 1, "untrained": True},
               "history": [{"epoch": 1, "train_loss": None, "train_acc": None,
                            "val_loss": 1.1, "val_acc": 0.3}]}
    text, level = saved_model_line(skipped)
    assert level == "warning" and "untrained" in text and "Predict" not in text
    # Each batch held one image whatever its size: no fixed 32 (one step on a small set).
    assert "batch size to 32" not in text and "each batch at least 8 images" in text
    trained = {"bundle": "/runs/a/bundle.pt", "model": {"epoch": 1},
               "history": [{"epoch": 1, "train_loss": 0.9}]}
    text, level = saved_model_line(trained)
    assert level == "info" and text.startswith("Model saved to /runs/a/bundle.pt")


def test_a_run_without_validation_images_ends_saying_its_accuracy_is_the_training_ones():
    # From a first day (walk-firstday item 2): 1 image a class, no validation image, and
    # the run ended in green with "accuracy 100.0%", the training images' accuracy.
    from workbench.qt.panels.train.status import ending_text

    epoch = {"epoch": 5, "train_loss": 0.4895, "train_acc": 1.0, "val_loss": None,
             "val_acc": None, "lr": 0.001, "seconds": 4.4}
    text, level = ending_text({"history": [epoch] * 5, "model": {"epoch": 5,
                                                                  "metrics": epoch}})
    assert level == "warning"
    assert ("Model kept: epoch 5: train loss 0.4895, accuracy 100.0% (no validation images: "
            "accuracy on the training images only); lr 0.001 (the epoch took 4.4 s).") in text
    measured = dict(epoch, val_loss=0.5, val_acc=0.9)
    text, level = ending_text({"history": [measured], "model": {"metrics": measured}})
    assert level == "ok" and "validation loss 0.5000, accuracy 90.0%" in text


def test_a_run_without_validation_images_is_said_so_again_after_a_restart(tmp_path):
    # Review-qt item 7: the live end line was a warning, the restored one plain.
    from workbench.qt.panels.train.saved_run import last_run_line

    metrics = {"epoch": 5, "train_loss": 0.49, "train_acc": 1.0, "val_loss": None}
    (tmp_path / "bundle.pt").write_bytes(b"")
    info = {"name": "one-seed-cnn-1", "status": "finished", "epochs_done": 5,
            "epochs_planned": 5, "bundle": {"epoch": 5, "metrics": metrics}}
    text, level = last_run_line(str(tmp_path), info)
    assert level == "warning"
    assert "accuracy 100.0% (no validation images: accuracy on the training images only)" \
        in text
    info["bundle"]["metrics"] = dict(metrics, val_loss=0.5, val_acc=0.9)
    assert last_run_line(str(tmp_path), info)[1] == "info"


def test_a_run_training_elsewhere_is_not_offered_to_continue_until_it_stops(tmp_path):
    # The line said "Continue… trains it further" while Continue… refused the live run.
    from workbench.core.runs.lock import RunLock
    from workbench.qt.panels.train.saved_run import last_run_line

    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"")
    info = {"name": "r", "status": "running", "epochs_done": 2, "epochs_planned": 9}
    lock = RunLock(tmp_path)  # as the window or terminal training it holds it
    assert lock.acquire()
    try:
        text = last_run_line(str(tmp_path), info)[0]
    finally:
        lock.release()
    assert "(running), 2 of 9 planned epochs" in text and "trains it further" not in text
    assert "It is training now: Continue… works once it stops (stop it in " in text
    text = last_run_line(str(tmp_path), info)[0]  # its process is gone: interrupted
    assert "(interrupted)" in text and "Continue… trains it further from its last" in text
