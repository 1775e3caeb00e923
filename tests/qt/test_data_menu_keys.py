"""Shift+F10 opens the Data tab's row menus from the keyboard, as the Menu key (a laptop
has none) and a right-click do: the thumbnail grid's (the only place there to exclude or
include an image), the unreadable files' (Reveal in file manager) and the Health findings'
(its current row's chosen image)."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from helpers import make_photo_folder
from qt_helpers import health_experiment, loaded_data_panel, run_health_check

SHIFT = Qt.KeyboardModifier.ShiftModifier


def _menu_from_keys(view) -> list[str]:
    """Shift+F10 on ``view`` (focused): the actions of the menu it opened (none: [])."""
    shown: list[str] = []
    keys_done = False

    def read_and_close() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            shown.extend(a.text() for a in menu.actions())
            menu.close()
        elif not keys_done:
            QTimer.singleShot(20, read_and_close)

    view.setFocus(Qt.FocusReason.TabFocusReason)
    QTimer.singleShot(0, read_and_close)
    QTest.keyClick(view, Qt.Key.Key_F10, SHIFT)  # a menu's exec() returns once closed
    keys_done = True
    # QTest leaves Shift held in the application's modifiers (a later selectRow would
    # extend a selection): let it go, as the user's finger does.
    QTest.keyRelease(view, Qt.Key.Key_Shift)
    return shown


def test_shift_f10_opens_the_data_tabs_menus(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=4)
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "copy_of_cat.png")
    (root / "dogs" / "broken_photo.png").write_text("<html>not a photo</html>")
    panel = loaded_data_panel(qtbot, root, health_experiment("menu-keys"))
    panel.resize(1300, 800)
    panel.show()
    qtbot.waitExposed(panel)

    grid = panel.thumbs
    grid.setCurrentIndex(grid.model().index(1))
    assert _menu_from_keys(grid) == ["Reveal in file manager",
                                                   "Exclude from training"]

    files = panel.details.unreadable_list
    panel.details.setCurrentWidget(panel.details.unreadable_box)
    assert files.count() == 1
    files.setCurrentRow(0)
    assert _menu_from_keys(files) == ["Reveal in file manager"]

    panel.views.setCurrentWidget(panel.health)
    health = panel.health
    [conflict] = [f for f in run_health_check(qtbot, health) if f.kind == "conflict"]
    health.select(conflict)
    table = health.table
    table.setCurrentIndex(table.currentIndex().siblingAtColumn(0))  # off the images
    texts = _menu_from_keys(table)
    assert texts and texts[0].startswith("Exclude"), texts
    assert health.model.findings[table.source_row(table.currentIndex())] is conflict
