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

Leaving such a network for a preset without a Backbone puts its settings back where they
still hold the values it set (224x224 would make a small CNN on 40 px images a 25M-parameter
network): to what the dataset chooses for the new network
(:func:`~workbench.core.data.defaults.data_defaults`), or the experiment's defaults without
a dataset (:func:`plain_settings`). A value the user changed since stays, and is named
(:attr:`PresetChanges.kept`). ``workbench init`` starts from a fresh experiment: nothing to
put back there.

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
    put_back
        The paths of :attr:`changes` that undo what the network being left had set (a
        preset without a Backbone chosen after one with it).
    left
        That network's name (``"resnet18"``), when anything was put back or kept.
    source
        Where the values put back come from: ``"dataset"`` (what the dataset chooses for
        the new network) or ``"defaults"`` (the experiment's, no dataset given).
    kept
        Path -> value of the settings the network being left had set that the user changed
        since: they stay.
    """

    changes: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    data_reasons: int = 0
    put_back: list[str] = field(default_factory=list)
    left: str = ""
    source: str = ""
    kept: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The reasons as one sentence (``""`` when nothing changes)."""
        return "; ".join(self.reasons)


def _get(experiment: Any, path: str) -> Any:
    section, name = path.split(".", 1)
    return getattr(getattr(experiment, section), name)


def _floats(values: Any) -> list[float]:
    return [round(float(v), 6) for v in values]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and _floats(a) == _floats(b)
    return a == b


def preset_changes(name: str, layers: list, experiment: Any,
                   dataset: tuple[Any, Any] | None = None) -> PresetChanges:
    """What choosing preset ``name``, whose layers are ``layers``
    (:func:`~.presets.preset_layers`), changes in ``experiment`` besides the layers (read,
    not changed): a pretrained Backbone's preprocessing, and :data:`PRESET_SETTINGS`
    where the experiment still has the default. A preset without a Backbone puts back
    what the network being left had set and the user did not change since
    (:func:`put_back_changes`; ``dataset``: ``(DatasetIndex, ImageSummary or None)`` of
    the experiment's dataset, None when none is open)."""
    from workbench.core.data.defaults import hw_text, pretrained_preprocessing, values_text

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
                f"input {hw_text(size)}, 3 channels and {arch}'s normalisation (mean "
                f"{values_text(mean)}, std {values_text(std)}): what the pretrained {arch} was "
                f"trained with, so its features mean what they should (a smaller input "
                f"trains faster, with weaker features)")
            out.data_reasons = 1
    if arch is None:
        put_back_changes(experiment, layers, out, dataset)
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


def left_settings(experiment: Any) -> tuple[str, dict[str, Any]]:
    """``(name, path -> value)``: the network's name and what its preset or Backbone sets
    besides the layers (a pretrained Backbone's input size, three channels, mean and std;
    the preset's :data:`PRESET_SETTINGS`); ``("", {})`` when nothing."""
    from workbench.core.data.defaults import has_backbone, pretrained_preprocessing

    arch = has_backbone(experiment)
    pre = pretrained_preprocessing(arch) if arch is not None else None
    values: dict[str, Any] = {}
    if pre is not None:
        values = {"data.input_size": [int(v) for v in pre["input_size"]],
                  "data.channels": 3, "data.mean": list(pre["mean"]),
                  "data.std": list(pre["std"])}
    preset = experiment.model.preset or ""
    values.update(PRESET_SETTINGS.get(preset, {}))
    if not values:
        return "", {}
    return (preset if preset in PRESET_SETTINGS or arch is None else arch), values


def plain_settings(experiment: Any, layers: list,
                   dataset: tuple[Any, Any] | None = None) -> tuple[dict[str, Any], str]:
    """``(path -> value, source)``: the settings of :func:`left_settings`' paths that a
    network of ``layers`` (no Backbone) has on ``experiment``'s dataset: what opening the
    dataset chooses for it (:func:`~workbench.core.data.defaults.data_defaults` from a new
    experiment: the images' size and colour mode, source ``"dataset"``), or without a
    ``dataset`` (``(index, summary)``) the experiment's defaults (``"defaults"``); the
    default mean and std, for the channels chosen."""
    import copy

    from workbench.core.data.defaults import adapt_values, data_defaults
    from workbench.core.experiment import Experiment

    fresh = Experiment()
    size, channels, source = list(fresh.data.input_size), int(fresh.data.channels), "defaults"
    if dataset is not None and dataset[0] is not None:
        fresh.data.folder = experiment.data.folder
        fresh.model.layers = copy.deepcopy(list(layers))
        chosen = data_defaults(fresh, dataset[0], dataset[1])
        size, channels, source = list(chosen.input_size), int(chosen.channels), "dataset"
    values: dict[str, Any] = {"data.input_size": size, "data.channels": channels,
                              "data.mean": adapt_values(fresh.data.mean, channels),
                              "data.std": adapt_values(fresh.data.std, channels)}
    for settings in PRESET_SETTINGS.values():
        values.update({path: _get(fresh, path) for path in settings})
    return values, source


def put_back_changes(experiment: Any, layers: list, out: PresetChanges,
                     dataset: tuple[Any, Any] | None = None) -> None:
    """Add to ``out`` what choosing ``layers`` (no Backbone) puts back: each setting of the
    network being left (:func:`left_settings`) that still holds the value it set gets
    :func:`plain_settings`' value; one the user changed since stays (``out.kept``)."""
    from workbench.core.data.defaults import adapt_values

    left, values = left_settings(experiment)
    if not values:
        return
    target, source = plain_settings(experiment, layers, dataset)
    current = {path: _get(experiment, path) for path in values}
    back = {path for path, value in values.items()
            if _same(current[path], value) and not _same(current[path], target[path])}
    channels = target["data.channels"] if "data.channels" in back else \
        int(experiment.data.channels)
    for path in ("data.mean", "data.std"):  # the defaults for the channels kept
        target[path] = adapt_values(target[path], channels)
        if path not in back and "data.channels" in back and "data.channels" in values:
            target[path] = adapt_values(current[path], channels)  # the user's, adapted
            if not _same(current[path], target[path]):
                back.add(path)
    for path in list(values) + ["data.mean", "data.std"]:
        if path in back and path not in out.put_back:
            out.changes[path] = copy_value(target[path])
            out.put_back.append(path)
        elif path in values and not _same(current[path], values[path]) and \
                not _same(current[path], target[path]):
            out.kept[path] = copy_value(current[path])
    if out.put_back or out.kept:
        out.left, out.source = left, source
    if out.put_back:
        out.reasons.append(
            f"{', '.join(f'{p} = {out.changes[p]}' for p in out.put_back)}: put back to "
            f"{'what the dataset chooses' if source == 'dataset' else 'the defaults'} "
            f"(the {left} settings were for its pretrained backbone)")


def copy_value(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def apply_preset_changes(experiment: Any, changes: PresetChanges) -> bool:
    """Write ``changes`` into ``experiment`` (in place); True when anything changed."""
    for path, value in changes.changes.items():
        section, name = path.split(".", 1)
        setattr(getattr(experiment, section), name, copy_value(value))
    return bool(changes.changes)


__all__ = ["PRESET_SETTINGS", "PresetChanges", "apply_preset_changes", "left_settings",
           "plain_settings", "preset_changes", "put_back_changes"]
