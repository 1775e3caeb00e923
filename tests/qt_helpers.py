"""Helpers for the Qt tests."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
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
