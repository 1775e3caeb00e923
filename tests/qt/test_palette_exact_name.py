"""Enter in "Search layers…" adds the layer the user named: an exact name first ("ELU", not
the ReLU listed above it), then a name starting with the text; the others stay listed."""

from __future__ import annotations

from PySide6.QtCore import Qt

from test_palette_keys import WAIT_MS, _panel, _search, _types


def test_enter_adds_the_layer_named_exactly_then_one_whose_name_starts_so(qtbot):
    panel = _panel(qtbot)
    panel.select_layer(-1)
    for text, added in (("ELU", "ELU"), ("elu", "ELU"), ("el", "ELU"), ("relu", "ReLU"),
                        ("gelu", "GELU")):
        _search(qtbot, panel, text)
        assert panel.layer_palette.tree.currentItem().text(0) == added, text
        with qtbot.waitSignal(panel.model_changed, timeout=WAIT_MS):
            qtbot.keyClick(panel.layer_palette.search, Qt.Key.Key_Return)
        assert _types(panel)[-1] == added, text
    # The other names holding the text are still listed, in their groups' order.
    _search(qtbot, panel, "elu")
    assert {"ReLU", "LeakyReLU", "PReLU", "ELU", "GELU"} <= \
        set(panel.layer_palette.visible_names())
