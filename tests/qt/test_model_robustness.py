"""Model panel robustness: random layer stacks, valid or not, never break the panel.

50 seeded random networks (random layer types from the registry, parameters valid or not,
random weight ties and per-layer inits, some nonsense) are shown with ``set_experiment``
and edited (add, move, delete, duplicate, tie, undo, redo, menus, the init dialog). Nothing
may raise, and every card must show a shape or say what is wrong.
"""

from __future__ import annotations

import random

from PySide6.QtWidgets import QMenu

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.layers import LAYERS
from workbench.qt.panels.model.panel import ModelPanel

SEEDS = range(50)
# Backbones are slow to build (even on the meta device): only the small ones, and rarely.
_BACKBONES = ("resnet18", "mobilenet_v3_small")


def _value(rng: random.Random, p) -> object:
    """A value for parameter ``p``: mostly valid, sometimes wrong in a way a hand-edited
    file could be."""
    roll = rng.random()
    if roll < 0.12:  # wrong type or out of range
        return rng.choice([-3, 0, 10**9, "abc", None, [1, 2, 3], 2.5, True, {"x": 1}])
    if p.name == "arch":
        return rng.choice(_BACKBONES)
    if p.name == "weights_file":
        return ""
    if p.choices:
        return rng.choice(list(p.choices))
    if p.type is bool:
        return rng.random() < 0.5
    if p.type is int:
        lo = int(p.min) if p.min is not None else 1
        return rng.randint(lo, min(lo + 40, int(p.max) if p.max is not None else lo + 40))
    if p.type is float:
        lo = float(p.min) if p.min is not None else 0.0
        hi = float(p.max) if p.max is not None else lo + 1.0
        return round(rng.uniform(lo, min(hi, lo + 2.0)), 3)
    if p.type is list:
        return [rng.randint(1, 5)] * rng.choice(list(p.length or (2,)))
    return p.default


def _random_layers(rng: random.Random) -> list[Component]:
    names = [n for n in LAYERS.names() if n != "Backbone"]
    layers = []
    for j in range(rng.randint(0, 9)):
        name = "Backbone" if rng.random() < 0.04 else rng.choice(names)
        if rng.random() < 0.03:
            name = "NoSuchLayer"
        entry = LAYERS.get(name) if name in LAYERS else None
        params = {}
        if entry is not None:
            for p in entry.params:
                if rng.random() < 0.5:
                    params[p.name] = _value(rng, p)
        if rng.random() < 0.05:
            params["bogus"] = 1
        comp = Component(name, params)
        if j and rng.random() < 0.25:
            comp.share = rng.choice([rng.randrange(j), rng.randrange(j), j, -1, 99])
        if rng.random() < 0.15:
            comp.init = rng.choice([{"weight": {"type": "xavier_uniform"}},
                                    {"bias": {"type": "kaiming_normal"}},
                                    {"weight": "orthogonal", "bias": "zeros"},
                                    {"weight": {"type": "nope"}}, {"colour": 1}, "junk"])
        layers.append(comp)
    return layers


def _check_cards(panel: ModelPanel) -> None:
    panel.refresh()
    layers = panel.experiment.model.layers
    assert len(panel.stack.cards) == len(layers)
    for i, card in enumerate(panel.stack.cards):
        assert card.type == layers[i].type
        shows_error = not card.error_label.isHidden() and card.error_label.text()
        assert card.shape_label.text() or shows_error, (i, layers[i])
    assert panel.message.text()


def _edit(panel: ModelPanel, rng: random.Random) -> None:
    n = len(panel.experiment.model.layers)
    op = rng.choice(["add", "move", "delete", "duplicate", "undo", "redo", "share", "menu",
                     "init", "params"])
    i = rng.randrange(n) if n else 0
    if op == "add":
        panel.add_layer(rng.choice(LAYERS.names()[:-1]), rng.randint(0, n))
    elif op == "move" and n:
        panel.move_layer(i, rng.randrange(n))
    elif op == "delete" and n:
        panel.remove_layer(i)
    elif op == "duplicate" and n:
        panel.duplicate_layer(i)
    elif op == "undo":
        panel.undo_stack.undo()
    elif op == "redo":
        panel.undo_stack.redo()
    elif op == "share" and n:
        panel.tools.share_weights(i, rng.choice([None, rng.randrange(i + 1)]))
    elif op == "menu" and n:
        menu = QMenu(panel)
        panel.tools.add_layer_actions(menu, i)
        menu.deleteLater()
    elif op == "init" and n:
        dialog = panel.tools.edit_init(i)
        if dialog is not None:
            dialog.problem()
            dialog.reject()
    elif op == "params" and n and panel.stack.cards[i].form is not None:
        panel.set_layer_params(i, panel.stack.cards[i].form.values())


def test_random_stacks_never_break_the_panel(qtbot):
    exp = Experiment()
    exp.data.input_size = [32, 32]
    panel = ModelPanel(exp, num_classes=4)
    qtbot.addWidget(panel)
    for seed in SEEDS:
        rng = random.Random(seed)
        exp = Experiment()
        exp.data.input_size = [32, 32]
        exp.model.layers = _random_layers(rng)
        panel.set_experiment(exp)
        _check_cards(panel)
        for _ in range(6):
            _edit(panel, rng)
            _check_cards(panel)
