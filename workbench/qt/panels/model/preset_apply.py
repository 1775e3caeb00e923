"""Choosing a preset on the Model tab: its layers and its other settings, as one step.

A preset with a pretrained Backbone also sets what its weights expect (input size, three
channels, ImageNet's normalisation) and its feature views, as ``workbench init`` does
(:func:`workbench.core.model.preset_settings.preset_changes`). :class:`PresetApplier` makes
the whole choice one undoable edit and says under the chooser what else changed and why,
naming each setting as the app shows it (``feature_views (Train → Device & run)``). The note
goes when that step is undone or another experiment is opened. A later edit of those
settings is the user's: nothing puts them back, and the Model doctor says what it costs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.qt.panels.train.finding_texts import name_settings


def preset_note(name: str, changes: Any, arch: str = "") -> str:
    """The line under the chooser: what preset ``name`` set besides its layers (a
    :class:`~workbench.core.model.preset_settings.PresetChanges`) and why, each setting
    named as the app shows it; ``""`` when nothing."""
    c = changes.changes
    parts = []
    data = [f"input {c['data.input_size'][1]}×{c['data.input_size'][0]}"
            if "data.input_size" in c else "", "3 channels" if "data.channels" in c else "",
            "its mean and std" if "data.mean" in c else ""]
    if any(data):
        parts.append(f"what the pretrained {arch or 'backbone'} expects, "
                     f"{', '.join(d for d in data if d)} (Data → Settings)")
    views = c.get("training.feature_views")
    if views:
        parts.append(f"{name_settings('training.feature_views')} {views}, so the frozen "
                     f"backbone's features are cached: epochs 1-{views} compute {views} "
                     f"randomly augmented views of each image, later epochs reuse them instead "
                     f"of running the backbone every batch")
    if not parts:
        return ""
    return (f"Preset {name} also set {'; and '.join(parts)}. Ctrl+Z undoes it; if you "
            f"change them later, the Model doctor says what that costs.")


class PresetApplier(QObject):
    """Loads a chosen preset into ``panel``'s experiment (layers and settings, one undo
    step) and keeps the chooser's note in step with the undo stack."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self._index: int | None = None  # the undo stack's index right after the step
        panel.undo_stack.indexChanged.connect(self._on_index)

    def choose(self, name: str) -> bool:
        """Load preset ``name``; False when nothing changed (already all of it)."""
        from workbench.core.model.preset_settings import preset_changes
        from workbench.core.model.presets import preset_layers

        panel = self.panel
        changes = preset_changes(name, preset_layers(name), panel.experiment)
        self._index = None
        panel.presets.show_note("")
        done = panel.edits.load_preset(name, preset_layers(name), changes)
        arch = next((str((c.params or {}).get("arch", "")) for c in preset_layers(name)
                     if c.type == "Backbone"), "")
        note = preset_note(name, changes, arch) if done else ""
        if note:
            panel.presets.show_note(note)
            self._index = panel.undo_stack.index()
        return done

    def forget(self) -> None:
        """Another experiment: the note is about the last one."""
        self._index = None
        self.panel.presets.show_note("")

    @Slot(int)
    def _on_index(self, index: int) -> None:
        if self._index is not None and index < self._index:
            self.forget()  # the preset's step is undone: its note is history
