"""The preset chooser: a combo of ready-made networks and the chosen one's description.

It shows "(custom)" while the layers differ from the experiment's preset (any setting of
the network edited, a layer's own initialisation or a weight tie added, or loaded from a
file; where a Backbone's weights come from and how it trains keep the preset's name). Under
it, a note says what choosing a preset set besides the layers (:mod:`.preset_apply`). Choosing
a preset, also the one shown, only says so (:attr:`PresetChooser.preset_chosen`): the panel
replaces the layers, as an undoable edit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core.experiment import Experiment
from workbench.core.model.presets import list_presets, preset_layers, same_layers  # noqa: E501 torch-free

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel

CUSTOM = "(custom)"


class PresetChooser(QWidget):
    """"Preset: [combo] description".

    Signals
    -------
    preset_chosen(str)
        The user chose preset ``name`` (also when it is the one shown).
    """

    preset_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.presets: dict[str, str] = {}
        for name, description in list_presets():
            self.presets[name] = description
            self.combo.addItem(name)
            self.combo.setItemData(self.combo.count() - 1, description,
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip("Replace the network by a ready-made one (Ctrl+Z undoes)")
        self.combo.currentTextChanged.connect(self._on_chosen)
        # Choosing the item shown again changes no text: reload it all the same.
        self.combo.textActivated.connect(self._on_activated)
        self._emitted: str | None = None  # chosen by this activation's text change
        #: What choosing the preset set besides the layers, and why (hidden when nothing).
        self.note = MessageLabel("")
        self.note.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Preset:")
        row.addWidget(label)
        row.addWidget(name_field(label, self.combo))
        row.addWidget(self.description, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)

    def show_note(self, text: str, level: str = "info") -> None:
        """The line under the chooser saying what the preset set besides its layers
        (``""`` hides it)."""
        self.note.show_message(text, level)
        self.note.setVisible(bool(text))

    def choose(self, name: str) -> None:
        """As if the user chose ``name`` in the combo."""
        if self.combo.currentText() == name:
            self._on_chosen(name)
        else:
            self.combo.setCurrentText(name)

    @Slot(str)
    def _on_chosen(self, name: str) -> None:
        if name in self.presets:
            self._emitted = name
            self.preset_chosen.emit(name)

    @Slot(str)
    def _on_activated(self, name: str) -> None:
        emitted, self._emitted = self._emitted, None
        if name != emitted:  # the text did not change: not said yet
            self._on_chosen(name)
            self._emitted = None

    def show_for(self, experiment: Experiment) -> None:
        """Show the experiment's preset, or "(custom)" for layers that differ from it (a
        Backbone's weights file or mode is not another network: the preset's name stays)."""
        name = experiment.model.preset
        matches = name in self.presets and same_layers(preset_layers(name),
                                                         experiment.model.layers,
                                                         architecture_only=True)
        custom_index = self.combo.findText(CUSTOM)
        self.combo.blockSignals(True)
        try:
            if matches:
                if custom_index >= 0:
                    self.combo.removeItem(custom_index)
                self.combo.setCurrentText(name)
            else:
                if custom_index < 0:
                    self.combo.insertItem(0, CUSTOM)
                    custom_index = 0
                self.combo.setCurrentIndex(custom_index)
        finally:
            self.combo.blockSignals(False)
        self.description.setText(self.presets.get(
            self.combo.currentText(), "Your own network (edited, or from the experiment file)."))

