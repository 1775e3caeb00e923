"""Model panel tools: the model doctor's fixes, code export, the Train gate, word params."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.presets import preset_layers
from workbench.core.registry import Entry, Param
from workbench.qt.forms import ParamForm
from workbench.qt.panels.model.panel import ModelPanel


#: How long a test waits for work done off the GUI thread (generous: CI machines
#: may be loaded); a passing wait returns as soon as its condition holds.
WAIT_MS = 30000


def _panel(qtbot, exp: Experiment) -> ModelPanel:
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    return panel


def _finding(panel: ModelPanel, code: str) -> int:
    codes = [f.code for f in panel.doctor.findings]
    assert code in codes, codes
    return codes.index(code)


def test_doctor_fix_is_one_undoable_step_with_the_batch_size(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 1
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    panel = _panel(qtbot, exp)
    before = [c.to_dict() for c in exp.model.layers]
    i = _finding(panel, "batchnorm-batch-one")
    button = panel.doctor.fix_button(i)
    assert button is not None and "batch size" in button.text()
    with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert exp.data.batch_size == 32
    # The doctor looked again.
    qtbot.waitUntil(lambda: "batchnorm-batch-one" not in
                    [f.code for f in panel.doctor.findings], timeout=WAIT_MS)
    panel.undo_action.trigger()
    assert exp.data.batch_size == 1
    assert [c.to_dict() for c in exp.model.layers] == before
    panel.redo_action.trigger()
    assert exp.data.batch_size == 32


def test_doctor_fix_that_inserts_a_layer_and_selecting_a_finding(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers = [Component("Conv2d", {"out_channels": 4}), Component("ReLU"),
                        Component("Linear", {"out_features": None})]
    panel = _panel(qtbot, exp)
    assert panel.stack.cards[2].misfit
    i = _finding(panel, "missing-flatten")
    item = panel.doctor.list.item(i)
    assert panel.doctor.findings[i].explanation in panel.doctor.list.itemWidget(item).toolTip()
    qtbot.mouseClick(panel.doctor.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.doctor.list.visualItemRect(item).center())
    assert panel.selected_layer() == 2  # the card the finding is about
    panel.apply_fix(i)
    assert [c.type for c in exp.model.layers] == ["Conv2d", "ReLU", "Flatten", "Linear"]
    qtbot.waitUntil(lambda: not any(card.misfit for card in panel.stack.cards), timeout=WAIT_MS)
    assert panel.message.level == "ok"
    panel.undo_action.trigger()
    assert [c.type for c in exp.model.layers] == ["Conv2d", "ReLU", "Linear"]


def test_copy_as_pytorch_code(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    exp.model.layers, exp.model.preset = preset_layers("mlp"), "mlp"
    panel = _panel(qtbot, exp)
    assert panel.code_action.isEnabled()
    QGuiApplication.clipboard().clear()
    panel.code_action.trigger()
    code = QGuiApplication.clipboard().text()
    assert "nn.Linear" in code and "def build_model" in code
    compile(code, "<exported>", "exec")  # valid Python
    assert panel.message.level == "ok"
    # A network that does not fit: no code, and a message that says why.
    panel.add_layer("Conv2d")
    panel.code_action.trigger()
    assert panel.message.level == "error" and "Conv2d" in panel.message.text()


def test_copied_code_names_the_loaded_datasets_classes(qtbot):
    from types import SimpleNamespace

    from workbench.core.events import CurrentExperiment

    current = CurrentExperiment(Experiment())
    current.experiment.data.input_size = [16, 16]
    current.set_dataset(SimpleNamespace(root="/data/pets", classes=["cat", "dog", "hamster"],
                                        num_classes=3))
    panel = ModelPanel(current)
    qtbot.addWidget(panel)
    panel.code_action.trigger()
    code = QGuiApplication.clipboard().text()
    assert panel.message.level == "ok", panel.message.text()
    assert "NUM_CLASSES = 3" in code
    assert "hamster" in code and "0: cat" in code
    compile(code, "<exported>", "exec")


def test_train_button_explains_why_it_is_disabled(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    tiny_experiment.data.folder = ""
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    start = window.train_panel.start_button
    assert start.isEnabled()
    window.model_panel.add_layer("Conv2d", 1)  # after Flatten: does not fit
    qtbot.waitUntil(lambda: not start.isEnabled(), timeout=WAIT_MS)
    assert "layer 2 (Conv2d)" in start.toolTip()
    assert "Model tab" in window.train_panel.status.text()
    window.model_panel.undo_action.trigger()
    qtbot.waitUntil(start.isEnabled, timeout=WAIT_MS)
    assert "Model tab" not in start.toolTip()


WORDY = Entry("Pad", lambda **kw: kw, params=(
    Param("padding", int, 1, min=0, max=8, words=("same", "valid"),
          help="Border pixels, or a word."),))


def test_a_number_or_word_parameter_shows_and_takes_either(qtbot):
    form = ParamForm(WORDY, {"padding": "same"})
    qtbot.addWidget(form)
    editor = form.editors["padding"]
    assert form.values() == {"padding": "same"}
    assert not editor.box.isEnabled()  # a word: the number is not used
    assert "same" in editor.toolTip() and "valid" in editor.toolTip()
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        editor.choice.setCurrentIndex(editor.choice.findText("number"))
    assert blocker.args[0] == {"padding": 1} and editor.box.isEnabled()
    with qtbot.waitSignal(form.changed, timeout=WAIT_MS) as blocker:
        editor.box.setValue(3)
    assert blocker.args[0] == {"padding": 3}
    with qtbot.assertNotEmitted(form.changed):
        form.set_values({"padding": "valid"})
    assert form.values() == {"padding": "valid"}
    form.set_values({"padding": 2})
    assert form.values() == {"padding": 2} and editor.box.isEnabled()
