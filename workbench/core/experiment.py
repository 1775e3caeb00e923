"""The Experiment: the one declarative source of truth.

Plain dataclasses with a JSON round-trip. The GUI panels edit parts of it, the CLI reads it,
the bundle stores it next to the weights. Every registry reference (layer, transform, init,
optimizer, loss) is a :class:`~workbench.core.registry.Component`:
``{"type": name, "params": {...}}``.

Validation is strict: unknown keys, wrong types and out-of-range values raise
:class:`~workbench.core.errors.SpecError` naming the field. Reading checks the structure
here; the registry names and parameters are checked by :func:`workbench.core.catalog.validate`
(``Experiment.validate`` calls it), so this module imports no registry and stays a leaf that
any module may import.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.events import Evented
from workbench.core.io import parse_json, read_text_file
from workbench.core.registry import Component, Param

FORMAT_VERSION = 1


#: Largest seed: torch.manual_seed takes up to 2**64 - 1, and training adds to the seed
#: (7919 per distributed rank, the epoch in the distributed sampler), so half that range.
MAX_SEED = 2**63 - 1


def _p(param: Param) -> Any:
    """A dataclass field whose default, type and bounds come from one :class:`Param`."""
    default = param.default
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"param": param})
    return field(default=default, metadata={"param": param})


_BALANCE = Param("balance", str, "none", choices=("none", "weighted_loss", "weighted_sampler"),
                 help="Unequal class sizes: none; weighted_loss (rare classes count more in "
                      "the loss); weighted_sampler (batches drawn with every class equally "
                      "likely). Worth it when the largest class is over ~3x the smallest.")


@dataclass
class DataConfig(Evented):
    folder: str = _p(Param("folder", str, "", help="Dataset folder (one sub-folder per class) "
                                                    "or a CSV file of path,label rows. "
                                                    "Empty: the built-in demo dataset."))
    input_size: list[int] = _p(Param("input_size", list, [32, 32], min=1, max=4096,
                                     item_type=int, length=(2,),
                                     help="Height and width every image is resized to."))
    channels: int = _p(Param("channels", int, 3, choices=(1, 3),
                             help="1 for grayscale, 3 for RGB; images are converted."))
    val_fraction: float = _p(Param("val_fraction", float, 0.2, min=0.0, max=0.9,
                                   help="Share of each class held out for validation "
                                        "(ignored when the folder has train/ and val/)."))
    seed: int = _p(Param("seed", int, 0, min=0, max=MAX_SEED,
                         help="Seed of the train/validation split."))
    stratified: bool = _p(Param("stratified", bool, True,
                                help="Split each class on its own so training and validation "
                                     "keep the class proportions (recommended); off: one "
                                     "random split over all images."))
    use_folder_split: bool = _p(Param("use_folder_split", bool, True,
                                      help="When the folder has train/ and val/ sub-folders, "
                                           "use them as they are; off: pool them and split by "
                                           "val_fraction."))
    batch_size: int = _p(Param("batch_size", int, 32, min=1, max=65536,
                               help="Images per step; 32-128 suits most CPUs."))
    mean: list[float] = _p(Param("mean", list, [0.5, 0.5, 0.5], item_type=float, length=(1, 3),
                                 help="Per-channel mean subtracted after scaling to [0, 1]."))
    std: list[float] = _p(Param("std", list, [0.5, 0.5, 0.5], item_type=float, length=(1, 3),
                                min=1e-6, help="Per-channel standard deviation divided by."))
    num_workers: int = _p(Param("num_workers", int, 0, min=0, max=64,
                                help="DataLoader worker processes when the decoded-image "
                                     "cache is off (0: load in the trainer)."))
    balance: str = _p(_BALANCE)
    exclude: list[str] = _p(Param("exclude", list, [], item_type=str,
                                  help="Images left out of training, validation, evaluation "
                                       "and tuning, as paths relative to the dataset folder "
                                       "(the Data tab's Health view adds them); remove an "
                                       "entry to bring the image back."))
    cache: str = _p(Param("cache", str, "auto", choices=("auto", "disk", "off"),
                          help="Decoded-image cache: each image is decoded and resized once, "
                               "then augmented batch-wise every epoch. auto: in RAM when it "
                               "fits cache_budget_mb, else on disk; disk: a file kept "
                               "between runs; off: decode every image every epoch."))
    cache_budget_mb: int = _p(Param("cache_budget_mb", int, 4096, min=0, max=2**24,
                                    help="Most RAM the decoded-image cache may take, in MB; "
                                         "a larger dataset is cached on disk."))


def _default_transforms() -> list[Component]:
    return [Component("RandomHorizontalFlip", {"p": 0.5})]


@dataclass
class AugmentConfig(Evented):
    # Training-time transforms, in order. Evaluation uses only the deterministic
    # counterparts (resize, crop, normalise) derived from the same list.
    transforms: list[Component] = field(default_factory=_default_transforms)


#: The network of a new Experiment, as plain ``(type, params)`` data: the "seed-cnn" preset
#: (:mod:`workbench.core.model.presets` takes it from here, so the two cannot drift apart).
#: Parameters left out take the layer's defaults on validation; the last Linear's
#: ``out_features`` is auto (the number of classes).
SEED_CNN: tuple[tuple[str, dict[str, Any]], ...] = (
    ("Conv2d", {"out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2, "stride": None, "padding": 0}),
    ("Conv2d", {"out_channels": 64, "kernel_size": 3, "stride": 1, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2, "stride": None, "padding": 0}),
    ("Flatten", {}),
    ("Linear", {"out_features": 128}),
    ("ReLU", {}),
    ("Linear", {"out_features": None}),
)


def _default_layers() -> list[Component]:
    return [Component(kind, copy.deepcopy(params)) for kind, params in SEED_CNN]


@dataclass
class ModelConfig(Evented):
    layers: list[Component] = field(default_factory=_default_layers)
    # None (JSON null): a custom network, from no preset.
    preset: str | None = _p(Param("preset", str, "seed-cnn", auto="layers (a custom network)",
                                  help="Name of the preset the layers came from "
                                       "(informative); null: a custom network."))


@dataclass
class TrainingConfig(Evented):
    epochs: int = _p(Param("epochs", int, 10, min=1, max=100000, help="Passes over the data."))
    device: str = _p(Param("device", str, "auto",
                           help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps."))
    seed: int = _p(Param("seed", int, 0, min=0, max=MAX_SEED,
                         help="Seed of initialisation and shuffling."))
    amp: str = _p(Param("amp", str, "auto", choices=("auto", "off", "bf16", "fp16"),
                        help="Mixed precision on a CUDA GPU: auto (bf16 where the GPU "
                             "supports it, else fp16 with loss scaling), bf16, fp16 or off. "
                             "The CPU always trains in float32."))
    channels_last: bool = _p(Param("channels_last", bool, True,
                                   help="On a CUDA GPU, lay images and convolution weights "
                                        "out channels-last (faster with tensor cores). No "
                                        "effect on the CPU."))
    deterministic: bool = _p(Param("deterministic", bool, False,
                                   help="Use only deterministic algorithms, so two runs with "
                                        "the same seed give the same weights (and a stopped "
                                        "run resumes to the same weights). Slower on a GPU."))
    feature_cache: str = _p(Param("feature_cache", str, "auto", choices=("auto", "off"),
                                  help="With a frozen pretrained backbone first and no random "
                                       "augmentation, each image's features are the same "
                                       "every epoch. auto: compute them once, in the first "
                                       "epoch, and train the layers after the backbone on "
                                       "them (much faster); off: run the backbone every "
                                       "batch. The saved model is the same network either "
                                       "way."))
    feature_views: int = _p(Param("feature_views", int, 0, min=0, max=64,
                                  help="With a frozen backbone and random augmentation: keep "
                                       "this many augmented views of each image's features "
                                       "(computed in the first epochs) and cycle through them "
                                       "after that, as Create ML does; 0: run the backbone on "
                                       "a new augmentation every batch."))
    grad_clip: float = _p(Param("grad_clip", float, 0.0, min=0.0, max=1e6,
                                help="Before each step, scale the gradients down so their "
                                     "total L2 norm is at most this (0: off). 1.0 is a common "
                                     "choice for recurrent networks or unstable runs."))
    accumulate: int = _p(Param("accumulate", int, 1, min=1, max=1024,
                               help="Add up the gradients of this many batches before each "
                                    "optimizer step: the effect of a batch this many times "
                                    "larger without its memory."))
    monitor: str = _p(Param("monitor", str, "auto",
                            choices=("auto", "val_loss", "val_acc", "val_bal_acc",
                                     "train_loss", "train_acc"),
                            help="The metric that picks the best epoch (its checkpoint is "
                                 "kept as best.pt) and that early stopping watches; auto: "
                                 "val_loss when there is a validation split, else "
                                 "train_loss. val_bal_acc, the balanced accuracy: the mean "
                                 "of each class's validation accuracy (its recall), over "
                                 "the classes with validation images; with very unequal "
                                 "classes, always answering the largest one scores a high "
                                 "accuracy but a low balanced accuracy."))
    early_stopping: bool = _p(Param("early_stopping", bool, False,
                                    help="Stop when the monitored metric has not improved for "
                                         "'patience' epochs."))
    patience: int = _p(Param("patience", int, 5, min=1, max=100000,
                             help="Epochs without improvement before early stopping stops "
                                  "the run."))
    min_delta: float = _p(Param("min_delta", float, 0.0, min=0.0, max=1e6,
                                help="The smallest change of the monitored metric that counts "
                                     "as an improvement (e.g. 0.001)."))
    restore_best: bool = _p(Param("restore_best", bool, True,
                                  help="When early stopping ends the run, go back to the best "
                                       "epoch's weights (they are what the bundle holds)."))


@dataclass
class Experiment(Evented):
    name: str = _p(Param("name", str, "experiment", help="A name for runs of this experiment."))
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    init: Component = field(default_factory=lambda: Component("default"))
    optimizer: Component = field(default_factory=lambda: Component("Adam", {"lr": 1e-3}))
    loss: Component = field(default_factory=lambda: Component("CrossEntropy"))
    # Learning-rate schedule; "none" keeps the optimizer's lr constant.
    scheduler: Component = field(default_factory=lambda: Component("none"))
    training: TrainingConfig = field(default_factory=TrainingConfig)

    # -- serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, ``format_version`` first."""
        return {"format_version": FORMAT_VERSION, **_to_dict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | Path, keep_relative_folder: bool = False) -> None:
        """Write the Experiment as JSON (atomically: temporary file, then rename).
        ``keep_relative_folder``: where the file names this dataset by a relative path,
        keep it (a command writing the user's file back)."""
        from workbench.core.io import atomic_write_text

        exp = self
        if keep_relative_folder:
            from workbench.core.folder_rule import folder_as_written

            exp = self.copy()
            exp.data.folder = folder_as_written(self.data.folder, path)
        atomic_write_text(Path(path), exp.to_json() + "\n")

    @classmethod
    def from_dict(cls, data: Any, validate: bool = True) -> "Experiment":
        """Build and validate an Experiment; missing fields take their defaults.

        ``validate=False`` checks the structure only (keys, types, the format version),
        not the registry names and parameters: no torch needed (the app's session file is
        read so before the first paint).

        Raises
        ------
        SpecError
            For unknown keys, wrong types, out-of-range values, unknown registry names,
            or a ``format_version`` newer than this Workbench reads.
        """
        if not isinstance(data, dict):
            raise SpecError("experiment", f"expected a JSON object, got {type(data).__name__}")
        _check_keys(data)
        data = dict(data)
        version = data.pop("format_version", FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise SpecError("format_version", f"expected a positive integer, got {version!r}")
        if version > FORMAT_VERSION:
            raise SpecError("format_version", f"this file is format {version}, written by a newer "
                                              f"Workbench; this one reads up to format "
                                              f"{FORMAT_VERSION}: upgrade Workbench to open it")
        exp = _from_dict(cls, data, "")
        return exp.validate() if validate else exp

    @classmethod
    def from_json(cls, text: str, source: str = "experiment JSON") -> "Experiment":
        return cls.from_dict(_parse(text, source))

    @classmethod
    def load(cls, path: str | Path) -> "Experiment":
        """Read an experiment file.

        Stricter than :meth:`from_dict` on one point: a file that sets some sections but
        lacks ``"data"`` or ``"model"`` is refused, since the defaults would quietly train
        the built-in demo dataset or the seed-cnn network (a section lost in an edit). A
        file with no section at all (``{}``, or a name only) is the default experiment, as
        intended.

        A relative ``data.folder`` is relative to the file's own folder (as most tools'
        config files are) and comes back absolute, so runs and bundles record where the
        data is whatever the current folder (:mod:`workbench.core.folder_rule`).

        Raises
        ------
        SpecError
            For a missing or unreadable file, bad JSON, a missing section (named), and
            whatever :meth:`from_dict` refuses.
        """
        source = str(path)
        data = _parse(read_text_file(Path(path), "experiment file"), source)
        exp = cls.from_dict(data)  # what is there is checked first, then what is missing
        _check_sections(data, source)
        from workbench.core.folder_rule import resolve_folder

        exp.data.folder = resolve_folder(exp.data.folder, path)
        return exp

    def copy(self) -> "Experiment":
        return copy.deepcopy(self)

    # -- validation ------------------------------------------------------------------
    def validate(self) -> "Experiment":
        """Check registry names and parameters; fill every component's defaults in place.

        :func:`workbench.core.catalog.validate`, imported when called: the registries pull
        in torch, and nothing the catalog imports imports this module, so no cycle.
        """
        from workbench.core.catalog import validate

        return validate(self)


#: How the messages below say to make a new experiment file; the app says its own way
#: (File → New experiment) in their place.
NEW_FILE_HINT = "'workbench init'"


def _parse(text: str, source: str) -> Any:
    """The JSON value of an experiment's text; bad JSON is a :class:`SpecError`."""
    try:
        return parse_json(text, source, f"fix the file or create a new one with "
                                        f"{NEW_FILE_HINT}")
    except RecursionError:  # json's decoder recurses per level: "[[[[..." exhausts it
        raise SpecError("", f"{source} is nested too deeply to be an experiment; fix the "
                            f"file or create a new one with {NEW_FILE_HINT}") from None


#: The sections whose absence from a file would change what trains without a word, and
#: what the defaults would do instead.
_REQUIRED_SECTIONS = {
    "data": ("the run would use the built-in demo dataset and the default input size; add "
             "a \"data\" section with the \"folder\" to train on"),
    "model": ("the default seed-cnn network would be trained; add a \"model\" section "
              "with the network's \"layers\""),
}


def _check_sections(data: Any, source: str) -> None:
    """Refuse a file that sets some sections but not all of :data:`_REQUIRED_SECTIONS`
    (see :meth:`Experiment.load`); ``data`` has passed :meth:`Experiment.from_dict`."""
    if not set(data) - {"format_version", "name"}:
        return  # no section at all: the default experiment, on purpose
    for section, instead in _REQUIRED_SECTIONS.items():
        if section not in data:
            raise SpecError(section, f"missing from {source}: {instead} ({NEW_FILE_HINT} "
                                     f"writes a complete file)")


def _check_keys(data: dict) -> None:
    """Refuse a key that is not a string anywhere in ``data``.

    JSON keys are always strings, but a bundle's experiment comes from a pickle, whose
    dicts may have any key: sorting a mix of them deep in validation would be a TypeError.
    """
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, where = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(node, dict) and not isinstance(key, str):
                raise SpecError(where or "experiment", f"has the key {key!r}; every key must "
                                                       f"be a string (a field name)")
            here = f"{where}[{key}]" if isinstance(node, list) else _join(where, key)
            stack.append((value, here))


def _to_dict(obj: Any) -> Any:
    if isinstance(obj, Component):  # its optional keys are written only when set
        return obj.to_dict()
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list):
        return [_to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_dict(v) for k, v in obj.items()}
    return copy.deepcopy(obj)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _from_dict(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(where or "experiment", f"expected an object, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(_join(where, unknown[0]), f"unknown field; known fields are "
                                                  f"{', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        value, here = data[name], _join(where, name)
        if "param" in f.metadata:
            kwargs[name] = f.metadata["param"].validate(value, here)
        elif f.type in ("Component", Component):
            kwargs[name] = _component(value, here)
        elif f.type in ("list[Component]",):
            if not isinstance(value, list):
                raise SpecError(here, f"expected a list, got {value!r}")
            extras = cls is ModelConfig and name == "layers"  # only layers have init/share
            kwargs[name] = [_component(v, f"{here}[{i}]", extras) for i, v in enumerate(value)]
        else:
            sub = {"DataConfig": DataConfig, "AugmentConfig": AugmentConfig,
                   "ModelConfig": ModelConfig, "TrainingConfig": TrainingConfig}[f.type]
            kwargs[name] = _from_dict(sub, value, here)
    return cls(**kwargs)


def _component(value: Any, where: str, extras: bool = False) -> Component:
    if isinstance(value, str):  # shorthand: "ReLU" == {"type": "ReLU"}
        return Component(value, {})
    if not isinstance(value, dict):
        raise SpecError(where, f"expected an object like {{\"type\": ..., \"params\": {{...}}}}, "
                               f"got {value!r}")
    known = ("type", "params", "init", "share") if extras else ("type", "params")
    unknown = sorted(set(value) - set(known))
    if unknown:
        what = "a layer has type, params, init and share" if extras else \
            "a component has type and params"
        raise SpecError(f"{where}.{unknown[0]}", f"unknown field; {what}")
    if "type" not in value or not isinstance(value["type"], str):
        raise SpecError(f"{where}.type", "missing: name the registry entry, e.g. \"ReLU\"")
    params = value.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise SpecError(f"{where}.params", f"expected an object, got {params!r}")
    init, share = value.get("init"), value.get("share")
    if init is not None and not isinstance(init, dict):
        raise SpecError(f"{where}.init", f"expected an object like {{\"weight\": {{\"type\": "
                                         f"\"kaiming_normal\"}}}}, got {init!r}")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int)):
        if isinstance(share, float) and share.is_integer():
            share = int(share)
        else:
            raise SpecError(f"{where}.share", f"expected the 0-based index of an earlier layer "
                                              f"(an integer), got {share!r}")
    return Component(value["type"], dict(params), copy.deepcopy(init), share)
