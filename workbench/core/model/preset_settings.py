"""What choosing a preset sets besides its layers, and why.

A preset with a pretrained Backbone (``resnet18``) is only worth its ImageNet features when
the images reach it as its weights were trained on: its input size and normalisation
(:func:`~workbench.core.data.defaults.pretrained_preprocessing`: 224x224 and ImageNet's mean
and std for torchvision's networks) and three channels. :func:`preset_changes` says which of
those the experiment does not have yet, and the preset's own settings
(:data:`PRESET_SETTINGS`), each with a plain-words reason; :func:`apply_preset_changes`
writes them. ``workbench init`` (:func:`~.presets.preset_experiment`) and the Model tab's
preset chooser (one undoable step) both use them, so the two start from the same
experiment.

Plain data, no torch (the preprocessing of a torchvision arch is known without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Settings a preset brings besides its layers, as dotted experiment paths. They are set
#: only where the experiment still has the field's default (a value the user chose stays).
#:
#: ``resnet18`` keeps the default RandomHorizontalFlip (a pretrained network is trained on
#: mirrored photos too), and any random augmentation turns the frozen backbone's feature
#: cache off: the backbone would run on every image every epoch, most of a transfer run's
#: time. Two views keep the cache on: epochs 1 and 2 each compute one randomly flipped
#: view of every image, later epochs reuse them (each image is seen both ways in half the
#: cases, one way in the others). More views would keep more of the flip's variety but make
#: more of the first epochs slow; the default run is 10 epochs, so 8 of them are fast.
PRESET_SETTINGS: dict[str, dict[str, Any]] = {
    "resnet18": {"training.feature_views": 2},
}


@dataclass
class PresetChanges:
    """What choosing a preset changes in an experiment besides its layers.

    Attributes
    ----------
    changes
        Dotted path -> new value (``"data.input_size": [224, 224]``), only what differs,
        in the order to set them (channels before the normalisation).
    reasons
        One plain-words line per choice.
    data_reasons
        How many of the first :attr:`reasons` are about ``data`` fields (a dataset's own
        defaults say those again: ``workbench init --data`` prints the others only).
    """

    changes: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    data_reasons: int = 0

    def describe(self) -> str:
        """The reasons as one sentence (``""`` when nothing changes)."""
        return "; ".join(self.reasons)


def _get(experiment: Any, path: str) -> Any:
    section, name = path.split(".", 1)
    return getattr(getattr(experiment, section), name)


def _floats(values: Any) -> list[float]:
    return [round(float(v), 6) for v in values]


def preset_changes(name: str, layers: list, experiment: Any) -> PresetChanges:
    """What choosing preset ``name``, whose layers are ``layers``
    (:func:`~.presets.preset_layers`), changes in ``experiment`` besides the layers (read,
    not changed): a pretrained Backbone's preprocessing, and :data:`PRESET_SETTINGS`
    where the experiment still has the default."""
    from workbench.core.data.defaults import _hw, _values, pretrained_preprocessing

    out = PresetChanges()
    arch = next((str((c.params or {}).get("arch", "resnet18")) for c in layers
                 if c.type == "Backbone"), None)
    pre = pretrained_preprocessing(arch) if arch is not None else None
    if pre is not None:
        d = experiment.data
        size, mean, std = [int(v) for v in pre["input_size"]], pre["mean"], pre["std"]
        if [int(v) for v in d.input_size] != size:
            out.changes["data.input_size"] = list(size)
        if int(d.channels) != 3:
            out.changes["data.channels"] = 3
        if (_floats(d.mean), _floats(d.std)) != (_floats(mean), _floats(std)):
            out.changes["data.mean"], out.changes["data.std"] = list(mean), list(std)
        if out.changes:
            out.reasons.append(
                f"input {_hw(size)}, 3 channels and {arch}'s normalisation (mean "
                f"{_values(mean)}, std {_values(std)}): what the pretrained {arch} was "
                f"trained with, so its features mean what they should (a smaller input "
                f"trains faster, with weaker features)")
            out.data_reasons = 1
    from workbench.core.experiment import Experiment

    fresh = Experiment()
    for path, value in PRESET_SETTINGS.get(name, {}).items():
        current = _get(experiment, path)
        if current == _get(fresh, path) and current != value:
            out.changes[path] = value
            out.reasons.append(_setting_reason(path, value))
    return out


def _setting_reason(path: str, value: Any) -> str:
    if path == "training.feature_views":
        return (f"{value} feature views ({path}): the frozen backbone's features are "
                f"cached, {value} randomly augmented views of each image computed in epochs "
                f"1-{value} and reused after, so later epochs train only the layers after "
                f"it (with 0, the random horizontal flip would make the backbone run on "
                f"every image every epoch)")
    return f"{path} = {value}: the preset's setting"  # pragma: no cover  (none yet)


def apply_preset_changes(experiment: Any, changes: PresetChanges) -> bool:
    """Write ``changes`` into ``experiment`` (in place); True when anything changed."""
    for path, value in changes.changes.items():
        section, name = path.split(".", 1)
        setattr(getattr(experiment, section), name,
                list(value) if isinstance(value, (list, tuple)) else value)
    return bool(changes.changes)


__all__ = ["PRESET_SETTINGS", "PresetChanges", "apply_preset_changes", "preset_changes"]
