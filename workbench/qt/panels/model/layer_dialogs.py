"""Per-layer settings beyond the parameters: weight sharing and initialisation.

:func:`share_options` lists the layers a card may tie its weights to (earlier layers of the
same type), each with the core's reason when the tie would not fit
(:func:`workbench.core.model.ties.tie_problem`). :class:`InitDialog` edits a layer's own
initialisation (``Component.init``): a weight scheme and a bias scheme, each "global"
(no override) or an :data:`~workbench.core.model.init.INITS` entry with its parameter form,
with the recommended pairing for the activation after the layer. A combination the core
refuses (a matrix scheme on a bias, a bias on a layer without one) shows the core's message
and cannot be applied; a constant weight on a hidden layer (zeros, ones, constant) is said in
orange, as the Model doctor warns of it. The dialog grows to show a scheme's explanation and
form when another is chosen (within the screen: :func:`~workbench.qt.screen_fit.
grow_to_contents`).

Both need torch (the registries): the panel opens them only once it is imported.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QVBoxLayout, QWidget)

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.model.findings import CONSTANT_INITS, WEIGHTED
from workbench.core.registry import Component

from workbench.qt.colours import follow_palette
from workbench.qt.common import MessageLabel
from workbench.qt.forms import ParamForm
from workbench.qt.panels.model.cards import format_shape
from workbench.qt.screen_fit import fit_to_screen, grow_to_contents

#: The combo's text for "no override" (followed by what the global scheme is).
GLOBAL = "global"


class ShareOption(NamedTuple):
    """One entry of the "Share weights with…" menu."""

    index: int  #: 0-based index of the layer to share with
    text: str  #: the menu text
    problem: str | None  #: why the tie would not fit (the entry is disabled), or None


def share_options(layers: Sequence[Component], summary: Any, j: int) -> list[ShareOption]:
    """The earlier layers of layer ``j``'s type, each with the core's verdict on a tie.

    Parameters
    ----------
    layers
        The experiment's layers.
    summary
        Their :class:`~workbench.core.model.builder.NetworkSummary` (resolved params), or
        ``None``: then only the type and order are checked.
    j
        The layer that would use another's weights.
    """
    from workbench.core.model.ties import share_problem, tie_problem

    options = []
    infos = summary.layers if summary is not None else []
    for i in range(j):
        if layers[i].type != layers[j].type:
            continue
        trial = list(layers)
        trial[j] = dataclasses.replace(layers[j], share=i)
        if j < len(infos) and infos[j].input_shape is not None:
            problem = tie_problem(trial, infos, j)
        else:
            problem = share_problem(trial, j)
        shape = infos[i].output_shape if i < len(infos) else None
        text = f"Layer {i + 1} ({layers[i].type}" + \
            (f" → {format_shape(shape)})" if shape is not None else ")")
        options.append(ShareOption(i, text, problem))
    return options


def layer_tensors(type_name: str, params: dict) -> dict[str, int] | None:
    """``{"weight": ndim, "bias": ndim}`` of one layer's own tensors (those it has), or
    ``None`` when the layer cannot be built with ``params`` (its card shows why)."""
    import torch

    from workbench.core.model.layers import LAYERS

    try:
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            module = LAYERS.get(type_name).builder(**params)
    except Exception:  # noqa: BLE001 - the layer's own error is shown on its card
        return None
    return {name: t.dim() for name in ("weight", "bias")
            if isinstance(t := getattr(module, name, None), torch.Tensor)}


def init_problem(comp: Component, index: int, init: dict | None,
                 params: dict | None = None) -> str | None:
    """Why ``init`` cannot be layer ``index``'s own initialisation, or ``None``.

    ``params``: the layer's resolved parameters (autos filled), to check that it has the
    weight and bias being initialised and that a matrix scheme gets a matrix.
    """
    from workbench.core.model.init import INITS, validate_layer_init

    if not init:
        return None
    where = f"model.layers[{index}].init"
    try:
        spec = validate_layer_init(init, where)
    except SpecError as e:
        return str(e)
    tensors = layer_tensors(comp.type, params if params is not None else comp.params)
    if tensors is None:
        return None
    what = f"layer {index + 1} ({comp.type})"
    if "weight" in spec:
        if "weight" not in tensors:
            return f"{where}.weight: {what} has no weight to initialise: leave it global"
        if INITS.get(spec["weight"]["type"]).meta.get("matrix") and tensors["weight"] < 2:
            return (f"{where}.weight.type: {spec['weight']['type']} needs a weight matrix but "
                    f"{what}'s weight is 1-D (one value per channel): use zeros, constant, "
                    f"normal or uniform")
    if "bias" in spec and "bias" not in tensors:
        return (f"{where}.bias: {what} has no bias (bias is off): leave the bias global or "
                f"turn its bias on")
    return None


class SchemeEditor(QWidget):
    """One tensor's scheme: "global (…)" or an INITS entry, with the entry's form.

    Signals
    -------
    changed()
        The scheme or one of its parameters was edited.
    """

    changed = Signal()

    def __init__(self, global_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        from workbench.core.model.init import INITS

        self._inits = INITS
        self.form: ParamForm | None = None
        self.combo = QComboBox()
        self.combo.addItem(global_text, None)
        for entry in INITS:
            self.combo.addItem(entry.name, entry.name)
            self.combo.setItemData(self.combo.count() - 1, entry.help,
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(self._on_scheme_chosen)
        self.help_label = QLabel("")
        self.help_label.setWordWrap(True)
        follow_palette(self.help_label)  # a quiet hint, readable light or dark
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.combo)
        self._layout.addWidget(self.help_label)

    def set_global_text(self, text: str) -> None:
        self.combo.setItemText(0, text)

    def value(self) -> dict | None:
        """``{"type": name, "params": {...}}``, or ``None`` for "global"."""
        name = self.combo.currentData()
        if name is None:
            return None
        return {"type": name, "params": self.form.values() if self.form is not None else {}}

    def set_value(self, scheme: Any) -> None:
        """Show ``scheme`` (a dict, a scheme name, or ``None`` for global)."""
        if isinstance(scheme, str):
            scheme = {"type": scheme}
        name = scheme.get("type") if isinstance(scheme, dict) else None
        i = self.combo.findData(name) if name is not None else 0
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, i))
        self.combo.blockSignals(False)
        self._show_form(dict(scheme.get("params") or {}) if isinstance(scheme, dict) else {})
        self.changed.emit()

    @Slot()
    def _on_scheme_chosen(self) -> None:
        self._show_form({})
        self.changed.emit()

    def _show_form(self, values: dict) -> None:
        if self.form is not None:
            self._layout.removeWidget(self.form)
            self.form.deleteLater()
            self.form = None
        name = self.combo.currentData()
        entry = self._inits.get(name) if name is not None else None
        self.help_label.setText(entry.help if entry is not None else
                                "No override: this layer follows the experiment's scheme.")
        if entry is not None and entry.params:
            self.form = ParamForm(entry, values)
            self.form.changed.connect(lambda _: self.changed.emit())
            self._layout.addWidget(self.form)
            if self.isVisible():
                self.form.show()  # now, not at the next event loop: its room is measured


class InitDialog(QDialog):
    """Layer ``index``'s own initialisation: a weight and a bias scheme.

    Parameters
    ----------
    layers
        The experiment's layers (for the recommendation and the layer's current ``init``).
    index
        The layer.
    global_init
        The experiment's scheme (``experiment.init``), named in the "global" entries.
    params
        The layer's resolved parameters (autos filled), for the checks; its own by default.

    After ``accepted``, :meth:`value` is the new ``Component.init`` (``None``: global).
    """

    def __init__(self, layers: Sequence[Component], index: int, global_init: Component,
                 params: dict | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        from workbench.core.model.init import recommended_init, recommended_scheme

        self.comp = layers[index]
        self.index = index
        self._layers = list(layers)
        self._params = params
        self._global = global_init
        self.setWindowTitle(f"Initialisation of layer {index + 1} ({self.comp.type})")
        self.setMinimumWidth(600)
        intro = QLabel(f"How layer {index + 1}'s weight and bias get their starting values. "
                       f"“{GLOBAL}” follows the experiment's scheme ({global_init.type}); "
                       f"anything else overrides it for this layer only.")
        intro.setWordWrap(True)
        self.weight = SchemeEditor(f"{GLOBAL} ({global_init.type})")
        self.bias = SchemeEditor(GLOBAL)
        boxes = QHBoxLayout()
        for title, editor in (("Weight", self.weight), ("Bias", self.bias)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(editor)
            boxes.addWidget(box, 1)

        self._recommended = recommended_scheme(layers, index)
        sentence = recommended_init(layers, index)
        self.recommendation = QLabel(
            f"Recommended: {sentence}." if sentence else
            "No recommendation: no activation follows this layer before the next layer with "
            "weights (an output layer, say), or it has no weight matrix.")
        self.recommendation.setWordWrap(True)
        self.use_recommended = QPushButton("Use recommended")
        self.use_recommended.setToolTip("Set the weight scheme to the recommended one and "
                                        "zero the bias")
        self.use_recommended.setEnabled(self._recommended is not None)
        self.use_recommended.clicked.connect(self.apply_recommended)
        rec_row = QHBoxLayout()
        rec_row.addWidget(self.recommendation, 1)
        rec_row.addWidget(self.use_recommended, 0, Qt.AlignmentFlag.AlignTop)

        self.message = MessageLabel("")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        reset = self.buttons.addButton("All global", QDialogButtonBox.ButtonRole.ResetRole)
        reset.setToolTip("Remove this layer's own initialisation")
        reset.clicked.connect(lambda: (self.weight.set_value(None), self.bias.set_value(None)))

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(rec_row)
        layout.addLayout(boxes)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        init = self.comp.init or {}
        self.weight.set_value(init.get("weight"))
        self.bias.set_value(init.get("bias"))
        self.weight.changed.connect(self._check)
        self.bias.changed.connect(self._check)
        self._check()
        fit_to_screen(self, 600, self.sizeHint().height())

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def value(self) -> dict | None:
        """The layer's ``init`` as chosen: ``{"weight": ..., "bias": ...}`` (only the keys
        not left global), or ``None`` when both are global."""
        out = {key: v for key, v in (("weight", self.weight.value()),
                                     ("bias", self.bias.value())) if v is not None}
        return out or None

    def problem(self) -> str | None:
        """Why the chosen schemes cannot be applied, or ``None``."""
        try:
            return init_problem(self.comp, self.index, self.value(), self._params)
        except WorkbenchError as e:  # pragma: no cover - init_problem catches its own
            return str(e)

    @Slot()
    def apply_recommended(self) -> None:
        if self._recommended is not None:
            self.weight.set_value(self._recommended.to_dict())
            self.bias.set_value({"type": "zeros"})

    @Slot()
    def _check(self) -> None:
        weight = self.weight.value()
        follows = weight["type"] if weight is not None else self._global.type
        # Without its own scheme the bias follows the weight's: zeroed, or PyTorch's own.
        kept = "PyTorch default" if follows == "default" else "zeros"
        self.bias.set_global_text(f"{GLOBAL} ({kept})")
        problem = self.problem()
        if problem:
            self.message.show_message(f"Cannot apply: {problem}", "error")
        elif self.value() is None:
            self.message.show_message("Both global: this layer follows the experiment's "
                                      "scheme.")
        elif weight is not None and weight["type"] in CONSTANT_INITS and self._hidden():
            such = ", such as the recommended one" if self._recommended is not None else ""
            self.message.show_message(
                f"This layer gets its own initialisation, but with {weight['type']} every "
                f"unit of it starts with the same weights and stays the same as the others: "
                f"the layer learns like a single unit (the Model doctor warns of it). "
                f"Choose a random scheme{such}.", "warning")
        else:
            self.message.show_message("This layer gets its own initialisation.", "ok")
        self.ok_button.setEnabled(problem is None)
        if self.isVisible():  # the scheme's explanation, its form, this line: all in view
            grow_to_contents(self)

    def _hidden(self) -> bool:
        """Whether the layer has weights and another layer with weights follows it (a
        constant output layer trains fine: the Model doctor's rule)."""
        types = [layer.type for layer in self._layers]
        return types[self.index] in WEIGHTED and any(t in WEIGHTED
                                                     for t in types[self.index + 1:])


__all__ = ["GLOBAL", "InitDialog", "SchemeEditor", "ShareOption",
           "init_problem", "layer_tensors", "share_options"]
