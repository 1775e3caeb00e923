"""Choosing a preset on the Model tab: its layers and its other settings, as one step.

A preset with a pretrained Backbone also sets what its weights expect (input size, three
channels, ImageNet's normalisation) and its feature views, as ``workbench init`` does
(:func:`workbench.core.model.preset_settings.preset_changes`). :class:`PresetApplier` makes
the whole choice one undoable edit and says under the chooser what else changed and why,
naming each setting as the app shows it (``feature_views 2 (Train → Device & run)``). The
note goes when that step is undone or another experiment is opened. A later edit of those
settings is the user's: the Model doctor says what it costs.

Choosing a preset without a Backbone afterwards puts back, in the same step, the settings
that still hold what the Backbone's preset set: what the dataset chooses for the new network
(its images' size and colour mode, from the Data tab's published scan and header summary),
or the experiment's defaults without a dataset; the note says what was put back and why,
and which settings stay because the user changed them (:func:`put_back_note`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot

from workbench.qt.panels.train.finding_texts import SETTING_PLACES


def _setting(path: str, value: Any) -> str:
    """``feature_views 2 (Train → Device & run)``: a setting with its value, then where."""
    label, place = SETTING_PLACES[path]
    return f"{label} {value} ({place})"


def preset_note(name: str, changes: Any, arch: str = "", no_weights: bool = False) -> str:
    """The line under the chooser: what preset ``name`` set besides its layers (a
    :class:`~workbench.core.model.preset_settings.PresetChanges`) and why, each setting
    named as the app shows it; ``""`` when nothing. ``no_weights``: the Backbone's
    pretrained weights are not on this machine (its card says where to put them)."""
    if getattr(changes, "put_back", None) or getattr(changes, "kept", None):
        return put_back_note(name, changes)  # a preset without a Backbone
    c = changes.changes
    parts = []
    data = [f"input {c['data.input_size'][1]}×{c['data.input_size'][0]}"
            if "data.input_size" in c else "", "3 channels" if "data.channels" in c else "",
            "its mean and std" if "data.mean" in c else ""]
    if any(data):
        missing = (" (its pretrained weights are not on this machine yet: see the card)"
                   if no_weights else "")
        parts.append(f"what the pretrained {arch or 'backbone'} expects{missing}, "
                     f"{', '.join(d for d in data if d)} (Data → Settings)")
    views = c.get("training.feature_views")
    if views:
        parts.append(f"{_setting('training.feature_views', views)}, so the frozen "
                     f"backbone's features are cached: epochs 1-{views} compute {views} "
                     f"randomly augmented views of each image, later epochs reuse them instead "
                     f"of running the backbone every batch")
    if not parts:
        return ""
    return (f"Preset {name} also set {'; and '.join(parts)}. Ctrl+Z undoes it; if you "
            f"change them later, the Model doctor says what that costs.")


def _data_words(values: dict) -> list[str]:
    """Data settings in words, input size first: ``["input 40×40", "1 channel", "mean and
    std 0.5"]``."""
    words = []
    if "data.input_size" in values:
        h, w = values["data.input_size"]
        words.append(f"input {w}×{h}")
    if "data.channels" in values:
        n = int(values["data.channels"])
        words.append(f"{n} channel{'s' if n != 1 else ''}")
    mean, std = values.get("data.mean"), values.get("data.std")
    fmt = lambda v: ", ".join(f"{float(x):g}" for x in dict.fromkeys(v))  # noqa: E731
    if mean is not None and std is not None and fmt(mean) == fmt(std):
        words.append(f"mean and std {fmt(mean)}")
    else:
        words += [f"{n} {fmt(v)}" for n, v in (("mean", mean), ("std", std)) if v is not None]
    return words


def _settings_words(values: dict) -> str:
    """Settings in words, each group followed by where it is shown."""
    parts = []
    data = _data_words(values)
    if data:
        parts.append(f"{', '.join(data)} (Data → Settings)")
    parts += [_setting(p, v) for p, v in values.items() if not p.startswith("data.")]
    return "; ".join(parts)


def put_back_note(name: str, changes: Any) -> str:
    """The line under the chooser when preset ``name`` (no Backbone) put back what the
    network it replaced had set (``changes.put_back``), and kept what the user changed
    since (``changes.kept``)."""
    back = {p: changes.changes[p] for p in changes.put_back}
    source = ("what the dataset chooses for it" if changes.source == "dataset" else
              "the experiment's defaults (no dataset is open)")
    text = ""
    if back:
        larger = (f" (its input size would make {name} a much larger, slower network)"
                  if "data.input_size" in back else "")
        text = (f"Preset {name} put back {source}: {_settings_words(back)}. The "
                f"{changes.left} preset had set them for its pretrained backbone, which "
                f"{name} does not have{larger}. Ctrl+Z undoes it.")
    if changes.kept:
        text += (f"{' ' if text else ''}Kept as you changed them: "
                 f"{_settings_words(changes.kept)}.")
    return text


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

        panel, layers = self.panel, preset_layers(name)
        changes = preset_changes(name, layers, panel.experiment, self._dataset())
        self._index = None
        panel.presets.show_note("")
        done = panel.edits.load_preset(name, layers, changes)
        backbone = next((c for c in layers if c.type == "Backbone"), None)
        arch = str((backbone.params or {}).get("arch", "")) if backbone is not None else ""
        note = preset_note(name, changes, arch, self._no_weights(backbone)) if done else ""
        if note:
            panel.presets.show_note(note)
            self._index = panel.undo_stack.index()
        return done

    def _dataset(self) -> tuple[Any, Any] | None:
        """``(index, image summary or None)`` of the experiment's dataset as the Data tab
        published them, None when no scan of that folder is known."""
        from workbench.qt.panels.data.advice import same_folder

        current, folder = self.panel.current, self.panel.experiment.data.folder
        index, published = current.dataset, current.images_summary
        summary = published[1] if published and same_folder(published[0], folder) else None
        if index is None or (summary is None and
                             not same_folder(getattr(index, "root", ""), folder)):
            return None
        return index, summary

    def _no_weights(self, backbone: Any) -> bool:
        """Whether ``backbone`` (a Backbone Component, or None) is to start from pretrained
        weights that are not on this machine (told once torch is imported)."""
        if backbone is None or not self.panel.torch_ready or \
                (backbone.params or {}).get("weights") == "random":
            return False
        from workbench.core.model.backbone_weights import expects_pretrained

        return not expects_pretrained(dict(backbone.params or {}))

    def forget(self) -> None:
        """Another experiment: the note is about the last one."""
        self._index = None
        self.panel.presets.show_note("")

    @Slot(int)
    def _on_index(self, index: int) -> None:
        if self._index is not None and index < self._index:
            self.forget()  # the preset's step is undone: its note is history
