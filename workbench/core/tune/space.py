"""The search space of a hyperparameter study: SPACE.json, dotted Experiment paths, and
:func:`apply_params`, which writes one trial's values into a copy of an Experiment.

SPACE.json (format 1)::

    {"format_version": 1,
     "params": {"optimizer.params.lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": true},
                "data.batch_size": {"type": "int", "low": 16, "high": 128, "step": 16},
                "optimizer.type": {"type": "categorical", "choices": ["Adam", "SGD"]}},
     "sampler": "tpe", "pruner": "median", "epochs": 5,
     "metric": "val_acc", "direction": "maximize", "seed": 0}

A path names a field of the Experiment as its JSON does: ``data.batch_size``,
``optimizer.params.weight_decay``, ``model.layers[3].params.p``, ``augment.transforms[0]
.params.p``. Nothing here imports Optuna: the space is plain data until a study samples it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.io import parse_json, read_text_file
from workbench.core.tune.paths import _resolve, _split, path_exists

__all__ = ["SearchParam", "SearchSpace", "apply_params", "path_exists", "space_example"]

SPACE_FORMAT_VERSION = 1
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "threshold", "none")
#: What a trial reports to Optuna after each epoch (a key of the run's metrics.json epochs;
#: in words: core.train.metric_words).
METRICS = ("val_acc", "val_bal_acc", "val_loss", "train_acc", "train_loss")
KINDS = ("float", "int", "categorical")
#: A grid of more points than this is surely a mistake (an int range without a step).
MAX_GRID = 10000
#: The largest ``seed``: Optuna's samplers seed numpy's generator, which takes 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
_SCALAR = (str, int, float, bool, type(None))  # what Optuna stores as a categorical choice


@dataclass
class SearchParam:
    """One searched field: a float or int range, or a list of choices."""

    path: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"type": "categorical", "choices": list(self.choices or [])}
        out: dict[str, Any] = {"type": self.kind, "low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def grid_values(self) -> list[Any] | None:
        """Every value, when there are finitely many (choices, or an int range)."""
        if self.kind == "categorical":
            return list(self.choices or [])
        if self.kind == "int" and not self.log:
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        return None

    def probes(self) -> list[Any]:
        """The values worth checking against the Experiment: both ends, or every choice;
        for a float range whose values are not all whole numbers, one that is not (an
        integer field, a batch size, refuses it: 8 and 32 alone would pass)."""
        if self.kind == "categorical":
            return list(self.choices or [])
        ends = [self.low, self.high]
        if self.kind == "float" and not _whole_steps(self.low, self.step):
            return [*ends, fraction_between(self.low, self.high)]
        return ends


@dataclass
class SearchSpace:
    """A parsed SPACE.json (see the module docstring); build it with :meth:`from_dict`."""

    params: dict[str, SearchParam] = field(default_factory=dict)
    sampler: str = "tpe"
    pruner: dict[str, Any] = field(default_factory=lambda: {"type": "median"})
    epochs: int | None = None
    metric: str = "val_acc"
    direction: str = "maximize"
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: Any) -> "SearchSpace":
        """Parse and check a SPACE.json object (not yet against an Experiment).

        Raises
        ------
        SpecError
            Naming ``space.<field>`` for unknown keys, bad ranges, a grid over a float range.
        """
        if not isinstance(data, dict):
            raise SpecError("space", f"expected a JSON object, got {type(data).__name__}")
        known = ("format_version", "params", "sampler", "pruner", "epochs", "metric",
                 "direction", "seed")
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise SpecError(f"space.{unknown[0]}", f"unknown field; known fields are "
                                                   f"{', '.join(known)}")
        version = data.get("format_version", SPACE_FORMAT_VERSION)
        if version != SPACE_FORMAT_VERSION:
            raise SpecError("space.format_version", f"this Workbench reads format "
                                                    f"{SPACE_FORMAT_VERSION}, got {version!r}")
        raw = data.get("params")
        if not isinstance(raw, dict) or not raw:
            raise SpecError("space.params", "give at least one field to search, e.g. "
                                            "{\"optimizer.params.lr\": {\"type\": \"float\", "
                                            "\"low\": 0.0001, \"high\": 0.1, \"log\": true}}")
        params = {path: _param(path, spec) for path, spec in raw.items()}
        space = cls(params=_ordered(params))
        space.sampler = _word(data, "sampler", "tpe", SAMPLERS)
        space.metric = _word(data, "metric", "val_acc", METRICS)
        default_dir = "minimize" if space.metric.endswith("loss") else "maximize"
        space.direction = _word(data, "direction", default_dir, ("maximize", "minimize"))
        space.pruner = _pruner(data.get("pruner", "median"))
        for name in ("epochs", "seed"):
            value = data.get(name)
            least = 1 if name == "epochs" else 0
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < least):
                raise SpecError(f"space.{name}", f"expected an integer of at least {least}, "
                                                 f"got {value!r}")
            if name == "seed" and value is not None and value > MAX_SEED:
                raise SpecError("space.seed", f"{value!r} is above the maximum {MAX_SEED} "
                                              f"(Optuna's samplers take seeds below 2**32)")
            setattr(space, name, value)
        if space.epochs is not None and "training.epochs" in params:
            raise SpecError("space.epochs", "training.epochs is searched too: give one or "
                                            "the other")
        if space.sampler == "grid":
            for p in params.values():
                count = _grid_size(p)  # counted, not listed: 0..10**15 would exhaust memory
                if count is None:
                    raise SpecError(f"space.params.{p.path}", "the grid sampler needs a "
                                    "finite list of values: give {\"type\": \"categorical\", "
                                    "\"choices\": [...]} (or an int range without log), or "
                                    "use sampler tpe or random")
                if count > MAX_GRID:
                    raise SpecError(f"space.params.{p.path}", f"{count:,} grid values: "
                                    f"give a larger step or fewer choices")
        return space

    @classmethod
    def load(cls, path: str | Path) -> "SearchSpace":
        """Read and check SPACE.json; a missing file, bad JSON or an integer too long to
        read is a :class:`SpecError` with no field whose message names the file."""
        text = read_text_file(Path(path), "search space file")
        fix = "fix the file (its format is in the README, Hyperparameter search)"
        return cls.from_dict(parse_json(text, str(path), fix))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format_version": SPACE_FORMAT_VERSION,
                               "params": {p: s.to_dict() for p, s in self.params.items()},
                               "sampler": self.sampler, "pruner": dict(self.pruner),
                               "metric": self.metric, "direction": self.direction}
        if self.epochs is not None:
            out["epochs"] = self.epochs
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    def check(self, experiment: Experiment) -> Experiment:
        """Check every path exists in ``experiment`` and every end of every range (with
        every searched component type) makes a valid Experiment; returns the validated copy.

        Raises
        ------
        SpecError
            ``space.params.<path>``: what is wrong and what the experiment has there.
        """
        exp = Experiment.from_dict(experiment.to_dict())
        types = {p[:-len(".type")] for p in self.params if p.endswith(".type")}
        for path, p in self.params.items():
            if path.endswith(".type") and p.kind != "categorical":
                holder, key = _resolve(exp, path)
                if isinstance(holder, Component) and key == "type":
                    raise SpecError(f"space.params.{path}", (
                        f"a component's type is a name (now {holder.type!r}): search it as "
                        f"choices, e.g. {{\"type\": \"categorical\", \"choices\": "
                        f"{json.dumps(_type_examples(path, holder.type))}}}"))
            if path.endswith(".type") and path[:-len(".type")] in types:
                _resolve(exp, path)
                combos: list[dict[str, Any]] = [{}]
            else:
                owner = next((t for t in types if path.startswith(t + ".params.")), None)
                combos = ([{owner + ".type": c} for c in self.params[owner + ".type"].choices]
                          if owner else [{}])
                if not owner:
                    _resolve(exp, path)  # a clear "no such field" before any value checks
            for combo in combos:
                for value in p.probes():
                    trial = {**combo, path: value} if path not in combo else combo
                    try:
                        apply_params(exp, trial)
                    except SpecError as e:
                        with_ = "".join(f" with {k} = {v!r}" for k, v in combo.items())
                        why = e.problem if e.field.startswith("space.") else str(e)
                        if p.kind == "float" and "integer" in why and value not in (p.low,
                                                                                    p.high):
                            raise SpecError(f"space.params.{path}", (
                                f"the experiment takes an integer here{with_}, and a float "
                                f"range gives values such as {value:g}: use {{\"type\": "
                                f"\"int\", \"low\": {math.ceil(p.low)}, \"high\": "
                                f"{math.floor(p.high)}}}")) from None
                        raise SpecError(f"space.params.{path}",
                                        f"{value!r}{with_} is not valid: {why}") from None
        return exp


def apply_params(experiment: Experiment, params: dict[str, Any]) -> Experiment:
    """A validated copy of ``experiment`` with each dotted path set to its value.

    Component types (paths ending ``.type``) are applied first: a changed type resets that
    component's parameters to the new entry's defaults, so parameters of the old type (an
    Adam's betas on an SGD) do not follow it; searched parameters of the component are then
    set on top.

    Raises
    ------
    SpecError
        For a path the Experiment does not have, or values that make it invalid.
    """
    exp = Experiment.from_dict(experiment.to_dict())  # a copy with every default filled
    ordered = _ordered(dict(params))
    changed = False
    for path, value in ordered.items():
        if not path.endswith(".type"):
            continue
        holder, key = _resolve(exp, path)
        if isinstance(holder, Component) and key == "type":
            if value != holder.type:
                holder.type, holder.params = value, {}
                changed = True
        else:
            _set(holder, key, value)
    if changed:  # fill the new types' defaults, so their parameters can be addressed
        exp = Experiment.from_dict(exp.to_dict())
    for path, value in ordered.items():
        if not path.endswith(".type"):
            holder, key = _resolve(exp, path)
            if isinstance(holder, Component) and key == "params":
                raise SpecError(f"space.params.{path}", "set one parameter "
                                                          "(...params.NAME), not all of them")
            _set(holder, key, value)
    return Experiment.from_dict(exp.to_dict())


def space_example() -> dict[str, Any]:
    """The SPACE.json shipped in ``workbench/resources/space_example.json``."""
    path = Path(__file__).resolve().parents[2] / "resources" / "space_example.json"
    return json.loads(path.read_text(encoding="utf-8"))


# -- helpers ---------------------------------------------------------------------------
def _type_examples(path: str, current: str) -> list[str]:
    """Choices to show for a searched component type: the current one and, for the
    optimizer, two others."""
    if path == "optimizer.type":
        return [current] + [o for o in ("Adam", "SGD") if o != current][:1]
    return [current, "..."]


def _whole_steps(low: Any, step: Any) -> bool:
    """Whether every value of a range from ``low`` in ``step`` s is a whole number."""
    return step is not None and float(step).is_integer() and float(low).is_integer()


def fraction_between(low: float, high: float) -> float:
    """A value strictly between ``low`` and ``high`` that is not a whole number."""
    x = (low + high) / 2
    if float(x).is_integer():  # then x + 0.5 < high, or x - low <= 0.5 and (low + x) / 2
        x = x + 0.5 if x + 0.5 < high else (low + x) / 2  # is not whole either
    return float(x)


def _set(holder: Any, key: str | int, value: Any) -> None:
    if isinstance(holder, (dict, list)):
        holder[key] = value
    else:
        setattr(holder, key, value)


def _grid_size(p: SearchParam) -> int | None:
    """How many values :meth:`SearchParam.grid_values` would list (None: infinitely many)."""
    if p.kind == "categorical":
        return len(p.choices or [])
    if p.kind == "int" and not p.log:
        return max(0, (int(p.high) - int(p.low)) // int(p.step or 1) + 1)
    return None


def _ordered(params: dict[str, Any]) -> dict[str, Any]:
    # Types before anything else: a type change resets its component's parameters.
    return dict(sorted(params.items(), key=lambda kv: not kv[0].endswith(".type")))


def _word(data: dict, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = data.get(name, default)
    if value not in allowed:
        raise SpecError(f"space.{name}", f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _pruner(value: Any) -> dict[str, Any]:
    """``"median"`` or ``{"type": "median", "n_warmup_steps": 1, ...}`` as a dict."""
    spec = {"type": value} if isinstance(value, str) else value
    if not isinstance(spec, dict) or spec.get("type") not in PRUNERS:
        raise SpecError("space.pruner", f"expected one of {', '.join(PRUNERS)} (or an object "
                                        f"with that \"type\" and the pruner's options), got "
                                        f"{value!r}")
    if spec["type"] == "threshold" and spec.get("lower") is None and spec.get("upper") is None:
        raise SpecError("space.pruner", "the threshold pruner needs \"lower\" and/or \"upper\"")
    return dict(spec)


def _param(path: str, spec: Any) -> SearchParam:
    where = f"space.params.{path}"
    _split(path, where)
    if not isinstance(spec, dict):
        raise SpecError(where, f"expected an object like {{\"type\": \"float\", \"low\": ..., "
                               f"\"high\": ...}}, got {spec!r}")
    kind = spec.get("type")
    if kind not in KINDS:
        raise SpecError(f"{where}.type", f"{kind!r} is not one of {', '.join(KINDS)}")
    allowed = ("type", "choices") if kind == "categorical" else ("type", "low", "high", "log",
                                                                 "step")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", f"unknown field of a {kind} range; it has "
                                                 f"{', '.join(allowed)}")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise SpecError(f"{where}.choices", "give a non-empty list of values")
        for c in choices:
            if not isinstance(c, _SCALAR):
                raise SpecError(f"{where}.choices", f"{c!r}: a choice must be a number, "
                                                    f"string, true/false or null")
        if len({json.dumps(c) for c in choices}) != len(choices):
            raise SpecError(f"{where}.choices", "a value is listed twice")
        return SearchParam(path, kind, choices=list(choices))
    number = int if kind == "int" else (int, float)
    values = {}
    for name in ("low", "high"):
        v = spec.get(name)
        word = "an integer" if kind == "int" else "a number"
        if v is None:
            end = "smallest" if name == "low" else "largest"
            raise SpecError(f"{where}.{name}", f"{name} is missing: give the range's {end} "
                                               f"value ({word})")
        if isinstance(v, bool) or not isinstance(v, number):
            raise SpecError(f"{where}.{name}", f"expected {word}, got {v!r}")
        values[name] = v
    low, high = values["low"], values["high"]
    if not low < high:
        raise SpecError(where, f"low ({low!r}) must be below high ({high!r})")
    log, step = spec.get("log", False), spec.get("step")
    if not isinstance(log, bool):
        raise SpecError(f"{where}.log", f"expected true or false, got {log!r}")
    if log and low <= 0:
        raise SpecError(f"{where}.low", f"a log range must start above 0, got {low!r}")
    if step is not None:
        if log:
            raise SpecError(f"{where}.step", "a log range takes no step: remove one of them")
        if isinstance(step, bool) or not isinstance(step, number) or step <= 0:
            raise SpecError(f"{where}.step", f"expected a positive "
                                             f"{'integer' if kind == 'int' else 'number'}, got "
                                             f"{step!r}")
    return SearchParam(path, kind, low, high, log, step)
