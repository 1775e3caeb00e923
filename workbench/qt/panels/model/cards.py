"""One layer's card in the network stack (:mod:`.stack`).

A :class:`LayerCard` shows a layer's index, type, parameter form (built from the registry
declarations by :class:`~workbench.qt.forms.ParamForm`), output shape, parameter count and
multiply-adds; a layer that does not fit turns red with the builder's message. Badges say
when it uses an earlier layer's weights (a tie) or has its own initialisation; a Backbone
card also shows what training will do about its pretrained weights and offers its
preprocessing. Dragging a card (by anything but its editors) carries its index under
:data:`LAYER_INDEX_MIME`. Its "⋯" button opens its menu, by mouse or keyboard
(:mod:`.card_keys`); its colours suit a light or a dark palette (:mod:`.card_style`); its
form fits a narrow window (:mod:`.card_form`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QDrag, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError

from workbench.qt.colours import inherited_palette, text_look
from workbench.qt.forms import ParamForm
from workbench.qt.panels.model.card_form import FORM_COLUMNS, fit_form_to_card
from workbench.qt.panels.model.card_style import card_palette, frame_pen
from workbench.qt.panels.model.weights_file import add_choose_button

#: Mime type of a card drag: the card's 0-based index, as ASCII digits.
LAYER_INDEX_MIME = "application/x-workbench-layer-index"


def format_shape(shape: Any) -> str:
    return "?" if shape is None else "(" + ", ".join(str(int(s)) for s in shape) + ")"


def format_count(n: int) -> str:
    """A large count readably: 1,234 below a million, else 1.23 M / 4.5 G."""
    n = int(n or 0)
    if n < 1_000_000:
        return f"{n:,}"
    for unit, size in (("G", 1e9), ("M", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,}"  # pragma: no cover


def format_settings(entry: Any, given: dict, resolved: dict) -> str:
    """Non-default settings, with automatically filled ones marked ``(auto)``."""
    defaults = entry.defaults() if entry is not None else {}
    parts = []
    for name, value in resolved.items():
        if given.get(name, defaults.get(name)) is None:
            parts.append(f"{name}={value} (auto)" if value is not None else f"{name}=auto")
        elif name not in defaults or value != defaults[name]:
            parts.append(f"{name}={value}")
    return ", ".join(parts)


def init_badge(init: Any) -> str:
    """The card's short description of a layer's own init, e.g. ``"own initialisation:
    weight kaiming_normal, bias zeros"``."""
    if not isinstance(init, dict) or not init:
        return "own initialisation"

    def name(v: Any) -> str:
        return v if isinstance(v, str) else str(v.get("type", "?")) if isinstance(v, dict) \
            else "?"

    return "own initialisation: " + ", ".join(f"{k} {name(init[k])}"
                                              for k in ("weight", "bias") if k in init)


def showable_values(entry: Any, params: Any) -> dict:
    """The values of ``params`` a form can show: each one its parameter accepts.

    A hand-edited file may hold a word where a number goes; the form then shows the default
    there while the card shows the builder's message about the bad value.
    """
    if not isinstance(params, dict):
        return {}
    out = {}
    for p in entry.params:
        if p.name in params:
            try:
                out[p.name] = p.validate(params[p.name], p.name)
            except (WorkbenchError, TypeError, ValueError):
                continue
    return out


def card_signature(comp: Any, entry: Any) -> tuple:
    """What a card is built from besides parameter values: when it changes, a new card."""
    return (comp.type, getattr(comp, "share", None), bool(getattr(comp, "init", None)),
            entry is not None)


class LayerCard(QFrame):
    """One layer: header (grip, index, type, shape, size), parameter form, misfit message.

    Parameters
    ----------
    index
        0-based position in the network.
    comp
        The layer's Component (read for the form's values and the weight-sharing badge).
    entry
        Its registry entry, or ``None`` before torch is imported or for an unknown type
        (then the card shows ``note`` instead of a form).

    Signals
    -------
    params_edited(int, dict)
        The user edited a parameter: the card's index and every parameter's value.
    clicked(int)
        The card was clicked (select it).
    menu_requested(int, QPoint)
        Right-click or the "⋯" button: the card's index and a global position.
    preprocessing_requested(int)
        A Backbone card's "Use this backbone's preprocessing" button: the card's index.
    """

    params_edited = Signal(int, dict)
    clicked = Signal(int)
    menu_requested = Signal(int, QPoint)
    preprocessing_requested = Signal(int)

    def __init__(self, index: int, comp: Any, entry: Any = None, note: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        self.type = comp.type
        self.entry = entry
        self.signature = card_signature(comp, entry)
        self._selected = False
        self._misfit = False
        self.notes_level = ""  # a Backbone's notes' colour: "", "warning" or "error"
        self._key = "normal"  # the frame: selected, misfit (_restyle)
        self._press: QPoint | None = None
        self.setObjectName("layerCard")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(
            lambda pos: self.menu_requested.emit(self.index, self.mapToGlobal(pos)))

        grip = QLabel("⠿")
        grip.setToolTip("Drag to move this layer")
        grip.setCursor(Qt.CursorShape.OpenHandCursor)
        self.index_label = QLabel(f"{index + 1}")
        self.index_label.setMinimumWidth(22)
        self.type_label = QLabel(f"<b>{comp.type}</b>")
        self.type_label.setToolTip(entry.help if entry is not None else note)
        badges, tips = [], []
        self.share = getattr(comp, "share", None)
        if self.share is not None:
            badges.append(f"⇄ shares layer {self.share + 1}'s weight")
            tips.append(f"This layer uses layer {self.share + 1}'s weight and bias (one set of "
                        f"parameters, counted once): right-click › Stop sharing to untie it.")
        if getattr(comp, "init", None):
            badges.append(init_badge(comp.init))
            tips.append("This layer has its own initialisation, overriding the experiment's: "
                        "right-click › Initialisation… to change it.")
        self.badge_label = QLabel(" · ".join(badges))
        self.badge_label.setToolTip("\n".join(tips))
        self.shape_label = QLabel("")
        self.shape_label.setToolTip("Output shape (channels, height, width) or (features), "
                                    "for one image")
        self.params_label = QLabel("")
        self.params_label.setToolTip("Learnable parameters of this layer")
        self.macs_label = QLabel("")
        self.macs_label.setToolTip("Multiply-adds of one forward pass for one image")
        for lbl in (self.shape_label, self.params_label, self.macs_label):
            lbl.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.shape_label.setMinimumWidth(110)
        self.params_label.setMinimumWidth(90)
        self.macs_label.setMinimumWidth(90)
        # The card's menu, a Tab stop of every card (a ReLU's only one): Space, Enter, the
        # Menu key or Shift+F10 open it, Up and Down go to the next card (.card_keys).
        more = self.more_button = QToolButton()
        more.setText("⋯")
        more.setAutoRaise(True)
        more.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        more.setAccessibleName(f"Layer {index + 1} ({comp.type}) menu")
        more.setToolTip("Move, duplicate, delete, share weights or set the initialisation "
                        "of this layer")
        more.clicked.connect(lambda: self.menu_requested.emit(
            self.index, more.mapToGlobal(QPoint(0, more.height()))))
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        for w in (grip, self.index_label, self.type_label, self.badge_label):
            header.addWidget(w)
        header.addStretch(1)
        for w in (self.shape_label, self.params_label, self.macs_label, more):
            if w is not self.shape_label:  # right-aligned texts that fill their label:
                header.addSpacing(10)      # "(64, 20, 20)18,496 params" ran together
            header.addWidget(w)

        self.form: ParamForm | None = None
        self.weights_button: QPushButton | None = None  # a Backbone's "Choose…" file button
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.setSpacing(3)
        layout.addLayout(header)
        if entry is not None and entry.params:
            self.form = ParamForm(entry, showable_values(entry, comp.params),
                                  columns=FORM_COLUMNS)
            fit_form_to_card(self.form)
            if comp.type == "Backbone":
                self.weights_button = add_choose_button(self.form)
            self.form.changed.connect(lambda values: self.params_edited.emit(self.index, values))
            # A drop on a number box would be taken for text: let the card receive it.
            for child in self.form.findChildren(QAbstractSpinBox) + \
                    self.form.findChildren(QLineEdit):
                child.setAcceptDrops(False)
            layout.addWidget(self.form)
        elif entry is None and note:
            noted = QLabel(note)
            noted.setWordWrap(True)
            layout.addWidget(noted)
        # Who uses this layer's weights (set by the panel: it depends on the other layers).
        self.shared_by_label = QLabel("")
        self.shared_by_label.setVisible(False)
        layout.addWidget(self.shared_by_label)
        self.notes_label: QLabel | None = None
        self.preprocessing_button: QPushButton | None = None
        if comp.type == "Backbone" and entry is not None:
            self.notes_label = QLabel("")
            self.notes_label.setWordWrap(True)
            self.notes_label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse)
            self.notes_label.setVisible(False)
            self.preprocessing_button = QPushButton("Use this backbone's preprocessing")
            self.preprocessing_button.setToolTip(
                "Set the Data tab's normalisation (mean, std) and input size to what this "
                "backbone's pretrained weights expect (Ctrl+Z undoes it)")
            self.preprocessing_button.clicked.connect(
                lambda: self.preprocessing_requested.emit(self.index))
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(self.preprocessing_button)
            row.addStretch(1)
            layout.addWidget(self.notes_label)
            layout.addLayout(row)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # it may quote a path
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self._restyle()

    # -- state -----------------------------------------------------------------------------
    @property
    def misfit(self) -> bool:
        """True while the layer does not fit (the card is red)."""
        return self._misfit

    def show_info(self, info: Any) -> None:
        """Show a :class:`~workbench.core.model.builder.LayerInfo` (or ``None``: unknown)."""
        error = getattr(info, "error", None)
        if info is None:
            shape, params, macs = "", "", ""
        elif error:
            shape, params, macs = "does not fit", "", ""
        elif info.input_shape is None:  # after a misfit: nothing is known here
            shape, params, macs = "→ ?", "", ""
            self.shape_label.setToolTip("Unknown until the layer above that does not fit is "
                                        "fixed")
        else:
            shape = "→ " + format_shape(info.output_shape)
            params = f"{format_count(info.num_params)} params"
            macs = f"{format_count(getattr(info, 'macs', 0) or 0)} MACs"
        shared_with = getattr(info, "shared_with", None) if not error and info else None
        if shared_with is not None:
            params = f"{format_count(getattr(info, 'shared_params', 0))} params (shared)"
            self.params_label.setToolTip(
                f"Layer {shared_with + 1}'s parameters, used here too: the totals count "
                f"them once, at layer {shared_with + 1}")
        else:
            self.params_label.setToolTip("Learnable parameters of this layer")
        self.shape_label.setText(shape)
        self.params_label.setText(params)
        self.macs_label.setText(macs)
        if info is not None and info.input_shape is not None and not error:
            self.shape_label.setToolTip(f"input {format_shape(info.input_shape)} → output "
                                        f"{format_shape(info.output_shape)}")
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        self._misfit = bool(error)
        self.setProperty("misfit", self._misfit)
        self.setToolTip(error or "")
        if self.form is not None and info is not None:
            resolved = showable_values(self.entry, getattr(info, "params", None))
            if error or info.input_shape is None:
                # At or after a misfit the autos are unresolved: "?", except one that is
                # another of the layer's settings (a pool's stride: its kernel_size).
                sources = self.entry.meta.get("auto", {})
                resolved = {n: resolved.get(sources.get(n)) for n in self.form.auto_boxes}
                self.form.show_unknown_autos(n for n, v in resolved.items() if v is None)
            self.form.show_auto_values({k: v for k, v in resolved.items() if v is not None})
        self._restyle()

    def set_shared_by(self, users: list[int]) -> None:
        """The later layers (0-based) that use this layer's weights (a fitting tie)."""
        if users:
            names = ", ".join(str(u + 1) for u in users)
            self.shared_by_label.setText(f"⇄ weight also used by layer"
                                         f"{'s' if len(users) > 1 else ''} {names}")
        self.shared_by_label.setVisible(bool(users))

    def set_notes(self, notes: list[str]) -> None:
        """A Backbone card's notes on its pretrained weights (from the core)."""
        if self.notes_label is None:
            return
        # The card names the layer already: "layer 1 (Backbone resnet18): no ..." -> "No ..."
        texts = [n.split("): ", 1)[1] if "): " in n else n for n in notes]
        self.notes_label.setText("\n".join(t[:1].upper() + t[1:] for t in texts))
        stop = any("training will stop" in n for n in notes)  # a missing or broken file
        warn = any("random" in n or "not found" in n for n in notes)
        self.notes_level = "error" if stop else "warning" if warn else ""
        self.notes_label.setVisible(bool(notes))
        self._restyle()

    def set_preprocessing_in_use(self, arch: str, in_use: bool) -> None:
        """Grey out "Use this backbone's preprocessing" while the data settings already
        are ``arch``'s (clicking it would change nothing)."""
        button = self.preprocessing_button
        if button is None:
            return
        button.setEnabled(not in_use)
        button.setText("Data settings use this backbone's preprocessing" if in_use else
                       "Use this backbone's preprocessing")
        button.setToolTip(
            f"The Data tab's input size, mean and std are what {arch}'s pretrained weights "
            f"expect." if in_use else
            "Set the Data tab's normalisation (mean, std) and input size to what this "
            "backbone's pretrained weights expect (Ctrl+Z undoes it)")

    def set_values(self, params: dict) -> None:
        """Show ``params`` in the form (after undo/redo) without emitting."""
        if self.form is not None:
            full = {**(self.entry.defaults() if self.entry is not None else {}),
                    **showable_values(self.entry, params)}
            if self.form.values() != full:
                self.form.set_values(full)

    def set_selected(self, selected: bool) -> None:
        self._selected = selected
        self._restyle()

    def _restyle(self) -> None:
        """The frame (selected, misfit) and the texts' colours, on the palette the card is
        shown on: again when that changes (:meth:`changeEvent`)."""
        self._key = ("misfit" if self._misfit else "normal") if not self._selected else \
            ("misfit-selected" if self._misfit else "selected")
        self.setPalette(card_palette(inherited_palette(self), self._misfit))
        for label, level, bold in ((self.badge_label, "accent", True),
                                   (self.shared_by_label, "accent", False),
                                   (self.error_label, "error", True),
                                   (self.notes_label, self.notes_level, False)):
            if label is not None:  # (a palette or font as it was changes nothing)
                palette, font = text_look(label, level)
                font.setBold(bold)
                label.setPalette(palette)
                label.setFont(font)
        self.update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ParentChange):
            self._restyle()

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt override)
        """The frame, rounded, around the card's background (a misfit's red)."""
        colour, width = frame_pen(self._key, inherited_palette(self))
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, width))
        if self._misfit:
            painter.setBrush(self.palette().color(QPalette.ColorRole.Window))
        half = width / 2  # the pen's middle: all of it inside the card
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(half, half, -half, -half), 5, 5)
        painter.end()

    # -- mouse: select, and drag by anything that is not an editor ----------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802  (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.clicked.emit(self.index)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - self._press).manhattanLength() < \
                QApplication.startDragDistance():
            return
        self._press = None
        drag = QDrag(self)
        drag.setMimeData(card_mime(self.index))
        drag.setPixmap(self.grab().scaledToWidth(min(self.width(), 320),
                                                 Qt.TransformationMode.SmoothTransformation))
        drag.exec(Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._press = None
        super().mouseReleaseEvent(event)


def card_mime(index: int) -> QMimeData:
    """The mime data a card drag carries (also for tests that simulate the drop)."""
    mime = QMimeData()
    mime.setData(LAYER_INDEX_MIME, str(int(index)).encode("ascii"))
    return mime
