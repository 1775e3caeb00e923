"""A dark palette and a 150% font (keyboard walk-through): the ok, warning and error lines
were dark green, brown and red on dark grey (about 2.2:1); the Train tab's memory line was
cut under the Start row; Tune's Field column cut the names at their end, where the
parameter that tells "Layer 1 (Conv2d) out_channels" from "Layer 4 …" is."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from workbench.qt.colours import contrast
from workbench.qt.common import BoundedMessageLabel, MessageLabel

from qt_helpers import dark_palette

WAIT_MS = 30000
LEVELS = ("ok", "warning", "error")


def shown_ratios(labels: dict, page: QWidget | None = None) -> dict:
    """Each label's text colour, as its palette paints it, against the window colour
    behind it (``page``'s: a label paints no background)."""
    QApplication.processEvents()
    return {level: round(contrast(label.palette().color(label.foregroundRole()),
                                  (page or label).palette().color(QPalette.ColorRole.Window)),
                         2)
            for level, label in labels.items()}


def test_message_colours_are_readable_on_light_and_dark_windows(qtbot):
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    labels = {}
    for level, kind in zip(LEVELS, (MessageLabel, BoundedMessageLabel, MessageLabel)):
        labels[level] = kind()
        layout.addWidget(labels[level])
        labels[level].show_message(f"Training diverged ({level})", level)
    page.show()
    assert min(shown_ratios(labels, page).values()) >= 4.5, shown_ratios(labels, page)
    for window in ("#353535", "#31363b", "#1e1e1e", "#4a4a4a"):  # Fusion, Breeze dark, …
        page.setPalette(dark_palette(window))
        ratios = shown_ratios(labels, page)
        assert min(ratios.values()) >= 4.5, (window, ratios)
    page.setPalette(QPalette())  # back to the light one: the colours follow
    assert min(shown_ratios(labels, page).values()) >= 4.5, shown_ratios(labels, page)
    assert labels["error"].font().bold() and not labels["ok"].font().bold()
    labels["error"].show_message("Ready.", "info")  # plain again: the window's own text
    assert not labels["error"].font().bold()
    assert labels["error"].palette().color(QPalette.ColorRole.WindowText) == \
        page.palette().color(QPalette.ColorRole.WindowText)


def test_message_colours_follow_a_dark_application_palette(qtbot):
    app = QApplication.instance()
    light = app.palette()
    try:
        app.setPalette(dark_palette())
        label = MessageLabel()
        qtbot.addWidget(label)
        label.show_message("The layers fit together.", "ok")
        assert shown_ratios({"ok": label})["ok"] >= 4.5
    finally:
        app.setPalette(light)


@pytest.fixture
def big_font(qapp):
    """The application's font at 150% (a desktop's large text), set before the window is
    made; put back once the test's widgets are gone (list it before ``qtbot``)."""
    font = qapp.font()
    bigger = QFont(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.5)
    qapp.setFont(bigger)
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    qapp.setFont(font)


def test_the_memory_line_keeps_its_wrapped_height_at_a_large_font(big_font, qtbot,
                                                                  train_window):
    window = train_window
    panel = window.train_panel
    label = panel.setup.memory_label
    label.show_message("≈ 82.2 MB per step · cpu: 23.5 GB RAM")  # as the window opens
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    wrapped = lambda: QLabel.heightForWidth(label, label.width())  # noqa: E731
    top = lambda w: w.mapTo(window, QPoint(0, 0)).y()  # noqa: E731
    qtbot.waitUntil(lambda: label.isVisible() and wrapped() > label.fontMetrics().height() * 1.5,
                    timeout=WAIT_MS)  # two lines at this width
    for sizes in (None, [0, 10000]):  # as opened; the handle dragged up to the settings
        if sizes:
            panel.splitter.setSizes(sizes)
        qtbot.waitUntil(lambda: label.height() >= wrapped(), timeout=WAIT_MS)
        assert top(label) + wrapped() <= top(panel.start_button)  # nothing laid over it


def test_tune_field_names_come_before_the_choices_at_a_large_font(big_font, qtbot,
                                                                  tune_panel):
    from workbench.core.model.presets import preset_layers
    from workbench.qt.panels.tune.space_editor import COL

    panel = tune_panel
    panel.experiment.model.layers = preset_layers("seed-cnn")
    panel.resize(1346, 680)  # the Tune tab's page in a 1366x768 window
    panel.show()
    qtbot.waitExposed(panel)
    editor = panel.editor
    names = [editor.item(r, COL["Field"]).text() for r in range(editor.rowCount())]
    assert "Layer 8 (Linear) out_features" in names
    metrics = editor.fontMetrics()
    layers = [n for n in names if not n.startswith("Augment")]
    needed = max(metrics.horizontalAdvance(n) for n in layers) + 30  # tick box and margins
    # The Choices column (one row's; whole in its tooltip) gave up its width first.
    qtbot.waitUntil(lambda: editor.columnWidth(COL["Field"]) >= needed, timeout=WAIT_MS)
    assert editor.horizontalScrollBar().maximum() == 0  # every column still in view
    choices = editor.item(editor.row_of("optimizer.type"), COL["Choices"])
    assert choices.toolTip() == "Adam, AdamW, SGD"
    # A name longer still is cut in the middle: its step and its parameter stay.
    assert editor.textElideMode() == Qt.TextElideMode.ElideMiddle
    room = editor.columnWidth(COL["Field"]) - 30
    shown = metrics.elidedText("Augment 1 (RandomHorizontalFlip) p",
                               editor.textElideMode(), room)
    assert shown.startswith("Augment 1 (") and shown.endswith(") p") and "…" in shown
    panel.split.setSizes([600, 700])  # the handle dragged: a narrower table
    qtbot.waitUntil(lambda: editor.columnWidth(COL["Field"]) < needed, timeout=WAIT_MS)
    assert editor.horizontalScrollBar().maximum() == 0


def test_the_doctors_severity_colours_are_readable_on_dark_windows(qtbot):
    # The Model doctor's row titles and the Train Doctor's "Epoch N" and tab title kept
    # their dark red and brown (#c62828, #a05a00): about 2.3:1 on a dark window.
    import re
    from types import SimpleNamespace

    from workbench.qt.panels.model.doctor import DoctorList
    from workbench.qt.panels.train.findings import FindingsView, severity_colour

    app = QApplication.instance()
    light = app.palette()
    model_findings = [SimpleNamespace(code=s, severity=s, layer=1, title=f"layer 2 {s}",
                                      explanation="Why.", fix=None)
                      for s in ("error", "warning")]
    try:
        for palette in (light, dark_palette(), dark_palette("#1e1e1e"),
                        dark_palette("#4a4a4a")):
            app.setPalette(palette)
            doctor = DoctorList()
            qtbot.addWidget(doctor)
            doctor.set_findings(list(model_findings))
            base = doctor.list.palette().color(QPalette.ColorRole.Base)
            for i in range(doctor.list.count()):
                title = next(w for w in doctor.list.itemWidget(doctor.list.item(i))
                             .findChildren(QLabel) if w.text().startswith("layer 2"))
                title.ensurePolished()
                shown = title.palette().color(QPalette.ColorRole.WindowText)
                assert contrast(shown, base) >= 4.5, (palette.color(
                    QPalette.ColorRole.Window).name(), title.text(), shown.name())
            view = FindingsView()
            qtbot.addWidget(view)
            window = view.palette().color(QPalette.ColorRole.Window)
            for severity in ("error", "warning", "info"):
                view.add_finding({"kind": severity, "epoch": 2, "severity": severity,
                                  "message": "The loss exploded.", "fix": "", "action": None})
                tab = QColor(severity_colour(severity, palette))  # the Doctor tab's title
                assert contrast(tab, window) >= 4.5, (window.name(), severity, tab.name())
            for row in view.rows:
                epoch = QColor(re.search(r"color: (#[0-9a-f]{6})", row.text.text()).group(1))
                assert contrast(epoch, window) >= 4.5, (window.name(), epoch.name())
    finally:
        app.setPalette(light)
