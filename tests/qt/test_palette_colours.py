"""Fixed colours that a dark palette made unreadable: the Runs tab's status colours ("diverged"
in #c62828, 2.7:1 on a dark table), the Export dialog's report (its green check and red
failures), and the grey hints (#555, #666) of Evaluate's confusion matrix, the
Initialisation dialog and Explain's picture views. Each now reads at 4.5:1 on light, dark
and mid-grey palettes, and follows a palette change."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette, QTextFormat
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from workbench.core.runs.record import RunRecord
from workbench.qt.colours import contrast

from qt_helpers import application_palette, dark_palette, shown_colour

#: Fusion's light palette, dark ones, and mid-grey themes (dark text on the light grey).
THEMES = {"light": None, "dark": ("#353535",), "black": ("#1e1e1e",),
          "grey-5a": ("#5a5a5a",), "grey-a0": ("#a0a0a0", "#000000", "#d0d0d0")}


def _palette(theme: str) -> QPalette:
    colours = THEMES[theme]
    return dark_palette(*colours) if colours else QPalette(QApplication.palette())


@pytest.fixture(params=list(THEMES))
def theme(request, qapp):
    with application_palette(_palette(request.param)):
        yield request.param


def test_the_runs_status_colours_read_on_the_table(theme):
    from PySide6.QtCore import Qt

    from workbench.qt.panels.runs.model import COLUMN, RunsTableModel

    model = RunsTableModel()
    statuses = ["diverged", "out_of_memory", "failed", "interrupted", "running", "finished"]
    model.set_records([RunRecord(path=f"/runs/{s}", name=s, status=s) for s in statuses])
    rows = QApplication.palette().color(QPalette.ColorRole.Base)
    coloured = {}
    for row in range(model.rowCount()):
        index = model.index(row, COLUMN["status"])
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        if brush is not None:
            name = model.index(row, COLUMN["name"]).data()
            coloured[name] = round(contrast(brush.color(), rows), 2)
    assert set(coloured) == set(statuses) - {"finished"}  # these stand out
    assert min(coloured.values()) >= 4.5, (theme, coloured)


def _fragment_colours(document) -> dict[str, QColor]:
    """Each coloured run of text in ``document``: its text, its colour."""
    found = {}
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().hasProperty(QTextFormat.Property.ForegroundBrush):
                found[fragment.text()] = fragment.charFormat().foreground().color()
            it += 1
        block = block.next()
    return found


def _report_ratios(dialog) -> dict:
    QApplication.processEvents()
    rows = dialog.report.palette().color(QPalette.ColorRole.Base)
    return {text[:24]: round(contrast(colour, rows), 2)
            for text, colour in _fragment_colours(dialog.report.document()).items()}


def test_the_export_reports_colours_read_and_follow_the_palette(qtbot, theme):
    from workbench.qt.export_dialog import ExportDialog

    dialog = ExportDialog("")
    qtbot.addWidget(dialog)
    dialog._on_finished(0, {"onnx": None, "onnx_error": "", "int8": None, "code": "",
                            "code_error": "ValueError: no room on the disk",
                            "safetensors": ("/tmp/net.safetensors", "/tmp/net.json"),
                            "safetensors_checked": 12, "safetensors_error": ""})
    ratios = _report_ratios(dialog)
    assert any(t.startswith("Code export failed") for t in ratios)  # in red
    assert any(t.startswith("read back: its 12") for t in ratios)  # in green
    assert min(ratios.values()) >= 4.5, (theme, ratios)
    # Switched while it is open: the report is coloured again for the new palette.
    for other in ("light", "dark", "grey-a0"):
        with application_palette(_palette(other)):
            ratios = _report_ratios(dialog)
            assert len(ratios) == 2 and min(ratios.values()) >= 4.5, (theme, other, ratios)


def _hints(qtbot) -> tuple[QWidget, dict]:
    """A page holding Evaluate's confusion view, the Initialisation dialog's scheme
    chooser and an Explain picture view: their grey hints, and what each is drawn on."""
    from workbench.qt.panels.evaluate.confusion import ConfusionView
    from workbench.qt.panels.explain.views import ImageView
    from workbench.qt.panels.model.layer_dialogs import SchemeEditor

    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    confusion, chooser = ConfusionView(), SchemeEditor("Experiment default")
    chooser.combo.setCurrentIndex(1)  # a scheme: its help below
    view, failed = ImageView("Open an image to explain it."), ImageView()
    failed.show_text("Cannot read cat.jpg: not an image.", error=True)
    for widget in (confusion, chooser, view, failed):
        layout.addWidget(widget)
    page.show()
    QApplication.processEvents()
    return page, {"hover": confusion.hover_label, "help": chooser.help_label,
                  "placeholder": view, "error": failed}


def _hint_ratios(labels: dict) -> dict:
    QApplication.processEvents()
    ratios = {}
    for name, label in labels.items():
        behind = label.palette().color(label.backgroundRole())
        ratios[name] = round(contrast(shown_colour(label), behind), 2)
    return ratios


def test_the_grey_hints_read_and_follow_the_palette(qtbot, theme):
    page, labels = _hints(qtbot)
    assert labels["help"].text() and labels["placeholder"].text()
    ratios = _hint_ratios(labels)
    assert min(ratios.values()) >= 4.5, (theme, ratios)
    light = QApplication.palette()
    for other in ("dark", "grey-5a", "light"):  # switched while shown
        with application_palette(_palette(other)):
            ratios = _hint_ratios(labels)
            assert min(ratios.values()) >= 4.5, (theme, other, ratios)
    assert QApplication.palette() == light
    # A hint stays quieter than the text around it, where the palette leaves room for it.
    if theme in ("light", "dark"):
        text = labels["hover"].parentWidget().palette().color(QPalette.ColorRole.WindowText)
        assert shown_colour(labels["hover"]) != text


def test_the_greyed_rows_read_on_their_lists(qtbot, theme):
    # A fixed #888888 marked a left-out class folder, an exclusion naming no image and a
    # model of other classes: 3.5:1 on white, less on the mid greys.
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QComboBox

    from workbench.qt.model_classes import add_choice
    from workbench.qt.panels.data.health.excluded import ExcludedList
    from workbench.qt.panels.data.views import ClassTable

    table = ClassTable()
    qtbot.addWidget(table)
    table.set_rows({"cat": 3}, ["empty"])
    box = ExcludedList()
    qtbot.addWidget(box)
    box.set_entries(["cat/gone.png"], unmatched=["cat/gone.png"])
    combo = QComboBox()
    qtbot.addWidget(combo)
    add_choice(combo, "run", "/runs/r/bundle.pt", ["a", "b"], ["cat", "empty"])
    rows = QApplication.palette().color(QPalette.ColorRole.Base)
    greys = {"left-out class": table.item(1, 0).foreground().color(),
             "unmatched exclusion": box.list.item(0).foreground().color(),
             "other classes": combo.itemData(0, Qt.ItemDataRole.ForegroundRole).color()}
    text = QApplication.palette().color(QPalette.ColorRole.Text)
    assert all(c != text for c in greys.values())  # still set apart from the others
    ratios = {k: round(contrast(c, rows), 2) for k, c in greys.items()}
    assert min(ratios.values()) >= 4.5, (theme, ratios)
