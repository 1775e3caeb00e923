"""A run whose kept model learned nothing does not end in green (walk-firstday 1): "Finished
5 epochs. Model kept: … validation … accuracy 25.0%" on 4 balanced classes was green, the
colour of success, beside the Doctor's "learned nothing". The end line and the restored
"Last run:" line say it is at chance, naming the chance level, in the warning colour."""

from __future__ import annotations

from helpers import random_bundle
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.train.saved_run import last_run_line
from workbench.qt.panels.train.status import ending_text

SHAPES = ["circle", "cross", "square", "triangle"]
AT_CHANCE = ("This model is no better than always answering one class (25%): it has learned "
             "nothing; see the Doctor tab.")
# The zero-init run's last epoch (walk-firstday s24).
EPOCH = {"epoch": 5, "train_loss": 1.3863, "train_acc": 0.25, "val_loss": 1.3863,
         "val_acc": 0.25, "val_bal_acc": 0.25, "lr": 0.001, "seconds": 1.2}


def test_a_run_that_kept_a_model_at_chance_ends_in_the_warning_colour_saying_so():
    text, level = ending_text({"history": [EPOCH] * 5, "classes": SHAPES,
                               "model": {"epoch": 5, "metrics": EPOCH}})
    assert level == "warning"
    assert text == ("Finished 5 epochs. Model kept: epoch 5: train loss 1.3863, accuracy "
                    "25.0%; validation loss 1.3863, accuracy 25.0%; lr 0.001 (the epoch took "
                    f"1.2 s). {AT_CHANCE}")
    # Early stopping that restored an epoch at chance (the tiny set's epoch 2, 26%).
    two = dict(EPOCH, epoch=2, val_acc=0.26, val_bal_acc=0.26)
    text, level = ending_text({"history": [two] * 7, "classes": SHAPES, "early_stopped": True,
                               "stop_reason": "no better for 5 epochs",
                               "model": {"epoch": 2, "restored_best": True, "metrics": two}})
    assert level == "warning" and text.endswith(AT_CHANCE)
    learned = dict(EPOCH, val_acc=0.96, val_bal_acc=0.96)
    text, level = ending_text({"history": [learned], "classes": SHAPES,
                               "model": {"metrics": learned}})
    assert level == "ok" and "Doctor" not in text


def test_the_restored_last_run_line_says_it_too(tmp_path):
    exp = Experiment()
    exp.data.input_size = (8, 8)
    exp.model.layers = [Component("Flatten"), Component("Linear")]
    random_bundle(tmp_path / "bundle.pt", exp, SHAPES)
    shown = {k: EPOCH[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    info = {"name": "shapes-seed-cnn-1", "status": "finished", "epochs_done": 5,
            "epochs_planned": 5, "bundle": {"epoch": 5, "metrics": dict(EPOCH)}}
    text, level = last_run_line(str(tmp_path), info)
    assert level == "warning"
    assert (f"Model kept: epoch 5: train loss 1.3863, accuracy 25.0%; validation loss 1.3863, "
            f"accuracy 25.0%. {AT_CHANCE}") in text, text
    info["bundle"]["metrics"] = dict(shown, val_acc=0.96)
    text, level = last_run_line(str(tmp_path), info)
    assert level == "info" and "Doctor" not in text
