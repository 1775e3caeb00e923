"""One small registry type shared by layers, transforms, inits, optimizers and losses.

Each entry declares its parameters (name, type, default, bounds, help). The GUI builds its
forms from these declarations, the Experiment JSON stores a :class:`Component`
(``{"type": name, "params": {...}}``) and the builder looks the name up. Adding an entry
makes it appear everywhere at once. Every registry is listed in :mod:`workbench.core.catalog`.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from workbench.core.errors import SpecError

_TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
               list: "a list"}


@dataclass(frozen=True)
class Param:
    """Declaration of one parameter of a registry entry.

    Parameters
    ----------
    name
        Keyword passed to the builder.
    type
        One of ``int``, ``float``, ``bool``, ``str`` or ``list``.
    default
        Default value (``None`` only when ``auto`` is set).
    min, max
        Inclusive bounds for numbers (and for each item of a numeric list).
    choices
        Allowed values for strings.
    help
        One sentence shown as a tooltip; suggest sensible values.
    auto
        When set, ``None`` is allowed and means "filled in automatically"; the text says
        from what (e.g. ``"input channels"``, ``"number of classes"``). For a number or a
        list, the word ``"auto"`` (in a file or ``--set``) is taken as ``None``.
    item_type
        For lists: the type of each item (``float`` or ``int``).
    length
        For lists: the allowed lengths (e.g. ``(1, 3)``), or ``None`` for any.
    log
        Hint for forms and searches: the value spans orders of magnitude.
    words
        For numbers: strings also accepted in place of a number, e.g. ``("same", "valid")``
        for a convolution's padding. ``validate`` returns such a word unchanged, so the
        builder receives either a number or one of these words.
    choice_notes
        For choices: a few words about some of them (``{"resnet18": "11.2M parameters,
        224 px"}``), shown beside them in forms.
    step
        For numbers: what a form's arrows add; for an int with a ``min``, forms also take
        only ``min + k * step`` (a GaussianBlur kernel's odd sizes: ``min=1, step=2``).
    """

    name: str
    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    help: str = ""
    auto: str | None = None
    item_type: type | None = None
    length: tuple[int, ...] | None = None
    log: bool = False
    words: tuple[str, ...] | None = None
    choice_notes: dict[str, str] | None = None
    step: float | None = None

    def validate(self, value: Any, where: str) -> Any:
        """Return ``value`` checked and normalised (ints accepted for floats).

        Raises
        ------
        SpecError
            Naming ``where`` when the value has the wrong type or is out of range.
        """
        if self.auto is not None and self.type is not str and value == "auto":
            value = None  # the word forms show and messages say ("set ... to auto")
        if value is None:
            if self.auto is not None:
                return None
            raise SpecError(where, f"a value is required ({self._type_word()})")
        if self.type is list:
            if not isinstance(value, (list, tuple)):
                raise SpecError(where, self._not_a_list(value))
            if self.length is not None and len(value) not in self.length:
                lengths = " or ".join(str(n) for n in self.length)
                raise SpecError(where, f"expected {lengths} values, got {len(value)}")
            item = Param(self.name, self.item_type or float, None, self.min, self.max)
            return [item._check_scalar(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return self._check_scalar(value, where)

    def _not_a_list(self, value: Any) -> str:
        """What to write instead of ``value`` where a list is expected: "expected a list
        of 2 numbers, e.g. [200, 200], got 200" (a hand-edited ``input_size: 200``)."""
        item = {int: "whole numbers", float: "numbers", str: "names"}.get(
            self.item_type or float, "values")
        lengths = " or ".join(str(n) for n in self.length) if self.length else ""
        text = f"expected a list of {lengths} {item}".replace("  ", " ")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            n = max(self.length) if self.length else 1
            text += f", e.g. [{', '.join([json.dumps(value)] * n)}]"
        return f"{text}, got {value!r}"

    def _type_word(self) -> str:
        word = _TYPE_WORDS.get(self.type, self.type.__name__)
        if self.words:  # "an integer, 'same' or 'valid'"
            *rest, last = [word] + [repr(w) for w in self.words]
            word = f"{', '.join(rest)} or {last}"
        return word

    def _check_scalar(self, value: Any, where: str) -> Any:
        t = self.type
        if self.words and t in (int, float) and isinstance(value, str):
            if value in self.words:
                return value
            raise SpecError(where, f"expected {self._type_word()}, got {value!r}")
        # bool is a subclass of int: never let true/false pass as a number or vice versa.
        if t is bool:
            if not isinstance(value, bool):
                raise SpecError(where, f"expected true or false, got {value!r}")
            return value
        if t is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise SpecError(where, f"expected {self._type_word()}, got {value!r}")
        elif t is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(where, f"expected {self._type_word()}, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise SpecError(where, f"expected a finite number, got {value!r}")
        elif t is str:
            if not isinstance(value, str):
                raise SpecError(where, f"expected a string, got {value!r}")
            if self.choices is not None and value not in self.choices:
                raise SpecError(where, f"{value!r} is not one of {', '.join(map(str, self.choices))}")
            return value
        if self.choices is not None and value not in self.choices:
            raise SpecError(where, f"{value!r} is not one of {', '.join(map(str, self.choices))}")
        if self.min is not None and value < self.min:
            raise SpecError(where, f"{value!r} is below the minimum {self.min!r}")
        if self.max is not None and value > self.max:
            raise SpecError(where, f"{value!r} is above the maximum {self.max!r}")
        return value


@dataclass
class Component:
    """A reference to a registry entry with its parameter values.

    Attributes
    ----------
    type
        The registry name, e.g. ``"Conv2d"``.
    params
        The entry's parameter values (missing ones take their defaults on validation).
    init
        Layers only: this layer's own initialisation, overriding the experiment's ``init``:
        ``{"weight": {"type": scheme, "params": {...}}, "bias": {...}}``, either key optional
        (see :func:`workbench.core.model.init.apply_init`). ``None``: the global scheme.
    share
        Layers only: the 0-based index of an earlier layer of the same type whose weight and
        bias this layer uses (a weight tie, see :mod:`workbench.core.model.ties`).
    """

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    init: dict[str, Any] | None = None
    share: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"type", "params"}``, plus ``init`` and ``share`` only when set.

        Leaving the optional keys out keeps files written before they existed byte-identical.
        """
        out: dict[str, Any] = {"type": self.type, "params": copy.deepcopy(self.params)}
        if self.init is not None:
            out["init"] = copy.deepcopy(self.init)
        if self.share is not None:
            out["share"] = self.share
        return out


@dataclass(frozen=True)
class Entry:
    """One registered item: a name, a builder and its declared parameters."""

    name: str
    builder: Callable[..., Any]
    params: tuple[Param, ...] = ()
    help: str = ""
    group: str = ""
    # Free-form extra declarations a particular registry needs (e.g. a transform's
    # evaluation counterpart, or which parameter a layer fills from the input shape).
    meta: dict = field(default_factory=dict)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        """The default value of every declared parameter."""
        return {p.name: (list(p.default) if isinstance(p.default, (list, tuple)) else p.default)
                for p in self.params}

    def validate(self, params: dict[str, Any] | None, where: str = "params") -> dict[str, Any]:
        """Fill defaults, reject unknown names and check every value.

        Returns a new dict holding every declared parameter.
        """
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise SpecError(where, f"expected an object of parameters, got {params!r}")
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known, key=str)
        if unknown:
            hint = f"known parameters are {', '.join(sorted(known))}" if known else \
                "it takes no parameters"
            raise SpecError(f"{where}.{unknown[0]}", f"unknown parameter of {self.name}; {hint}")
        out = {}
        for p in self.params:
            out[p.name] = p.validate(params.get(p.name, p.default), f"{where}.{p.name}")
        return out

    def build(self, **params: Any) -> Any:
        """Call the builder with validated parameters (defaults filled in)."""
        return self.builder(**self.validate(params, self.name))


class Registry:
    """Name -> :class:`Entry`, in registration order.

    Parameters
    ----------
    kind
        Singular noun used in messages ("layer", "transform", "optimizer"...).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> Entry:
        if entry.name in self._entries:
            raise ValueError(f"{self.kind} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def extend(self, entries: Iterable[Entry]) -> None:
        """:meth:`add` every entry, in order (e.g. another module's registry of entries)."""
        for entry in entries:
            self.add(entry)

    def register(self, name: str, params: tuple[Param, ...] | list[Param] = (), help: str = "",
                 group: str = "", **meta: Any) -> Callable[[Callable], Callable]:
        """Decorator form of :meth:`add`: ``@REG.register("Name", params=[...])``."""

        def deco(fn: Callable) -> Callable:
            self.add(Entry(name, fn, tuple(params), help or (fn.__doc__ or "").strip(), group,
                           dict(meta)))
            return fn

        return deco

    def get(self, name: str, where: str = "type") -> Entry:
        """Look ``name`` up; an unknown name raises :class:`SpecError` listing the choices."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise SpecError(where, f"unknown {self.kind} {name!r}; choose one of "
                                   f"{', '.join(self._entries)}") from None

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def groups(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for e in self._entries.values():
            out.setdefault(e.group or "other", []).append(e)
        return out
