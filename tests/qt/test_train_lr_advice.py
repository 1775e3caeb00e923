"""Train panel: a learning rate far outside the optimizer's usual range is warned about
under the optimizer form (with a one-click fix) and again as a run starts, before it can
diverge; a value the core refuses is shown instead, as an error."""

from __future__ import annotations

import pytest

from workbench.core.registry import Component
from workbench.qt.panels.train.status import model_doctor_line

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel()


def test_lr_10_for_adam_is_warned_about_and_the_button_sets_the_usual_rate(panel):
    editor, exp = panel.optimizer_editor, panel.experiment
    panel.optimizer_combo.setCurrentText("Adam")
    assert not editor.advice_row.isVisibleTo(panel)  # the default rate: nothing to say
    changed = []
    panel.settings_changed.connect(lambda: changed.append(1))
    panel.lr_spin.setValue(10.0)
    assert exp.optimizer.params["lr"] == 10.0
    assert editor.advice_row.isVisibleTo(panel)
    assert editor.advice_label.level == "warning"
    assert editor.advice_label.text().startswith("lr 10 is very high for Adam")
    assert not editor.error_label.isVisibleTo(panel)
    assert panel.start_button.isEnabled()  # a warning, not a refusal
    assert editor.fix_button.text() == "Use lr 0.001"
    changed.clear()
    editor.fix_button.click()
    assert exp.optimizer.params["lr"] == pytest.approx(0.001)
    assert panel.lr_spin.value() == pytest.approx(0.001)  # the form shows it
    assert not editor.advice_row.isVisibleTo(panel)
    assert changed  # told like any other edit (saved, the memory hint redone)
    assert exp.optimizer.params["betas"] == [0.9, 0.999]  # the other settings are kept


def test_a_weight_decay_fix_names_its_parameter(panel):
    editor, exp = panel.optimizer_editor, panel.experiment
    panel.optimizer_combo.setCurrentText("SGD")
    editor.form.editors["weight_decay"].setValue(0.5)
    assert editor.advice_row.isVisibleTo(panel)
    assert editor.fix_button.text() == "Use weight_decay 0.0005"
    editor.fix_button.click()
    assert exp.optimizer.params["weight_decay"] == pytest.approx(5e-4)
    assert not editor.advice_row.isVisibleTo(panel)


def test_a_refusal_wins_over_the_advice(panel):
    editor, exp = panel.optimizer_editor, panel.experiment
    exp.optimizer = Component("Adam", {"lr": 10.0, "eps": -1.0})  # eps refused
    editor.refresh()
    assert editor.error_label.isVisibleTo(panel) and "eps" in editor.error_label.text()
    assert not editor.advice_row.isVisibleTo(panel)
    exp.optimizer.params["eps"] = 1e-8
    editor.refresh()
    assert not editor.error_label.isVisibleTo(panel)
    assert editor.advice_row.isVisibleTo(panel)


def test_the_schedule_editor_gives_no_optimizer_advice(panel):
    panel.experiment.optimizer = Component("Adam", {"lr": 10.0})
    panel.refresh()
    assert panel.optimizer_editor.advice_row.isVisibleTo(panel)
    assert not panel.schedule_editor.advice_row.isVisibleTo(panel)


def test_the_start_line_names_the_rate_and_where_to_fix_it(tiny_experiment):
    from workbench.core.data.scan import scan_folder

    index = scan_folder(tiny_experiment.data.folder)
    tiny_experiment.optimizer = Component("Adam", {"lr": 10.0})
    text, level = model_doctor_line(tiny_experiment, None)
    assert level == "warning" and text.startswith("lr 10 is very high for Adam")
    assert text.endswith("The Optimizer settings on the Train tab have the fix.")
    tiny_experiment.init = Component("zeros")  # the Model doctor warns too: one line, both
    text, level = model_doctor_line(tiny_experiment, index)
    assert text.startswith("lr 10 is very high") and "Model doctor also warns" in text
    assert "zeros" in text and "\n" not in text
    assert ") (" not in text and ".)" not in text  # sentences, not stacked brackets
    tiny_experiment.model.layers.append(Component("Softmax"))
    text, _ = model_doctor_line(tiny_experiment, index)
    assert ", and 1 more warning; the Model tab has the fix." in text, text
    tiny_experiment.model.layers.pop()
    tiny_experiment.optimizer = Component("Adam", {"lr": 1e-3})
    text, _ = model_doctor_line(tiny_experiment, index)
    assert text.startswith("The Model doctor warns") and "lr " not in text
    tiny_experiment.init = Component("default")
    assert model_doctor_line(tiny_experiment, index) == ("", "info")


def test_pressing_start_with_a_tiny_rate_says_so_under_the_plots(qtbot, panel):
    panel.experiment.optimizer = Component("Adam", {"lr": 1e-8})
    panel.experiment.training.epochs = 1
    panel.refresh()
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.run_label.level == "warning"
        assert panel.run_label.text().startswith("lr 1e-8 is very low for Adam")
        assert "Optimizer settings on the Train tab" in panel.run_label.text()
