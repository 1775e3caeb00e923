"""Model panel: weight sharing, a layer's own initialisation, architecture files, summary."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.architecture import summary_text
from workbench.qt.panels.model.panel import ModelPanel


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _panel(qtbot, layers: list[Component]) -> ModelPanel:
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = layers
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    return panel


def _mlp() -> list[Component]:
    """Flatten, then Linear 768->64, 64->64, 64->64, 64->classes (ReLUs between)."""
    return [Component("Flatten"), Component("Linear", {"out_features": 64}), Component("ReLU"),
            Component("Linear", {"out_features": 64}), Component("ReLU"),
            Component("Linear", {"out_features": 64}), Component("ReLU"),
            Component("Linear", {"out_features": None})]


def _layer_menu(panel: ModelPanel, index: int) -> QMenu:
    menu = QMenu(panel)
    panel.tools.add_layer_actions(menu, index)
    return menu


def _submenu(menu: QMenu, title: str) -> QMenu:
    [sub] = [a.menu() for a in menu.actions() if a.menu() and a.text().startswith(title)]
    return sub


def _action(menu: QMenu, text: str):
    [action] = [a for a in menu.actions() if a.text().startswith(text)]
    return action


# -- weight sharing ------------------------------------------------------------------------
def test_share_weights_lists_fitting_layers_and_ties_in_one_undo_step(qtbot):
    panel = _panel(qtbot, _mlp())
    exp = panel.experiment
    total = panel.summary.total_params
    share = _submenu(_layer_menu(panel, 5), "Share weights with")
    options = {a.data(): a for a in share.actions()}
    assert set(options) == {1, 3}  # the earlier Linear layers only
    # Layer 2's weight is 64x768: the tie would not fit, and the core says why.
    assert not options[1].isEnabled()
    assert "64x768" in options[1].text() and "remove the tie" in options[1].toolTip()
    assert options[3].isEnabled()
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        options[3].trigger()
    assert exp.model.layers[5].share == 3
    card = panel.stack.cards[5]
    assert "shares layer 4's weight" in card.badge_label.text()
    panel.refresh()
    assert card.params_label.text() == "4,160 params (shared)"
    assert "count them once" in card.params_label.toolTip()
    assert "layer 6" in panel.stack.cards[3].shared_by_label.text()
    assert not panel.stack.cards[3].shared_by_label.isHidden()
    assert panel.summary.total_params == total - (64 * 64 + 64)  # counted once
    assert f"{total - 4160:,}" in panel.totals_label.text()
    assert panel.row_texts()[5][4] == "shared with 4"

    panel.undo_action.trigger()
    assert exp.model.layers[5].share is None
    assert "shares" not in panel.stack.cards[5].badge_label.text()
    panel.redo_action.trigger()
    assert exp.model.layers[5].share == 3
    # The shared layer's own menu now offers "Stop sharing" (and ticks the source).
    menu = _layer_menu(panel, 5)
    assert "✓" in {a.data(): a for a in _submenu(menu, "Share weights with").actions()}[3].text()
    stop = _action(menu, "Stop sharing")
    assert stop.isEnabled()
    stop.trigger()
    assert exp.model.layers[5].share is None
    assert not _action(_layer_menu(panel, 5), "Stop sharing").isEnabled()


def test_a_tie_survives_moving_other_layers(qtbot):
    panel = _panel(qtbot, _mlp())
    panel.tools.share_weights(5, 3)
    panel.duplicate_layer(2)  # a ReLU copied after layer 3: the tied layers move down
    assert [c.share for c in panel.experiment.model.layers].index(4) == 6
    assert "shares layer 5's weight" in panel.stack.cards[6].badge_label.text()
    panel.remove_layer(4)  # the source goes: the tie with it
    assert all(c.share is None for c in panel.experiment.model.layers)


def test_share_menu_of_a_layer_without_weights_or_twins(qtbot):
    panel = _panel(qtbot, _mlp())
    relu = _submenu(_layer_menu(panel, 4), "Share weights with")
    assert not relu.isEnabled() and "no weights" in relu.title()
    first = _submenu(_layer_menu(panel, 1), "Share weights with")
    [none] = first.actions()
    assert not none.isEnabled() and "no earlier Linear" in none.text()


def test_the_card_context_menu_offers_the_layer_actions(qtbot):
    panel = _panel(qtbot, _mlp())
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    card = panel.stack.cards[3]
    card.customContextMenuRequested.emit(QPoint(5, 5))
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=WAIT_MS)
    menu = QApplication.activePopupWidget()
    texts = [a.text() for a in menu.actions()]
    assert "Stop sharing" in texts and "Initialisation…" in texts
    assert any(t.startswith("Share weights with") for t in texts)
    assert panel.selected_layer() == 3
    menu.close()


# -- a layer's own initialisation ----------------------------------------------------------
def test_init_dialog_recommends_validates_and_applies_in_one_undo_step(qtbot):
    layers = [Component("Conv2d", {"out_channels": 8}), Component("ReLU"), Component("Flatten"),
              Component("Linear", {"out_features": None})]
    panel = _panel(qtbot, layers)
    exp = panel.experiment
    dialog = panel.tools.edit_init(0)
    qtbot.addWidget(dialog)
    assert dialog is panel.tools.init_dialog and dialog.isVisible()
    assert "ReLU" in dialog.recommendation.text()
    assert dialog.value() is None and dialog.ok_button.isEnabled()  # both global
    assert dialog.weight.combo.currentText().startswith("global (")
    dialog.use_recommended.click()
    assert dialog.value() == {"weight": {"type": "kaiming_normal",
                                         "params": {"a": 0.0, "mode": "fan_in",
                                                    "nonlinearity": "relu"}},
                              "bias": {"type": "zeros", "params": {}}}
    # A matrix scheme on a bias: the core's message, and OK cannot be pressed.
    dialog.bias.combo.setCurrentIndex(dialog.bias.combo.findData("xavier_uniform"))
    assert not dialog.ok_button.isEnabled()
    assert dialog.message.level == "error"
    assert "init.bias.type" in dialog.message.text() and "needs a weight matrix" in \
        dialog.message.text()
    dialog.bias.combo.setCurrentIndex(dialog.bias.combo.findData("constant"))
    dialog.bias.form.editors["val"].setValue(0.01)
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert exp.model.layers[0].init["bias"] == {"type": "constant", "params": {"val": 0.01}}
    assert exp.model.layers[0].init["weight"]["type"] == "kaiming_normal"
    badge = panel.stack.cards[0].badge_label.text()
    assert "own initialisation" in badge and "kaiming_normal" in badge
    Experiment.from_dict(exp.to_dict())  # the core accepts what the dialog wrote
    panel.undo_action.trigger()
    assert exp.model.layers[0].init is None
    assert panel.stack.cards[0].badge_label.text() == ""
    panel.redo_action.trigger()
    assert exp.model.layers[0].init["bias"]["type"] == "constant"
    # Reopened, the dialog shows the layer's init; "All global" removes it.
    dialog = panel.tools.edit_init(0)
    qtbot.addWidget(dialog)
    assert dialog.bias.combo.currentData() == "constant"
    assert dialog.bias.form.values() == {"val": 0.01}
    dialog.weight.set_value(None)
    dialog.bias.set_value(None)
    dialog.accept()
    assert exp.model.layers[0].init is None


def test_init_dialog_refuses_a_bias_scheme_for_a_layer_without_bias(qtbot):
    layers = [Component("Conv2d", {"out_channels": 8, "bias": False}),
              Component("BatchNorm2d"), Component("Flatten"),
              Component("Linear", {"out_features": None})]
    panel = _panel(qtbot, layers)
    dialog = panel.tools.edit_init(0)
    qtbot.addWidget(dialog)
    assert not dialog.use_recommended.isEnabled()  # no activation before the next weights
    dialog.bias.set_value({"type": "zeros"})
    assert not dialog.ok_button.isEnabled()
    assert "has no bias" in dialog.message.text()
    dialog.reject()
    # A 1-D weight (BatchNorm's scale) cannot take a matrix scheme.
    dialog = panel.tools.edit_init(1)
    qtbot.addWidget(dialog)
    dialog.weight.set_value({"type": "orthogonal"})
    assert not dialog.ok_button.isEnabled() and "1-D" in dialog.message.text()
    dialog.weight.set_value({"type": "constant", "params": {"val": 1.0}})
    assert dialog.ok_button.isEnabled()


# -- architecture files and the summary ----------------------------------------------------
def test_save_and_open_an_architecture_file(qtbot, tmp_path, monkeypatch):
    panel = _panel(qtbot, _mlp())
    exp = panel.experiment
    exp.model.layers[5].share = 3
    written = [c.to_dict() for c in exp.model.layers]
    saved = [c.to_dict() for c in Experiment.from_dict(exp.to_dict()).model.layers]  # filled
    path = tmp_path / "net.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    panel.tools.save_action.trigger()
    assert json.loads(path.read_text())["layers"] == written
    assert panel.message.level == "ok" and str(path) in panel.message.text()

    panel.set_preset("cnn-bn")
    assert exp.model.preset == "cnn-bn"
    steps = panel.undo_stack.count()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        panel.tools.open_action.trigger()
    assert [c.to_dict() for c in exp.model.layers] == saved
    assert "Opened the architecture" in panel.message.text()
    assert panel.undo_stack.count() == steps + 1  # one step
    panel.undo_action.trigger()
    assert exp.model.preset == "cnn-bn" and exp.model.layers[0].type == "Conv2d"


def test_a_bad_architecture_file_is_reported_and_changes_nothing(qtbot, tmp_path,
                                                                 monkeypatch):
    panel = _panel(qtbot, _mlp())
    before = [c.to_dict() for c in panel.experiment.model.layers]
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"format": "workbench-architecture", "layers": [')
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"format": "workbench-architecture", "format_version": 1,
                                   "layers": [{"type": "Conv3d", "params": {}}]}))
    for path, words in ((bad_json, "not valid JSON"), (unknown, "Conv3d"),
                        (tmp_path / "missing.json", "does not exist")):
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, p=path, **k: (str(p), ""))
        panel.tools.open_action.trigger()
        assert panel.message.level == "error", panel.message.text()
        assert words in panel.message.text()
        assert [c.to_dict() for c in panel.experiment.model.layers] == before
        assert panel.undo_stack.count() == 0
    # Cancelled dialogs do nothing.
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    assert not panel.tools.open_architecture()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert not panel.tools.save_architecture()


def test_opening_after_a_failed_open_says_so_though_the_layers_are_the_same(
        qtbot, tmp_path, monkeypatch):
    panel = _panel(qtbot, _mlp())
    same = tmp_path / "same.json"
    assert panel.tools.save_architecture(str(same))
    assert panel.tools.open_architecture(str(same))  # the layers as the file has them
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    assert not panel.tools.open_architecture(str(bad))
    assert panel.message.level == "error"
    assert panel.tools.open_architecture(str(same))  # the layers shown: nothing to change
    assert panel.message.level != "error", panel.message.text()
    assert "Opened the architecture" in panel.message.text()
    assert "Cannot open" not in panel.message.text()
    # One that does not fit is opened, and the message says why it does not fit.
    unfit = tmp_path / "unfit.json"
    unfit.write_text(json.dumps({"format": "workbench-architecture", "format_version": 1,
                                 "layers": [{"type": "Flatten", "params": {}},
                                            {"type": "Conv2d", "params": {}}]}))
    assert panel.tools.open_architecture(str(unfit))
    assert panel.message.level == "error"
    assert "Opened the architecture" in panel.message.text()
    assert "layer 2 (Conv2d)" in panel.message.text()


def test_an_architecture_that_cannot_be_written_is_reported(qtbot, tmp_path):
    panel = _panel(qtbot, _mlp())
    (tmp_path / "file").write_text("")
    assert not panel.tools.save_architecture(str(tmp_path / "file" / "a.json"))
    assert panel.message.level == "error"
    assert "Cannot save the architecture" in panel.message.text()


def test_copy_summary(qtbot):
    panel = _panel(qtbot, _mlp())
    panel.tools.summary_action.trigger()
    text = QGuiApplication.clipboard().text()
    assert text == summary_text(panel.summary)
    assert text.startswith("Sequential(") and "Total params" in text
    assert "Copied the network summary" in panel.message.text()


def test_init_dialog_grows_to_show_the_chosen_schemes_explanation_and_form(qtbot):
    # The dialog kept its first height: "zeros"'s explanation (why it is wrong) was cut to
    # half-lines and "constant"'s val field was not shown at all.
    from PySide6.QtCore import QRect

    panel = _panel(qtbot, _mlp())
    dialog = panel.tools.edit_init(1)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    QApplication.processEvents()  # laid out, as it is by the time a user picks a scheme
    room = dialog.screen().availableGeometry()
    help_label = dialog.weight.help_label
    for name in ("zeros", "constant"):
        dialog.weight.combo.setCurrentIndex(dialog.weight.combo.findData(name))
        qtbot.waitUntil(lambda: help_label.height()
                        >= help_label.heightForWidth(help_label.width()), timeout=WAIT_MS)
        assert room.contains(dialog.frameGeometry()), (room, dialog.frameGeometry())
        # A constant hidden layer is said in orange, as the Model doctor warns of it.
        assert dialog.message.level == "warning" and "single unit" in dialog.message.text()
    val = dialog.weight.form.editors["val"]
    qtbot.waitUntil(lambda: val.isVisible() and val.height() >= val.minimumSizeHint().height(),
                    timeout=WAIT_MS)
    assert dialog.rect().contains(QRect(val.mapTo(dialog, QPoint(0, 0)), val.size()))
    message = dialog.message
    assert message.height() >= message.heightForWidth(message.width())
    dialog.reject()
    dialog = panel.tools.edit_init(7)  # the output layer: a constant one trains fine
    qtbot.addWidget(dialog)
    dialog.weight.set_value({"type": "zeros"})
    assert dialog.message.level == "ok"
