"""The Augment tab on a 1366x768 laptop at 125% scaling (a 1093x614 window), at 100% and at
the default window size: the selected transform's whole parameter form, every hint whose
fix button is shown, the whole transform list and the four columns of draws are in view
(a walk-through at 125%: RandomCrop's five rows got a 73 px slit behind two scroll bars,
and of two hints only the first could be read while both fix buttons showed; a review: of
five hints one and a half could be read while all five buttons showed). The keys that
edit the list leave a pipeline tab shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea

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


def _hint_labels(panel) -> list[QLabel]:
    return [label for label in panel.hint_view.findChildren(QLabel)
            if label.isVisible() and "Hint: " in label.text()]


def _readable(label: QLabel) -> bool:
    """All of ``label``'s lines are in view."""
    return _fully_shown(label) and label.height() >= label.heightForWidth(label.width())


@pytest.mark.parametrize("steps", [4, 5])
def test_every_shown_fix_button_has_its_hint_in_view_beside_it(qtbot, tmp_path, steps):
    """Five hints at 125% on a 1366x768 laptop: a fix button in view has its hint, whole,
    just above it (the hints scroll, each with its button), and scrolling to any hint
    shows it whole with its button; the form and the list stay whole."""
    from workbench.core.data.augment.fixes import offered_fixes
    from workbench.core.data.augment.pipeline_hints import all_hints
    from workbench.qt.main_window import MainWindow
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    folder = make_image_folder(tmp_path / "arrows", classes=("left", "right", "up"),
                               per_class=3, size=16, mode="L")
    exp = Experiment()
    exp.data.input_size, exp.data.channels = [16, 16], 1
    exp.data.mean, exp.data.std = [0.5], [0.5]
    exp.augment.transforms = [
        Component("RandomCrop", {"size": [200, 200], "padding": 0, "pad_if_needed": False,
                                 "fill": 0, "padding_mode": "constant"}),
        Component("RandomHorizontalFlip", {"p": 0.5}),
        Component("RandomRotation", {"degrees": 170}),
        Component("ColorJitter", {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4,
                                  "hue": 0.1}),
        Component("RandomVerticalFlip", {"p": 0.5})][:steps]
    window = MainWindow(exp)
    qtbot.addWidget(window)
    window.resize(1093, 614)
    window.show()
    qtbot.waitExposed(window)
    panel = window.augment_panel
    window.tabs.setCurrentWidget(panel)
    index = scan_folder(folder)
    with qtbot.waitSignal(panel.hints_updated, timeout=WAIT_MS):
        panel.set_index(index)
    panel.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: panel.form is not None and panel.form.isVisible(), timeout=WAIT_MS)
    view = panel.hint_view
    hints = all_hints(exp, list(index.classes), str(index.root), view.class_colours,
                      view.image_size)
    assert len(hints) >= 5
    hints_of = {}  # a button's text -> the hints it answers
    for fix in offered_fixes(hints):
        key = fix.key or fix.label
        hints_of[fix.label] = [f"Hint: {h.text}" for h in hints
                               if h.fix is not None and (h.fix.key or h.fix.label) == key]
    buttons = [b for b in [panel.remove_flips_button, *view.fix_buttons] if b.isVisible()]
    assert sorted(b.text() for b in buttons) == sorted(hints_of)
    line = panel.fontMetrics().lineSpacing()

    def beside(button) -> QLabel | None:
        """The label of one of ``button``'s hints, whole and just above it."""
        top = button.mapTo(window, button.rect().topLeft()).y()
        for label in _hint_labels(panel):
            bottom = label.mapTo(window, label.rect().bottomLeft()).y()
            if any(h in label.text() for h in hints_of[button.text()]) and \
                    _readable(label) and -line <= top - bottom <= 3 * line:
                return label
        return None

    def laid_out() -> None:
        form = panel.form
        assert _fully_shown(form) and form.height() >= form.sizeHint().height()
        # Every button in view, even in part: its hint readable beside it.
        alone = [b.text() for b in buttons if not _shown(b).isEmpty() and beside(b) is None]
        assert not alone, f"fix buttons in view without their hint: {alone}"

    qtbot.waitUntil(laid_out, timeout=5000)
    for button in buttons:  # scrolled to: each hint whole, its button with it
        area = next((w for w in _ancestors(button) if isinstance(w, QScrollArea)), None)
        label = next((la for la in _hint_labels(panel)
                      if any(h in la.text() for h in hints_of[button.text()])), None)
        assert label is not None, button.text()
        if area is not None:  # scrolled till the hint and its button are in view
            area.ensureWidgetVisible(label, 0, 0)
            area.ensureWidgetVisible(button, 0, 0)
        qtbot.waitUntil(lambda: _fully_shown(button) and beside(button) is not None,
                        timeout=5000)
    assert _fully_shown(panel.form)
    assert panel.list.verticalScrollBar().maximum() == 0
    panel.shutdown()


def _ancestors(widget):
    parent = widget.parentWidget()
    while parent is not None:
        yield parent
        parent = parent.parentWidget()


def test_keys_in_the_list_leave_a_pipeline_tab_shown(qtbot):
    """Alt+Up/Down, Delete, Ctrl+Z and Ctrl+Shift+Z pressed in the list (its focus) keep
    the pipeline tab in view, to watch it change; a plain arrow key picks a transform and
    shows its parameters (the review: Alt+Down and Ctrl+Z threw the user back to
    Parameters)."""
    from workbench.core.data.augment.fixes import remove
    from workbench.qt.panels.augment.panel import AugmentPanel
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.augment.transforms = [Component("RandomHorizontalFlip"), Component("RandomCrop"),
                              Component("ColorJitter")]
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.resize(1000, 560)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    tabs, alt = panel.pipelines, Qt.KeyboardModifier.AltModifier
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier

    def types():
        return [t.type for t in exp.augment.transforms]

    panel.list.setFocus()
    panel.list.setCurrentRow(0)
    tabs.setCurrentIndex(1)
    qtbot.keyClick(panel.list, Qt.Key.Key_Down, alt)
    assert types() == ["RandomCrop", "RandomHorizontalFlip", "ColorJitter"]
    assert tabs.currentIndex() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Down, alt)
    assert types()[2] == "RandomHorizontalFlip" and tabs.currentIndex() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Up, alt)
    assert types()[1] == "RandomHorizontalFlip" and tabs.currentIndex() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, ctrl)
    assert types()[2] == "RandomHorizontalFlip" and tabs.currentIndex() == 1
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, ctrl | shift)
    assert types()[1] == "RandomHorizontalFlip" and tabs.currentIndex() == 1
    tabs.setCurrentIndex(2)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert types() == ["RandomCrop", "ColorJitter"] and tabs.currentIndex() == 2
    panel.apply_fix(remove(1, "ColorJitter"))  # a hint's fix, the list still focused
    assert types() == ["RandomCrop"] and tabs.currentIndex() == 2
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, ctrl)
    assert types() == ["RandomCrop", "ColorJitter"] and tabs.currentIndex() == 2
    assert panel.list.hasFocus()
    panel.list.setCurrentRow(0)
    qtbot.keyClick(panel.list, Qt.Key.Key_Down)  # picked with the keys: its parameters
    assert panel.list.currentRow() == 1 and tabs.currentIndex() == 0
    assert panel.form.isVisible() and set(panel.form.editors) >= {"brightness", "hue"}
    panel.shutdown()
