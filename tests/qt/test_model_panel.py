"""Model panel: presets, the layer cards' shapes and counts, misfits in red, the palette."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.layers import LAYERS
from workbench.qt.panels.model.panel import CUSTOM, ModelPanel

from qt_helpers import shown_level


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _exp16() -> Experiment:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    return exp


def _panel(qtbot, exp: Experiment, num_classes: int | None = 3) -> ModelPanel:
    panel = ModelPanel(exp, num_classes=num_classes)
    qtbot.addWidget(panel)
    return panel


def test_preset_fills_the_cards_with_shapes_and_counts(qtbot):
    exp = _exp16()
    panel = _panel(qtbot, exp)
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        panel.set_preset("seed-cnn")
    assert exp.model.preset == "seed-cnn"
    assert [c.type for c in exp.model.layers][:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    rows = panel.row_texts()
    assert [r[1] for r in rows] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                                    "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]
    shapes = [r[3] for r in rows]
    assert shapes == ["(32, 16, 16)", "(32, 16, 16)", "(32, 8, 8)", "(64, 8, 8)", "(64, 8, 8)",
                      "(64, 4, 4)", "(1024)", "(128)", "(128)", "(3)"]
    counts = [int(r[4].replace(",", "")) for r in rows]
    # 3*32*9+32, 32*64*9+64, 1024*128+128, 128*3+3
    assert counts == [896, 0, 0, 18496, 0, 0, 0, 131200, 0, 387]
    assert "in_channels=3 (auto)" in rows[0][2]
    assert f"{sum(counts):,}" in panel.totals_label.text()
    assert panel.message.level == "ok"
    # The cards show the same: one per layer, with shape and count in its header.
    cards = panel.stack.cards
    assert [c.type for c in cards] == [r[1] for r in rows]
    assert cards[3].shape_label.text() == "→ (64, 8, 8)"
    assert cards[3].params_label.text() == "18,496 params"
    # Auto parameters show what they resolve to, greyed out.
    in_channels = cards[3].form.editors["in_channels"]
    assert in_channels.value() == 32 and not in_channels.isEnabled()


def test_number_of_classes_follows_the_dataset(qtbot):
    exp = _exp16()
    panel = _panel(qtbot, exp, num_classes=None)
    panel.set_preset("mlp")
    assert panel.row_texts()[-1][3] == "(10)"  # assumed until a dataset is loaded
    assert "assumed" in panel.input_label.text()
    panel.set_num_classes(4)
    assert panel.row_texts()[-1][3] == "(4)"
    assert panel.row_texts()[0][3] == "(768)"  # Flatten of 3x16x16


def test_misfit_card_is_red_with_its_message(qtbot):
    exp = _exp16()
    exp.model.layers = [Component("Flatten"), Component("Conv2d", {"out_channels": 8}),
                        Component("Linear", {"out_features": None})]
    panel = _panel(qtbot, exp)
    assert panel.preset_combo.currentText() == CUSTOM
    assert panel.summary is not None and not panel.summary.ok
    bad = panel.summary.error_index
    assert bad == 1
    card = panel.stack.cards[bad]
    assert card.misfit and card.property("misfit") is True
    assert card.palette().color(QPalette.ColorRole.Window).name() == "#ffdddd"  # light red
    assert shown_level(card.error_label) == "error"
    assert card.error_label.isVisibleTo(card) and "layer 2" in card.error_label.text()
    assert card.shape_label.text() == "does not fit"
    assert panel.message.level == "error"
    assert "layer 2" in panel.message.text()
    assert not panel.stack.cards[0].misfit  # fits
    fits = panel.stack.cards[0]
    assert fits.palette().color(QPalette.ColorRole.Window) == panel.palette().color(
        QPalette.ColorRole.Window)  # the window's own


def test_an_edit_that_fixes_a_misfit_clears_the_red(qtbot):
    exp = _exp16()
    exp.model.layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 20,
                                             "padding": 0}),
                        Component("Flatten"), Component("Linear", {"out_features": None})]
    panel = _panel(qtbot, exp)
    card = panel.stack.cards[0]
    assert card.misfit and "kernel" in card.error_label.text()
    card.form.editors["kernel_size"].setValue(3)  # as the user would, through the form
    assert exp.model.layers[0].params["kernel_size"] == 3
    qtbot.waitUntil(lambda: not card.misfit, timeout=WAIT_MS)
    assert panel.stack.cards[0] is card  # edited in place: the focus stays in the box
    assert not card.error_label.isVisibleTo(card)
    assert card.shape_label.text() == "→ (8, 14, 14)"
    # The red is gone; the doctor's warning (no activation between the two) is still said.
    assert panel.message.level == "warning" and "fit together" in panel.message.text()


def test_editing_a_parameter_updates_that_layer_and_the_following(qtbot):
    exp = _exp16()
    panel = _panel(qtbot, exp)
    panel.set_preset("seed-cnn")
    with qtbot.waitSignal(panel.summary_updated, timeout=WAIT_MS):
        panel.stack.cards[0].form.editors["out_channels"].setValue(16)
    shapes = [r[3] for r in panel.row_texts()]
    assert shapes[:4] == ["(16, 16, 16)", "(16, 16, 16)", "(16, 8, 8)", "(64, 8, 8)"]
    assert panel.row_texts()[3][2].startswith("in_channels=16 (auto)")
    assert panel.stack.cards[3].form.editors["in_channels"].value() == 16
    with qtbot.waitSignal(panel.summary_updated, timeout=WAIT_MS):  # the input size counts too
        exp.data.input_size = [32, 32]
        panel.refresh()
    assert panel.row_texts()[6][3] == "(4096)"


def test_a_message_line_on_the_panel_reads_its_palette(qtbot):
    # The layer palette was ``panel.palette``, hiding QWidget.palette(): a message line
    # put on the panel itself raised "'LayerPalette' object is not callable".
    from workbench.qt.common import MessageLabel

    panel = _panel(qtbot, _exp16())
    label = MessageLabel(parent=panel)
    label.show_message("Layer 2 does not fit.", "error")
    assert shown_level(label) == "error"
    assert panel.layer_palette.item("Conv2d") is not None


def test_palette_lists_every_layer_and_filters_by_search(qtbot):
    panel = _panel(qtbot, _exp16())
    palette = panel.layer_palette
    assert sorted(palette.visible_names()) == sorted(LAYERS.names())
    item = palette.item("Conv2d")
    assert LAYERS.get("Conv2d").help in item.toolTip(0)
    palette.search.setText("pool")
    shown = palette.visible_names()
    assert {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"} <= set(shown)
    assert "Linear" not in shown and "ReLU" not in shown
    for name in shown:  # every match names pooling somewhere
        entry = LAYERS.get(name)
        assert "pool" in f"{entry.group} {name} {entry.help}".lower()
    # A name that matches hides the layers whose description merely mentions it.
    for query, names in (("conv", ["Conv2d"]), ("2d conv", ["Conv2d"]),
                         ("dropout", ["Dropout", "Dropout2d"])):
        palette.search.setText(query)
        assert palette.visible_names() == names, query
    # No name matches: a word of the description finds it.
    palette.search.setText("swish")
    assert palette.visible_names() == ["SiLU"]
    palette.search.setText("fully connected")
    assert palette.visible_names() == ["Linear"]
    palette.search.setText("no such layer")
    assert palette.visible_names() == []
    assert all(palette.tree.topLevelItem(g).isHidden()
               for g in range(palette.tree.topLevelItemCount()))
    palette.search.clear()
    assert len(palette.visible_names()) == len(LAYERS)


def test_double_click_in_the_palette_adds_after_the_selected_layer(qtbot):
    exp = _exp16()
    panel = _panel(qtbot, exp)
    panel.show()
    qtbot.waitExposed(panel)
    tree = panel.layer_palette.tree

    def double_click(name: str) -> None:
        item = panel.layer_palette.item(name)
        tree.scrollToItem(item)
        rect = tree.visualItemRect(item)
        # A real double click arrives as a click, then the double-click event.
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    n = len(exp.model.layers)
    panel.select_layer(0)
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        double_click("BatchNorm2d")
    assert [c.type for c in exp.model.layers][:3] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert len(exp.model.layers) == n + 1
    assert panel.selected_layer() == 1  # the new layer, ready to edit
    assert exp.model.layers[1].params == LAYERS.get("BatchNorm2d").defaults()
    panel.select_layer(-1)
    double_click("Dropout")
    assert exp.model.layers[-1].type == "Dropout"  # nothing selected: at the end
    assert len(panel.stack.cards) == n + 2


def test_round_trip_through_experiment_json(qtbot):
    exp = _exp16()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 64}),
                        Component("ReLU"), Component("Linear", {"out_features": 64}),
                        Component("ReLU"), Component("Linear", {"out_features": 64}),
                        Component("ReLU"), Component("Linear", {"out_features": None})]
    exp.model.layers[5].share = 3
    exp.model.layers[3].init = {"weight": {"type": "xavier_uniform", "params": {}}}
    original = Experiment.from_dict(exp.to_dict()).to_dict()
    loaded = Experiment.from_dict(original)
    panel = _panel(qtbot, _exp16())
    panel.set_experiment(loaded)
    assert loaded.to_dict() == original  # showing it changes nothing
    assert "shares layer 4's weight" in panel.stack.cards[5].badge_label.text()
    assert "own initialisation" in panel.stack.cards[3].badge_label.text()
    panel.duplicate_layer(2)
    panel.move_layer(0, 3)
    panel.undo_stack.undo()
    panel.undo_stack.undo()
    assert loaded.to_dict() == original
    assert Experiment.from_dict(loaded.to_dict()).to_dict() == original


def test_the_panel_works_before_torch_is_loaded(qtbot, monkeypatch):
    """At start-up torch loads in the background: the cards list the types meanwhile."""
    from workbench.qt.panels.model import panel as model_module

    monkeypatch.setattr(model_module, "when_torch_ready", lambda fn, owner: None)
    exp = _exp16()
    panel = _panel(qtbot, exp)
    assert [c.type for c in panel.stack.cards] == [c.type for c in exp.model.layers]
    assert all(c.form is None for c in panel.stack.cards)
    assert panel.summary is None and panel.network_problem() == ""
    assert "Loading" in panel.message.text()
    panel._on_torch_ready()  # what the loader calls once torch is imported
    assert panel.stack.cards[0].form is not None
    assert panel.summary.ok


def test_a_network_too_big_to_train_is_the_doctors_red_first_row_with_a_fix(qtbot):
    # From a tester's day: the seed CNN at 4096x4096 (8.6 billion parameters) "fit
    # together" with only an info note; now the doctor says how big and offers pooling.
    exp = Experiment()
    exp.data.input_size = [4096, 4096]
    panel = _panel(qtbot, exp)
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        panel.set_preset("seed-cnn")
    first = panel.doctor.findings[0]
    assert (first.code, first.severity) == ("network-too-big", "error")
    assert "GB" in first.title
    # The line above says so too (it said "The layers fit together.").
    assert panel.message.level == "error" and "cannot be trained" in panel.message.text()
    button = panel.doctor.fix_button(0)
    assert button is not None and "AdaptiveAvgPool2d(1)" in button.text()
    with qtbot.waitSignal(panel.summary_updated, timeout=WAIT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [c.type for c in exp.model.layers][6:8] == ["AdaptiveAvgPool2d", "Flatten"]
    assert panel.summary.total_params < 100_000
    assert all(f.code != "network-too-big" for f in panel.doctor.findings)
    assert panel.message.text() == "The layers fit together."
    panel.undo_action.trigger()  # one undo step puts the network back
    assert [c.type for c in exp.model.layers][6] == "Flatten"


def test_an_edit_of_any_setting_shows_custom_and_choosing_the_preset_resets_it(qtbot):
    exp = _exp16()
    panel = _panel(qtbot, exp)
    panel.show()
    qtbot.waitExposed(panel)
    combo = panel.preset_combo
    assert combo.currentText() == "seed-cnn"
    panel.stack.cards[7].form.editors["bias"].setChecked(False)  # the preset names no bias
    assert exp.model.layers[7].params["bias"] is False
    assert combo.currentText() == CUSTOM
    panel.undo_action.trigger()
    assert combo.currentText() == "seed-cnn"
    panel.edits.set_init(0, {"weight": {"type": "zeros", "params": {}}})  # a layer's own init
    assert combo.currentText() == CUSTOM
    # The user chooses seed-cnn in the list again: the preset comes back, in one undo step.
    steps = panel.undo_stack.count()
    combo.showPopup()
    view = combo.view()
    view.setCurrentIndex(combo.model().index(combo.findText("seed-cnn"), 0))
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert exp.model.layers[0].init is None
    assert combo.currentText() == "seed-cnn"
    assert panel.undo_stack.count() == steps + 1
    # Choosing the preset shown, unchanged, changes nothing and adds no step.
    combo.showPopup()
    combo.view().setCurrentIndex(combo.model().index(combo.currentIndex(), 0))
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        qtbot.keyClick(combo.view(), Qt.Key.Key_Return)
    assert panel.undo_stack.count() == steps + 1
    # A saved experiment holds every setting filled in: still the preset, nothing to load.
    filled = _exp16().validate()
    panel.set_experiment(filled)
    assert combo.currentText() == "seed-cnn"
    panel.set_preset("seed-cnn")
    assert panel.undo_stack.count() == 0
