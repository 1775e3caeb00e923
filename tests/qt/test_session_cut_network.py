"""A session.json cut inside the network: the app reopens with the layers before the cut
(not the default seed-cnn), says so plainly, and offers the last run's settings for what
the cut lost; a file with only text after its end says that nothing was reset."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QMessageBox, QPushButton

import workbench.qt.app as app
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Component
from workbench.core.runs.store import write_run_info
from workbench.core.session import session_path, session_text
from workbench.qt.main_window import _default_experiment

TIMEOUT_MS = 30000
TAKE = "Use the last run's settings"


def _experiment(folder):
    exp = _default_experiment()
    exp.data.folder = str(folder)
    exp.data.input_size = [16, 16]
    layers = preset_layers("cnn-bn")
    layers.insert(8, Component("Dropout", {"p": 0.25}))  # after the second block
    exp.model.layers, exp.model.preset = layers, None
    exp.optimizer = Component("AdamW", {"lr": 0.003})
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 40
    return exp.validate()


def _last_run(tmp_path, exp):
    run_dir = tmp_path / "runs" / "phones-second"
    run_dir.mkdir(parents=True)
    exp.save(run_dir / "experiment.json")
    write_run_info(run_dir, {"name": "phones-second", "status": "stopped", "epochs_done": 1,
                             "epochs_planned": 40})
    (run_dir / "metrics.json").write_text(json.dumps({"epochs": [
        {"epoch": 1, "train_loss": 1.0, "val_loss": 1.1, "train_acc": 0.4, "val_acc": 0.3,
         "lr": 0.003, "seconds": 1.0}]}))
    return run_dir


def _box(qtbot, window) -> QMessageBox:
    boxes = lambda: [b for b in window.findChildren(QMessageBox) if b.isVisible()]  # noqa: E731
    qtbot.waitUntil(lambda: bool(boxes()), timeout=TIMEOUT_MS)
    [box] = boxes()
    return box


def _types(exp) -> list[str]:
    return [layer.type for layer in exp.model.layers]


def test_a_network_cut_short_keeps_its_layers_and_the_last_run_gives_back_the_rest(
        qtbot, tmp_path, image_folder):
    exp = _experiment(image_folder)
    run_dir = _last_run(tmp_path, exp)
    text = session_text(exp, b"", "Model", last_run=str(run_dir))
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(text[:text.index('"AdaptiveAvgPool2d"') + 5])
    window = app.create_window()
    qtbot.addWidget(window)
    n = _types(exp).index("AdaptiveAvgPool2d")
    assert _types(window.experiment) == _types(exp)[:n]  # not seed-cnn
    box = _box(qtbot, window)
    message = box.text()
    assert f"model.layers was cut short after layer {n} (MaxPool2d): the first {n} layers " \
           f"were kept" in message, message
    assert "The last run, phones-second, keeps the settings it was trained with" in message
    assert "replaces the model, init, optimizer, loss, scheduler and training settings " \
           "with that run's" in message
    [take] = [b for b in box.findChildren(QPushButton) if b.text() == TAKE]
    take.click()
    assert _types(window.experiment) == _types(exp)
    assert window.experiment.optimizer.type == "AdamW"
    assert window.experiment.optimizer.params["lr"] == 0.003
    assert window.experiment.training.epochs == 40
    assert window.experiment.data.folder == str(image_folder)


def test_without_a_last_run_the_message_offers_nothing(qtbot, image_folder):
    text = session_text(_experiment(image_folder), b"", "Model")
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(text[:text.index('"AdaptiveAvgPool2d"') + 5])
    window = app.create_window()
    qtbot.addWidget(window)
    box = _box(qtbot, window)
    assert "was cut short after layer" in box.text() and "last run" not in box.text()
    assert not [b for b in box.findChildren(QPushButton) if b.text() == TAKE]


def test_text_after_the_end_says_nothing_was_reset(qtbot, image_folder):
    exp = _experiment(image_folder)
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(session_text(exp, b"", "Model") + "garbage")
    window = app.create_window()
    qtbot.addWidget(window)
    assert _types(window.experiment) == _types(exp)
    message = _box(qtbot, window).text()
    assert "text follows its end" in message
    assert "Nothing was reset: everything was kept as you left it" in message
    assert "Only these fields" not in message


def test_partly_restored_text_lists_resets_only_when_there_are_some():
    assert "Only these fields were reset to their defaults or removed:\n• x: bad" in \
        app.partly_restored_text("", ["x: bad"], "/data")
    text = app.partly_restored_text("why", [], "/data")
    assert "Nothing was reset" in text and "Only these fields" not in text
