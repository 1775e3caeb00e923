"""Dialogs on a small screen (a 1366x768 laptop at 125%: 1093x614 logical pixels, less a
taskbar) fit it with their buttons on it; and Enter in the Export and Explain dialogs never
opens a file picker."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import (QApplication, QDialog, QFileDialog, QHBoxLayout, QPushButton,
                               QVBoxLayout, QWidget)

from qt_helpers import open_explain
from workbench.qt.export_dialog import ExportDialog
from workbench.qt.panels.runs.dialogs import NotesDialog
from workbench.qt.panels.train.lr_finder import LRFinderDialog
from workbench.qt.screen_fit import contents_scroll, fit_to_screen

WAIT_MS = 30000
#: 1366x768 at 125% with a 40-pixel taskbar, in logical pixels.
LAPTOP = QRect(0, 0, 1093, 582)


@pytest.fixture
def screen(monkeypatch):
    """Set the screen's available geometry: ``screen(rect)``."""
    def set_screen(rect: QRect) -> QRect:
        monkeypatch.setattr(QScreen, "availableGeometry", lambda self: QRect(rect))
        return rect
    return set_screen


@pytest.fixture
def pickers(monkeypatch):
    """The file pickers opened (none really is)."""
    opened = []
    for name, answer in (("getOpenFileName", ("", "")), ("getSaveFileName", ("", "")),
                         ("getExistingDirectory", "")):
        monkeypatch.setattr(QFileDialog, name,
                            staticmethod(lambda *a, n=name, r=answer, **k: opened.append(n) or r))
    return opened


def _shown(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _on_screen(widget, rect: QRect) -> bool:
    return rect.contains(QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size()))


def _buttons(dialog, *texts):
    found = {b.text(): b for b in dialog.findChildren(QPushButton)}
    return [found[t] for t in texts]


def _check_fits(dialog, rect: QRect, *buttons: str) -> None:
    assert rect.contains(dialog.geometry()), (dialog.geometry(), rect)
    least = dialog.minimumSizeHint()
    assert dialog.width() >= min(least.width(), rect.width() - 8)
    assert dialog.height() >= min(least.height(), rect.height() - 60)
    for button in _buttons(dialog, *buttons):
        assert button.isVisible() and _on_screen(button, rect), button.text()


def test_export_explain_and_lr_finder_fit_a_laptop_screen(qtbot, screen, bundle_path,
                                                          tiny_experiment):
    rect = screen(LAPTOP)
    _check_fits(_shown(qtbot, ExportDialog(bundle_path)), rect, "Export", "Close")
    explain = open_explain(qtbot, bundle_path)
    _shown(qtbot, explain)
    _check_fits(explain, rect, "Save PNG…", "Close")
    finder = _shown(qtbot, LRFinderDialog(tiny_experiment))
    _check_fits(finder, rect, "Start", "Use this value", "Close")
    finder.shutdown()
    _check_fits(_shown(qtbot, NotesDialog("run", "")), rect)


def test_a_large_screen_gets_the_size_the_dialog_asks_for(qtbot, screen, bundle_path):
    screen(QRect(0, 0, 1920, 1040))
    explain = open_explain(qtbot, bundle_path)
    assert (explain.width(), explain.height()) == (900, 640)
    assert contents_scroll(explain) is None
    centre = explain.frameGeometry().center()
    assert abs(centre.x() - 960) < 20 and abs(centre.y() - 520) < 40


def test_a_dialog_larger_than_the_screen_scrolls_and_keeps_its_buttons(qtbot, screen,
                                                                      bundle_path, pickers):
    rect = screen(QRect(0, 0, 640, 400))  # smaller than the Export dialog's minimum
    dialog = _shown(qtbot, ExportDialog(bundle_path))
    assert contents_scroll(dialog) is not None
    _check_fits(dialog, rect, "Export", "Close")
    # Scrolled, it still works as before: Enter exports.
    for check in (dialog.onnx_check, dialog.code_check, dialog.safetensors_check):
        check.setChecked(False)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.onnx_check, timeout=WAIT_MS)
    with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS) as blocker:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert "Nothing to export" in blocker.args[0] and pickers == []


def test_a_dialog_whose_contents_outgrow_the_screen_later_scrolls(qtbot, screen):
    """As the Explain dialog's, once its model's explanation is shown at a large font."""
    rect = screen(QRect(0, 0, 800, 500))
    dialog = QDialog()
    content = QWidget()
    content.setMinimumSize(300, 200)
    close = QPushButton("Close")
    row = QHBoxLayout()
    row.addWidget(close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(content, 1)
    layout.addLayout(row)
    fit_to_screen(dialog, 600, 400)
    _shown(qtbot, dialog)
    assert contents_scroll(dialog) is None and (dialog.width(), dialog.height()) == (600, 400)
    content.setMinimumSize(300, 700)
    qtbot.waitUntil(lambda: contents_scroll(dialog) is not None, timeout=WAIT_MS)
    qtbot.wait(50)  # the layout's own resize, if any, comes after
    _check_fits(dialog, rect, "Close")


def test_enter_in_the_export_dialog_exports_and_opens_no_picker(qtbot, bundle_path, pickers,
                                                                tmp_path):
    dialog = _shown(qtbot, ExportDialog(bundle_path))
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=WAIT_MS)
    assert QApplication.focusWidget() is dialog.onnx_check  # harmless: not "Change…"
    assert dialog.export_button.isDefault()
    dialog.onnx_check.setChecked(False)
    dialog.code_edit.setText(str(tmp_path / "net.py"))
    with qtbot.waitSignal(dialog.exported, timeout=WAIT_MS):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.written == [str(tmp_path / "net.py")] and pickers == []
    # Enter on a focused "Change…" or "Browse…" exports too (Space opens its picker).
    dialog.code_check.setChecked(False)
    for button in _buttons(dialog, "Change…", "Browse…"):
        button.setEnabled(True)
        button.setFocus()
        with qtbot.waitSignal(dialog.failed, timeout=WAIT_MS):
            qtbot.keyClick(button, Qt.Key.Key_Return)
    assert pickers == []


def test_enter_in_the_explain_dialog_opens_no_picker(qtbot, bundle_path, pickers):
    dialog = _shown(qtbot, open_explain(qtbot, bundle_path))
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=WAIT_MS)
    assert QApplication.focusWidget() is dialog.class_combo
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    # Enter after choosing a class keeps the dialog and its explanation (no default
    # button: it closed the dialog); Escape closes it.
    assert pickers == [] and dialog.isVisible()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
