"""The line above the Model doctor never says the network is fine, in green, right above
the doctor's warnings (from a UI review: "The layers fit together." over 2 warnings)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.core.experiment import Experiment
from workbench.qt.panels.model.doctor import fit_message
from workbench.qt.panels.model.panel import ModelPanel

FITS = SimpleNamespace(error="")
LAYERS = ["a layer"]


def finding(severity: str, title: str = "something") -> SimpleNamespace:
    return SimpleNamespace(severity=severity, title=title)


def test_no_findings_or_notes_only_fit_together_in_green():
    assert fit_message(LAYERS, FITS, []) == ("The layers fit together.", "ok")
    assert fit_message(LAYERS, FITS, [finding("info")]) == ("The layers fit together.", "ok")


@pytest.mark.parametrize("count, words", [(1, "1 warning below"), (2, "2 warnings below")])
def test_warnings_are_pointed_to_in_the_warning_colour(count, words):
    findings = [finding("warning") for _ in range(count)] + [finding("info")]
    text, level = fit_message(LAYERS, FITS, findings)
    assert level == "warning"
    assert text == f"The layers fit together, but the Model doctor has {words}."


def test_an_error_still_wins():
    text, level = fit_message(LAYERS, FITS, [finding("warning"), finding("error", "too big")])
    assert level == "error" and "cannot be trained" in text and "too big" in text


def test_the_panel_line_follows_the_doctor(qtbot):
    exp = Experiment()
    exp.data.input_size = [16, 16]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.model_changed, timeout=30000):
        panel.set_preset("seed-cnn")
    if any(f.severity == "warning" for f in panel.doctor.findings):
        pytest.skip("the seed CNN has warnings of its own")
    assert panel.message.text() == "The layers fit together."
    last = len(exp.model.layers)
    with qtbot.waitSignal(panel.model_changed, timeout=30000):
        panel.add_layer("Softmax", last)  # a warning: Softmax before CrossEntropyLoss
    warnings = [f for f in panel.doctor.findings if f.severity == "warning"]
    assert warnings
    assert panel.message.level == "warning"
    assert "but the Model doctor has" in panel.message.text()
