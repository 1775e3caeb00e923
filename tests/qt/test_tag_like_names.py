"""Class folders named like HTML tags ("<i>x<", "<b>Bold<"): a message line quoting one was
read as rich text, so the rest of the line (the case-clash warning, the 1-image note) was
swallowed and the name shown in italics: "Note: class 'x". Every line quoting a name or a
path shows it as it is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel

from helpers import make_image_folder
from qt_helpers import loaded_data_panel

CLASSES = ("<i>x<", "<b>Bold<", "<b>bold<", "red")


def shown(label: QLabel) -> str:
    """What ``label`` reads on screen: its text, or what Qt's rich-text reading makes of
    it."""
    text = label.text()
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.PlainText or (fmt == Qt.TextFormat.AutoText
                                          and not GuiQt.mightBeRichText(text)):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def test_message_lines_show_tag_like_names_as_they_are(qtbot):
    from workbench.qt.common import BoundedMessageLabel, MessageLabel
    from workbench.qt.panels.data.health.controls import ElidedLabel

    text = ("Note: class '<i>x<' has 1 image. Warning: classes '<b>Bold<' and '<b>bold<' "
            "differ only in case")
    for label in (MessageLabel(), BoundedMessageLabel(max_lines=2)):
        qtbot.addWidget(label)
        label.show_message(text, "warning")
        assert shown(label) == text
    chosen = ElidedLabel("Chosen: <b>Bold</a.png (training)")
    qtbot.addWidget(chosen)
    assert shown(chosen) == "Chosen: <b>Bold</a.png (training)"


def test_the_data_tab_names_a_class_called_like_a_tag_and_keeps_the_warnings(qtbot,
                                                                             tmp_path):
    folder = tmp_path / "tags"
    make_image_folder(folder, CLASSES[1:], per_class=8)
    make_image_folder(folder, CLASSES[:1], per_class=1)
    panel = loaded_data_panel(qtbot, folder)
    line = shown(panel.message)
    assert "'<i>x<'" in line and "differ only in case" in line, line
    assert "<b>Bold<" in line and "<b>bold<" in line, line
    hint = panel.settings.imbalance_label
    qtbot.waitUntil(lambda: bool(hint.text()), timeout=20000)
    assert "<i>x<" in shown(hint), shown(hint)
