"""The row of controls above the training plots: smoothing, log scale, x axis, norms view."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from workbench.qt.accessible import name_field
from workbench.qt.plots.norms import NORM_KINDS, NORM_MODES

MAX_SMOOTHING = 0.999
DEFAULT_SMOOTHING = 0.9
X_AXES = ("epochs", "steps")
_SLIDER_SCALE = 1000  # slider units per 1.0 of smoothing: 0 .. 999 is 0 .. 0.999


class PlotControls(QWidget):
    """Smoothing slider, log-scale box, x-axis choice, norms mode and kind.

    The widgets are the state: the ``set_*`` methods move a widget and its signal carries
    the change, so a change made in code and one made with the mouse take the same path.

    Signals
    -------
    smoothing_changed(float)
        The EMA factor, 0 (raw) .. :data:`MAX_SMOOTHING`.
    log_scale_toggled(bool)
    x_axis_changed(str)
        One of :data:`X_AXES`.
    norms_mode_changed(str)
        One of :data:`~workbench.qt.plots.norms.NORM_MODES`.
    norms_kind_changed(str)
        One of :data:`~workbench.qt.plots.norms.NORM_KINDS`.
    """

    smoothing_changed = Signal(float)
    log_scale_toggled = Signal(bool)
    x_axis_changed = Signal(str)
    norms_mode_changed = Signal(str)
    norms_kind_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, round(MAX_SMOOTHING * _SLIDER_SCALE))
        self.smoothing_slider.setValue(round(DEFAULT_SMOOTHING * _SLIDER_SCALE))
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.setToolTip(
            "Exponential moving average of the per-batch loss: 0 shows the raw losses, "
            "0.9-0.99 shows the trend through the noise")
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(self.smoothing_label.fontMetrics()
                                             .horizontalAdvance("0.999 "))
        self.smoothing_slider.valueChanged.connect(self._on_slider_moved)

        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("Loss plots on a logarithmic y axis (late-training changes "
                                  "stay visible)")
        self.log_check.toggled.connect(self.log_scale_toggled)

        self.x_combo = QComboBox()
        self.x_combo.addItems(list(X_AXES))
        self.x_combo.setToolTip("x axis in epochs, or in optimizer steps (batches)")
        self.x_combo.currentTextChanged.connect(self.x_axis_changed)

        self.norms_mode_combo = QComboBox()
        self.norms_mode_combo.addItems(list(NORM_MODES))
        self.norms_mode_combo.setToolTip("Layer norms as one line per layer, or as a heatmap "
                                         "(layers x time, colour = log10 of the norm)")
        self.norms_mode_combo.currentTextChanged.connect(self.norms_mode_changed)
        self.norms_kind_combo = QComboBox()
        for kind in NORM_KINDS:
            self.norms_kind_combo.addItem("gradients" if kind == "grad" else "weights", kind)
        self.norms_kind_combo.setToolTip("Gradient norms show vanishing or exploding "
                                         "gradients; weight norms show layers growing")
        self.norms_kind_combo.currentIndexChanged.connect(self._on_kind_chosen)

        smoothing, x_axis, norms = QLabel("Smoothing:"), QLabel("x:"), QLabel("Layer norms:")
        name_field(smoothing, self.smoothing_slider)
        name_field(x_axis, self.x_combo, "x axis")
        name_field(norms, self.norms_kind_combo)
        name_field(None, self.norms_mode_combo, "Layer norms view")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(smoothing)
        row.addWidget(self.smoothing_slider)
        row.addWidget(self.smoothing_label)
        row.addSpacing(8)
        row.addWidget(self.log_check)
        row.addSpacing(8)
        row.addWidget(x_axis)
        row.addWidget(self.x_combo)
        row.addSpacing(8)
        row.addWidget(norms)
        row.addWidget(self.norms_kind_combo)
        row.addWidget(self.norms_mode_combo)
        row.addStretch(1)
        self._show_smoothing()

    # -- state -----------------------------------------------------------------------------
    def smoothing(self) -> float:
        return self.smoothing_slider.value() / _SLIDER_SCALE

    def set_smoothing(self, value: float) -> None:
        """Move the slider to ``value`` (clamped to 0 .. :data:`MAX_SMOOTHING`)."""
        self.smoothing_slider.setValue(round(min(max(float(value), 0.0), MAX_SMOOTHING)
                                             * _SLIDER_SCALE))

    def x_axis(self) -> str:
        return self.x_combo.currentText()

    def norms_mode(self) -> str:
        return self.norms_mode_combo.currentText()

    def norms_kind(self) -> str:
        return str(self.norms_kind_combo.currentData())

    def set_choice(self, combo: QComboBox, value: str, allowed: tuple[str, ...]) -> None:
        """Select ``value`` in one of the combos (by its data, else its text)."""
        if value not in allowed:
            raise ValueError(f"expected one of {allowed}, not {value!r}")
        index = combo.findData(value)
        combo.setCurrentIndex(index if index >= 0 else combo.findText(value))

    @Slot(int)
    def _on_slider_moved(self, _value: int) -> None:
        self._show_smoothing()
        self.smoothing_changed.emit(self.smoothing())

    @Slot(int)
    def _on_kind_chosen(self, _index: int) -> None:
        self.norms_kind_changed.emit(self.norms_kind())

    def _show_smoothing(self) -> None:
        value = self.smoothing()
        self.smoothing_label.setText("raw" if value == 0 else f"{value:.3f}".rstrip("0"))


class ControlSetters:
    """The setters of a widget holding a :class:`PlotControls` as ``controls`` (the
    training plots): each moves a control, whose signal carries the change."""

    controls: PlotControls

    def set_smoothing(self, value: float) -> None:
        """EMA factor of the per-batch loss (0 = raw .. 0.999); moves the slider."""
        self.controls.set_smoothing(value)

    def set_log_scale(self, on: bool) -> None:
        """Loss plots on a log y axis; ticks the box."""
        self.controls.log_check.setChecked(bool(on))

    def set_x_axis(self, axis: str) -> None:
        """``"epochs"`` or ``"steps"``; selects it in the combo."""
        self.controls.set_choice(self.controls.x_combo, axis, X_AXES)

    def set_norms_mode(self, mode: str) -> None:
        """``"lines"`` or ``"heatmap"``."""
        self.controls.set_choice(self.controls.norms_mode_combo, mode, NORM_MODES)

    def set_norms_kind(self, kind: str) -> None:
        """``"grad"`` or ``"weight"``."""
        self.controls.set_choice(self.controls.norms_kind_combo, kind, NORM_KINDS)
