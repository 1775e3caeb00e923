"""A Backbone card says, before Start, that its weights file is a download cut short or a
path that does not exist (both stop training), in red, whatever ``weights`` says."""

from __future__ import annotations

import pytest
import torch
import torchvision

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.model.panel import ModelPanel

from qt_helpers import shown_level

@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


def _card(qtbot, weights_file: str):
    exp = Experiment()
    exp.data.input_size = [64, 64]
    exp.model.layers = [Component("Backbone", {"arch": "resnet18", "weights": "auto",
                                               "weights_file": weights_file}),
                        Component("Linear", {"out_features": None})]
    panel = ModelPanel(exp, num_classes=3)
    qtbot.addWidget(panel)
    panel.refresh()
    return panel.stack.cards[0]


def test_a_weights_file_cut_short_is_a_red_note_before_start(qtbot, tmp_path):
    whole = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), whole)
    cut = tmp_path / "resnet18-cut.pth"
    cut.write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])
    card = _card(qtbot, str(cut))
    text = card.notes_label.text()
    assert text.startswith(f"The weights file {cut} is incomplete (a download cut short?)")
    assert "Delete it and download it again" in text and "will be loaded" not in text
    assert "training will stop" in text and shown_level(card.notes_label) == "error"
    assert "will be loaded from" in _card(qtbot, str(whole)).notes_label.text()


def test_a_weights_file_that_does_not_exist_is_a_red_note_with_weights_auto(qtbot, tmp_path):
    typo = tmp_path / "resnt18.pth"
    card = _card(qtbot, str(typo))
    text = card.notes_label.text()
    assert text.startswith(f"The weights file {typo} does not exist. Correct weights_file")
    assert "training from random weights" not in text
    assert "training will stop" in text and shown_level(card.notes_label) == "error"
