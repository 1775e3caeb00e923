"""Helpers for the Qt tests."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication


def drop_urls(widget, paths) -> QDropEvent:
    """Drag local paths onto ``widget`` through Qt's event dispatch (DragEnter, then Drop),
    as a real drag from a file manager arrives; returns the drop event."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    try:  # PySide6 >= 6.12 takes a QPointF (the QPoint form is deprecated there)
        enter = QDragEnterEvent(QPointF(5, 5), *args)
    except TypeError:  # earlier releases take only a QPoint
        enter = QDragEnterEvent(QPoint(5, 5), *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the widget refused the drag"
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def loaded_data_panel(qtbot, folder, experiment=None):
    """A DataPanel that has scanned ``folder`` (every image checked)."""
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.data.panel import DataPanel

    panel = DataPanel(experiment or Experiment())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=20000):
        panel.load_folder(str(folder))
    return panel


def health_experiment(name: str):
    """An experiment named ``name`` for the Data tab's health checks: 32x32 input, a label
    check's networks trained on the CPU."""
    from workbench.core.experiment import Experiment

    exp = Experiment(name=name)
    exp.data.input_size = [32, 32]
    exp.training.device = "cpu"
    return exp


def run_health_check(qtbot, health, labels=False, timeout=30000) -> list:
    """Press the Health view ``health``'s Check (or Check labels) and wait for its rows;
    returns the findings."""
    with qtbot.waitSignal(health.checked, timeout=timeout):
        (health.labels_button if labels else health.check_button).click()
    return list(health.model.findings)


def fake_label_check(monkeypatch, quality=None) -> None:
    """check_dataset whose label check "finds" owls_07 to be a cat and cats_03 a dog (no
    network trained), its networks reaching ``quality`` (a LabelQuality; none when None).
    The fast checks are the real ones."""
    from workbench.core.data.health import report as report_module

    real = report_module.check_dataset

    def fake(experiment, index=None, labels=False, progress=None, stop_event=None, **_kw):
        report = real(experiment, index=index, progress=progress)
        if labels:
            cat = next(p for p in report.label_of if p.endswith("cats_03.png"))
            owl = next(p for p in report.label_of if p.endswith("owls_07.png"))
            report.label_issues = [
                {"path": owl, "given": "owls", "suggested": "cats", "score": 0.61},
                {"path": cat, "given": "cats", "suggested": "dogs", "score": 0.93}]
            report.labels_checked = True
            report.seconds["labels"] = 0.1
            report.label_quality = quality.to_dict() if quality else None
        return report

    monkeypatch.setattr(report_module, "check_dataset", fake)


def after_epoch(monkeypatch, epoch: int, act) -> None:
    """Call ``act(trainer)`` as epoch ``epoch`` ends, on the training thread (what Stop or
    Pause does, at a known point): a click sent from the GUI thread on the epoch's signal
    may arrive after a run of such short epochs has gone on, or already finished."""
    from workbench.core.runs.recorder import RunRecorder

    real = RunRecorder.on_epoch_end

    def on_epoch_end(self, trainer, e, metrics):
        real(self, trainer, e, metrics)
        if e == epoch:
            act(trainer)

    monkeypatch.setattr(RunRecorder, "on_epoch_end", on_epoch_end)


def listed_run(root, folder: str, name: str, created: str = "2026-12-06T11:00:00",
               notes: str = "", val_acc: float = 0.5):
    """A finished one-epoch run folder ``root/folder`` named ``name``, as the Runs tab lists
    it (metrics, experiment and run.json, no bundle); returns its path."""
    import json
    from pathlib import Path

    from workbench.core.runs.store import write_run_info

    d = Path(root) / folder
    d.mkdir(parents=True)
    epochs = [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 0.5,
               "val_acc": val_acc, "lr": 0.001, "seconds": 2.0}]
    (d / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    (d / "experiment.json").write_text(json.dumps({
        "name": name, "optimizer": {"type": "Adam", "params": {"lr": 0.001}},
        "data": {"batch_size": 32}, "model": {"preset": "seed-cnn"},
        "training": {"epochs": 1}}))
    write_run_info(d, {"name": name, "created": created, "updated": created,
                       "status": "finished", "epochs_done": 1, "epochs_planned": 1,
                       "duration_s": 2.0, "notes": notes})
    return d


def train_colours_cnn(root, name: str, layers: list, per_class: int, epochs: int,
                      **data: object):
    """Train ``layers`` on a colours folder under ``root`` (16x16 input, batch 8, on the
    CPU, in a WORKBENCH_HOME of its own); returns ``(FitResult, folder)``."""
    from pathlib import Path

    import pytest

    from helpers import make_image_folder
    from workbench.core.experiment import Experiment
    from workbench.core.train.trainer import Trainer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(Path(root) / "home"))
        folder = Path(make_image_folder(Path(root) / "colours", per_class=per_class,
                                        size=16))
        exp = Experiment(name=name)
        exp.data.folder = str(folder)
        exp.data.input_size = [16, 16]
        exp.data.batch_size = 8
        for key, value in data.items():
            setattr(exp.data, key, value)
        exp.model.layers = layers
        exp.training.epochs = epochs
        exp.training.device = "cpu"
        return Trainer(exp).fit(), folder


def open_explain(qtbot, bundle, image=None, timeout: int = 30000):
    """An Explain dialog of ``bundle``, its model set up (or its error said), and
    ``image`` explained when given."""
    from workbench.qt.panels.explain.panel import ExplainDialog

    dialog = ExplainDialog(str(bundle))
    qtbot.addWidget(dialog)
    if dialog.setup is None:
        qtbot.waitUntil(lambda: dialog.setup is not None or dialog.message.level == "error",
                        timeout=timeout)
    if image is not None:
        with qtbot.waitSignal(dialog.updated, timeout=timeout):
            dialog.set_image(str(image))
    return dialog


def thumbnail_view(qtbot, size: int, **loader_options):
    """``(view, model, loader)``: a ThumbnailView showing a ThumbnailModel of its own
    ThumbnailLoader, both parented to the view, so neither is deleted while the view is
    still painted (a model freed with a test's locals before qtbot closed its view crashed
    the next test's event processing)."""
    from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView

    view = ThumbnailView(size=size)
    qtbot.addWidget(view)
    loader = ThumbnailLoader(view, size=size, **loader_options)
    model = ThumbnailModel(loader, view)
    view.setModel(model)
    return view, model, loader


def drag_splitter_handle(qtbot, split, dy: int, index: int = 1, dx: int = 0) -> None:
    """Drag ``split``'s handle ``index`` by ``dy`` pixels (up when negative), or ``dx``
    (left when negative) for a side-by-side split, as a user does with the mouse."""
    handle = split.handle(index)
    middle = QPoint(handle.width() // 2, handle.height() // 2)
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=middle)
    qtbot.mouseMove(handle, middle + QPoint(dx, dy))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=middle + QPoint(dx, dy))


def shown_runs_panel(qtbot, size=(900, 600)):
    """A Runs tab of the data directory's runs folder, shown at ``size`` and listed."""
    from PySide6.QtWidgets import QApplication

    from workbench.core.io import runs_dir
    from workbench.qt.panels.runs.panel import RunsPanel

    panel = RunsPanel(runs_dir())
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.refresh()
    QApplication.processEvents()
    return panel


def dark_palette(window: str = "#353535", text: str = "#e6e6e6",
                 base: str = "#232323") -> QPalette:
    """A dark palette, as Fusion with a dark ``QPalette`` gives (many Linux desktops): the
    application's, its window, rows and their texts recoloured. Other colours give a mid-grey
    theme: ``dark_palette("#a0a0a0", "#000000", "#ffffff")`` is a light one."""
    palette = QPalette(QApplication.palette())
    for role, colour in ((QPalette.ColorRole.Window, window),
                         (QPalette.ColorRole.WindowText, text),
                         (QPalette.ColorRole.Base, base),
                         (QPalette.ColorRole.Text, text)):
        palette.setColor(role, QColor(colour))
    return palette


def shown_colour(widget) -> QColor:
    """The colour ``widget``'s text is painted in (its palette's, as Qt paints a label)."""
    widget.ensurePolished()
    return widget.palette().color(widget.foregroundRole())


def shown_level(widget) -> str:
    """The level ("ok", "warning", "error", "accent", "muted") in whose colour ``widget``'s
    text is painted, on the palette it is shown on; "info" for none of them."""
    from workbench.qt.colours import LEVEL_COLOURS, inherited_palette, level_colour

    shown, palette = shown_colour(widget), inherited_palette(widget)
    return next((level for level in (*LEVEL_COLOURS, "muted")
                 if level_colour(level, palette) == shown), "info")


@contextmanager
def application_palette(palette: QPalette):
    """The application's palette is ``palette`` inside the block, its own again after."""
    app = QApplication.instance()
    before = QPalette(app.palette())
    app.setPalette(palette)
    try:
        yield palette
    finally:
        app.setPalette(before)


def model_panel(qtbot, layers=None, size=None):
    """A Model panel on a 16x16, 3-class experiment (seed-cnn, or ``layers``); shown and
    exposed at ``size`` (width, height), or not shown when None."""
    from workbench.core.experiment import Experiment
    from workbench.qt.panels.model.panel import ModelPanel

    exp = Experiment()
    exp.data.input_size = [16, 16]
    if layers is not None:
        exp.model.layers = layers
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    if size is not None:
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
    return panel


def pick_model(combo, path_or_row) -> None:
    """Choose a model combo box's item (its path, or its row) as a click does."""
    i = path_or_row if isinstance(path_or_row, int) else combo.findData(path_or_row)
    assert i >= 0, f"{path_or_row} is not listed"
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
