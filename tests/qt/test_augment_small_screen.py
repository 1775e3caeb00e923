"""The Augment tab on a 1366x768 laptop at 125% scaling (a 1093x614 window), at 100% and at
the default window size: the selected transform's whole parameter form, every hint whose
fix button is shown, the whole transform list and the four columns of draws are in view
(a walk-through at 125%: RandomCrop's five rows got a 73 px slit behind two scroll bars,
and of two hints only the first could be read while both fix buttons showed)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect

from helpers import make_image_folder
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

WAIT_MS = 20000


def _shown(widget) -> QRect:
    """The part of ``widget`` (its own coordinates) not clipped by any of its ancestors."""
    rect = widget.rect()
    parent, child = widget.parentWidget(), widget
    offset = widget.pos()
    while parent is not None:
        rect = rect.intersected(parent.rect().translated(-offset))
        child, parent = parent, parent.parentWidget()
        if parent is not None:
            offset += child.pos()
    return rect


def _fully_shown(widget) -> bool:
    return widget.isVisible() and _shown(widget) == widget.rect()


@pytest.fixture
def arrows(tmp_path):
    """Classes that differ only by left and right (a flip hint), 16x16 images (a 200x200
    crop gets a hint)."""
    return make_image_folder(tmp_path / "arrows", classes=("left", "right", "up"),
                             per_class=3, size=16)


@pytest.mark.parametrize("size", [(1093, 614), (1100, 706), (1366, 740)])
def test_parameters_hints_list_and_draws_are_in_view(qtbot, arrows, size):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.augment.transforms = [
        Component("RandomCrop", {"size": [200, 200], "padding": 0, "pad_if_needed": False,
                                 "fill": 0, "padding_mode": "constant"}),
        Component("RandomHorizontalFlip", {"p": 0.5})]
    window = MainWindow(exp)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    panel = window.augment_panel
    window.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(panel.hints_updated, timeout=WAIT_MS):
        panel.set_index(scan_folder(arrows))
    panel.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: panel.form is not None and panel.form.isVisible(), timeout=WAIT_MS)
    assert set(panel.form.editors) == {"size", "padding", "pad_if_needed", "fill",
                                       "padding_mode"}
    hints = panel.hints.text().split("\n")
    assert len(hints) == 2 and "RandomHorizontalFlip" in hints[0] and \
        "RandomCrop" in hints[1], hints
    buttons = [b.text() for b in [panel.remove_flips_button, *panel.hint_view.fix_buttons]
               if b.isVisible()]
    assert buttons == ["Remove the flip", "Pad images to the crop"]

    def in_view() -> bool:
        form, label = panel.form, panel.hints
        return (_fully_shown(form) and form.height() >= form.sizeHint().height()
                and form.width() >= form.sizeHint().width()
                and _fully_shown(label) and label.height() >= label.heightForWidth(
                    label.width()))

    qtbot.waitUntil(in_view, timeout=5000)  # both hints, every row of the form
    for row in range(panel.list.count()):  # every transform in the list
        item_rect = panel.list.visualItemRect(panel.list.item(row))
        assert panel.list.viewport().rect().contains(item_rect)
    assert panel.list.verticalScrollBar().maximum() == 0
    for tile in panel.preview.tiles:  # the four columns of draws, without scrolling sideways
        shown = _shown(tile)
        assert (shown.left(), shown.right()) == (tile.rect().left(), tile.rect().right())
    for button in (panel.add_button, panel.remove_button, panel.up_button, panel.down_button):
        assert _fully_shown(button)
    panel.shutdown()


def test_the_pipelines_are_a_tab_beside_the_parameters(qtbot):
    """The pipelines share the parameters' room: a transform picked in the list (or added)
    shows its parameters; moving one keeps the pipeline in view, to watch it change."""
    from PySide6.QtCore import Qt

    from workbench.qt.panels.augment.panel import AugmentPanel
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.augment.transforms = [Component("RandomHorizontalFlip"), Component("RandomCrop")]
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.resize(1000, 560)
    panel.show()
    qtbot.waitExposed(panel)
    tabs = panel.pipelines
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Parameters", "Training pipeline", "Validation pipeline"]
    assert tabs.currentIndex() == 0
    tabs.setCurrentIndex(1)
    assert panel.train_steps.isVisible() and panel.train_steps.count() > 0
    panel.list.setCurrentRow(0)
    panel.down_button.click()  # the pipeline stays in view
    assert [t.type for t in exp.augment.transforms] == ["RandomCrop", "RandomHorizontalFlip"]
    assert tabs.currentIndex() == 1
    rect = panel.list.visualItemRect(panel.list.item(0))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tabs.currentIndex() == 0 and panel.form.isVisible()
    assert set(panel.form.editors) >= {"size", "padding", "pad_if_needed"}
    tabs.setCurrentIndex(2)
    panel.add_transform("ColorJitter")
    assert tabs.currentIndex() == 0 and set(panel.form.editors) >= {"brightness", "hue"}
    panel.shutdown()
