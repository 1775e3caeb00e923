"""The Model tab's layer cards by keyboard alone: Tab into a card selects it (its Delete,
Duplicate and Move work), Up and Down on a card's "⋯" go from card to card, the Menu key,
Shift+F10, Space and Enter open the card's menu, Ctrl+D in a number box duplicates the
layer; the cards come before the model doctor in the Tab order, also once made again, and
no scroll area is a stop. The cards' badges, notes and misfit message read on light,
dark and mid-grey palettes, and follow a palette change."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QScrollArea, QVBoxLayout, QWidget

from workbench.core.registry import Component
from workbench.qt.colours import contrast
from workbench.qt.panels.model.panel import ModelPanel

from qt_helpers import application_palette, dark_palette, model_panel, shown_colour

WAIT_MS = 30000
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def shown_panel(qtbot, layers=None) -> ModelPanel:
    """The seed-cnn network (Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten,
    Linear, ReLU, Linear) in a shown, active Model panel."""
    panel = model_panel(qtbot, layers, (1366, 768))
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT_MS)
    return panel


def focus(qtbot, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)


def press(key, modifier=Qt.KeyboardModifier.NoModifier) -> QWidget:
    """``key`` pressed where the focus is; the widget with the focus after it."""
    QTest.keyClick(QApplication.focusWidget(), key, modifier)
    return QApplication.focusWidget()


def tab_until(panel: ModelPanel, target: QWidget, presses: int = 80) -> None:
    for _ in range(presses):
        if press(Qt.Key.Key_Tab) is target:
            return
    raise AssertionError(f"Tab never reached {target}")


def card_of(panel: ModelPanel, widget: QWidget) -> int:
    return next((i for i, c in enumerate(panel.stack.cards) if c.isAncestorOf(widget)), -1)


def test_tab_into_a_card_selects_it_and_its_actions_work(qtbot):
    panel = shown_panel(qtbot)
    cards = panel.stack.cards
    focus(qtbot, panel.layer_palette.tree)
    assert press(Qt.Key.Key_Tab) is cards[0].more_button  # the first card comes next
    assert panel.selected_layer() == 0
    assert panel.delete_action.isEnabled() and panel.duplicate_action.isEnabled()
    assert panel.down_action.isEnabled() and not panel.up_action.isEnabled()
    box = cards[0].form.editors["out_channels"]
    tab_until(panel, box)
    assert panel.selected_layer() == 0
    # A ReLU has no field: its "⋯" is its stop, and Tab selects it.
    tab_until(panel, cards[1].more_button)
    assert panel.selected_layer() == 1 and cards[1].type == "ReLU"
    assert panel.up_action.isEnabled()
    tab_until(panel, cards[2].form.editors["kernel_size"])  # into the MaxPool2d's field
    assert panel.selected_layer() == 2
    press(Qt.Key.Key_Backtab, SHIFT)
    press(Qt.Key.Key_Backtab, SHIFT)  # back to the ReLU's "⋯": Delete deletes it
    assert panel.selected_layer() == 1
    press(Qt.Key.Key_Delete)
    assert [c.type for c in panel.experiment.model.layers][:3] == ["Conv2d", "MaxPool2d",
                                                                   "Conv2d"]
    # The focus is on the card now selected, so the next key acts on it.
    assert QApplication.focusWidget() is panel.stack.cards[1].more_button
    assert panel.selected_layer() == 1
    press(Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [c.type for c in panel.experiment.model.layers][:3] == ["Conv2d", "Conv2d",
                                                                   "MaxPool2d"]
    assert panel.selected_layer() == 2
    assert QApplication.focusWidget() is panel.stack.cards[2].more_button


def test_deleting_the_last_layer_by_keyboard_leaves_the_focus_in_sight(qtbot):
    panel = shown_panel(qtbot, [Component("Flatten", {})])
    focus(qtbot, panel.stack.cards[0].more_button)
    press(Qt.Key.Key_Delete)
    assert panel.experiment.model.layers == []
    # Not the empty stack (no focus drawn there): the list of layers, to add one.
    assert QApplication.focusWidget() is panel.layer_palette.tree
    press(Qt.Key.Key_Z, CTRL)
    assert [c.type for c in panel.experiment.model.layers] == ["Flatten"]


def test_up_and_down_on_a_card_move_the_selection(qtbot):
    panel = shown_panel(qtbot)
    cards = panel.stack.cards
    focus(qtbot, cards[0].more_button)
    assert press(Qt.Key.Key_Down) is cards[1].more_button
    assert press(Qt.Key.Key_Down) is cards[2].more_button
    assert panel.selected_layer() == 2
    assert press(Qt.Key.Key_Up) is cards[1].more_button
    assert panel.selected_layer() == 1
    press(Qt.Key.Key_Up)
    assert press(Qt.Key.Key_Up) is cards[0].more_button  # the first card: it stays
    assert panel.selected_layer() == 0
    # A card clicked outside its fields takes the arrows too.
    qtbot.mouseClick(cards[6], Qt.MouseButton.LeftButton, pos=cards[6].rect().center())
    assert panel.selected_layer() == 6
    assert press(Qt.Key.Key_Down) is cards[7].more_button and panel.selected_layer() == 7
    # In a number box, Up and Down are the box's: they step its value.
    box = cards[7].form.editors["out_features"]
    focus(qtbot, box)
    press(Qt.Key.Key_Up)
    assert QApplication.focusWidget() is box and panel.selected_layer() == 7
    qtbot.waitUntil(lambda: panel.experiment.model.layers[7].params["out_features"] == 129,
                    timeout=WAIT_MS)


def _popup(qtbot) -> QMenu:
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu),
                    timeout=WAIT_MS)
    return QApplication.activePopupWidget()


def _texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions()]


@pytest.mark.parametrize("where, key, modifier", [
    ("field", Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
    ("field", Qt.Key.Key_F10, SHIFT),
    ("more", Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier),
    ("more", Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
    ("more", Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
])
def test_the_menu_key_shift_f10_space_and_enter_open_the_cards_menu(qtbot, where, key,
                                                                    modifier):
    panel = shown_panel(qtbot)
    card = panel.stack.cards[3]
    focus(qtbot, card.form.editors["out_channels"] if where == "field" else card.more_button)
    assert panel.selected_layer() == 3
    press(key, modifier)
    menu = _popup(qtbot)
    try:
        assert "Delete" in _texts(menu) and "Duplicate" in _texts(menu)
        assert any(t.startswith("Share weights with") for t in _texts(menu))
        assert any(t.startswith("Initialisation") for t in _texts(menu))
        assert panel.selected_layer() == 3
    finally:
        menu.close()
    if where == "field":  # the box keeps its text
        assert card.form.editors["out_channels"].text() == "64"


def test_ctrl_d_in_a_number_box_duplicates_the_layer(qtbot):
    panel = shown_panel(qtbot)
    box = panel.stack.cards[3].form.editors["out_channels"]
    focus(qtbot, panel.stack.cards[2].more_button)
    tab_until(panel, box)
    assert panel.selected_layer() == 3
    press(Qt.Key.Key_D, CTRL)
    layers = panel.experiment.model.layers
    assert [c.type for c in layers][3:6] == ["Conv2d", "Conv2d", "ReLU"]
    assert layers[3].params["out_channels"] == layers[4].params["out_channels"] == 64
    assert panel.selected_layer() == 4  # the copy, with the focus
    assert card_of(panel, QApplication.focusWidget()) == 4
    assert panel.stack.cards[3].form.editors["out_channels"].text() == "64"


def _stops(start: QWidget, presses: int = 150) -> list[QWidget]:
    """The Tab stops after ``start``, once round the window."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    stops = []
    for _ in range(presses):
        stops.append(press(Qt.Key.Key_Tab))
        if stops[-1] is start:
            return stops
    raise AssertionError("Tab never came back round")


def _check_reading_order(panel: ModelPanel) -> None:
    stops = _stops(panel.layer_palette.tree)
    cards = [card_of(panel, w) for w in stops]
    in_cards = [i for i, c in enumerate(cards) if c >= 0]
    doctor = stops.index(panel.doctor.list)
    # Every card, top to bottom, right after the palette and before the doctor.
    assert in_cards[0] == 0 and in_cards == list(range(len(in_cards)))
    assert [c for c in cards[:len(in_cards)]] == sorted(cards[:len(in_cards)])
    assert set(cards[:len(in_cards)]) == set(range(len(panel.stack.cards)))
    assert doctor == len(in_cards)
    for card in panel.stack.cards:
        assert card.more_button in stops
    # No scroll area is a stop: the stack, the doctor's explanation.
    assert not [w for w in stops if isinstance(w, QScrollArea)]


def test_the_cards_come_before_the_doctor_in_the_tab_order(qtbot):
    from workbench.core.model.presets import preset_layers

    layers = preset_layers("seed-cnn") + [Component("Softmax", {})]  # a finding with a Fix
    panel = shown_panel(qtbot, [Component(c.type, dict(c.params)) for c in layers])
    assert panel.doctor.list.isVisible()
    _check_reading_order(panel)
    panel.add_layer("Dropout", 2)  # new cards, made after the window
    panel.select_layer(0)
    _check_reading_order(panel)
    panel.undo_stack.undo()
    _check_reading_order(panel)


def test_a_backbone_cards_fields_tab_in_reading_order(qtbot):
    from workbench.core.model.presets import preset_layers

    layers = [Component(c.type, dict(c.params)) for c in preset_layers("resnet18")]
    panel = shown_panel(qtbot, layers)
    card = panel.stack.cards[0]
    focus(qtbot, card.more_button)
    stops = []
    while len(stops) < 20 and card.isAncestorOf(press(Qt.Key.Key_Tab)):
        stops.append(QApplication.focusWidget())
    editors = card.form.editors
    # The path gets a row of its own below the choices: Tab comes to it, and its Choose…
    # button, after them, then to "Use this backbone's preprocessing" below.
    assert stops == [editors[n] for n in ("arch", "weights", "mode", "backbone_lr_scale",
                                          "weights_file")] + \
        [card.weights_button, card.preprocessing_button]


def _ratios(card) -> dict:
    """Each coloured text of ``card`` against what it is drawn on: the window, or a misfit
    card's background; the card's own text on that background too."""
    behind = card.palette().color(QPalette.ColorRole.Window)
    if not card.misfit:
        assert behind == card.parentWidget().palette().color(QPalette.ColorRole.Window)
    labels = [card.badge_label, card.shared_by_label, card.error_label, card.notes_label]
    ratios = {lab.text(): contrast(shown_colour(lab), behind) for lab in labels
              if lab is not None and lab.text()}
    ratios["text"] = contrast(shown_colour(card.type_label), behind)
    return {text: round(r, 2) for text, r in ratios.items()}


def _cards(qtbot) -> tuple:
    """A Linear card with badges (a tie, its own init, used by layer 5), in a page; a
    Backbone card whose weights file is missing; and one that does not fit."""
    from workbench.core.model.layers import LAYERS
    from workbench.qt.panels.model.cards import LayerCard

    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    tied = LayerCard(2, Component("Linear", {"out_features": 8}, init={"weight": "zeros"},
                                  share=0), LAYERS.get("Linear"))
    tied.set_shared_by([4])
    backbone = LayerCard(0, Component("Backbone", {"arch": "resnet18"}),
                         LAYERS.get("Backbone"))
    backbone.set_notes(["layer 1 (Backbone resnet18): no weights file found: its weights "
                        "start random"])
    misfit = LayerCard(3, Component("Linear", {"out_features": 8}, share=0),
                       LAYERS.get("Linear"))
    misfit.show_info(SimpleNamespace(error="in_features 12 does not match 48",
                                     input_shape=None))
    for card in (tied, backbone, misfit):
        layout.addWidget(card)
    page.show()
    QApplication.processEvents()
    return page, tied, backbone, misfit


#: Windows the cards' texts must read on (4.5:1): Fusion's light one, dark ones
#: (Fusion's, a lighter grey) and mid-grey themes, dark and light, where a fixed light or
#: dark shade is not enough.
THEMES = {"light": None, "dark": ("#353535",), "grey-4a": ("#4a4a4a",),
          "grey-5a": ("#5a5a5a",), "grey-80": ("#808080", "#000000", "#ffffff"),
          "grey-a0": ("#a0a0a0", "#000000", "#ffffff")}


@pytest.mark.parametrize("theme", list(THEMES))
def test_the_cards_texts_read_on_light_dark_and_grey_palettes(qtbot, theme):
    colours = THEMES[theme]
    with application_palette(dark_palette(*colours) if colours else QApplication.palette()):
        page, tied, backbone, misfit = _cards(qtbot)
        assert "shares layer 1" in tied.badge_label.text()
        assert "random" in backbone.notes_label.text()
        for card in (tied, backbone, misfit):
            ratios = _ratios(card)
            assert len(ratios) > 1 and min(ratios.values()) >= 4.5, (theme, ratios)


def test_the_cards_colours_follow_a_palette_change(qtbot):
    # They were chosen once, when the card was built: after a switch to a dark palette
    # the badges stayed dark blue (about 2:1) until the card was made again.
    light = QApplication.palette()
    page, tied, backbone, misfit = _cards(qtbot)
    for palette in (dark_palette(), dark_palette("#5a5a5a"), light):
        with application_palette(palette):
            QApplication.processEvents()
            for card in (tied, backbone, misfit):
                ratios = _ratios(card)
                assert min(ratios.values()) >= 4.5, (palette.color(
                    QPalette.ColorRole.Window).name(), ratios)
        page.setPalette(palette)  # the window's own palette (the card's parent's) too
        QApplication.processEvents()
        assert min(_ratios(tied).values()) >= 4.5
