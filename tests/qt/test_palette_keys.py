"""The Model tab's layer palette from the keyboard: Enter in "Search layers…" adds the first
layer found, and Down or Tab from the search goes to that layer, not to a group heading."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from workbench.core.experiment import Experiment
from workbench.qt.panels.model.panel import ModelPanel

WAIT_MS = 30000


def _panel(qtbot) -> ModelPanel:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: panel.layer_palette.search.isEnabled(), timeout=WAIT_MS)
    return panel


def _search(qtbot, panel: ModelPanel, text: str) -> None:
    search = panel.layer_palette.search
    search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is search, timeout=WAIT_MS)
    search.clear()
    qtbot.keyClicks(search, text)


def _types(panel: ModelPanel) -> list[str]:
    return [c.type for c in panel.experiment.model.layers]


def test_enter_in_the_search_adds_the_first_layer_found(qtbot):
    panel = _panel(qtbot)
    panel.select_layer(-1)
    n = len(panel.experiment.model.layers)
    _search(qtbot, panel, "dropout")
    first = panel.layer_palette.visible_names()[0]
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        qtbot.keyClick(panel.layer_palette.search, Qt.Key.Key_Return)
    assert len(panel.experiment.model.layers) == n + 1 and _types(panel)[-1] == first
    # A search with no layer found adds nothing.
    _search(qtbot, panel, "no such layer")
    qtbot.keyClick(panel.layer_palette.search, Qt.Key.Key_Return)
    assert len(panel.experiment.model.layers) == n + 1


def test_down_or_tab_from_the_search_goes_to_the_first_layer_found(qtbot):
    panel = _panel(qtbot)
    tree = panel.layer_palette.tree
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Tab):
        panel.select_layer(-1)
        n = len(panel.experiment.model.layers)
        _search(qtbot, panel, "pool")
        first = panel.layer_palette.visible_names()[0]
        qtbot.keyClick(panel.layer_palette.search, key)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is tree, timeout=WAIT_MS)
        assert tree.currentItem().text(0) == first, key  # a layer, not its group's heading
        with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
            qtbot.keyClick(tree, Qt.Key.Key_Return)
        assert len(panel.experiment.model.layers) == n + 1 and _types(panel)[-1] == first
