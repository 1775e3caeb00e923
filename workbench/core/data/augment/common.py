"""What the transform entries and the pipelines share: the experiment's data settings (or
their defaults without an experiment), sizes, per-channel values, parameter declarations.

The entries themselves are in :mod:`.basic_transforms`, :mod:`.more_transforms` and
:mod:`.mixing`; :mod:`.transforms` gathers them into the registry and builds the pipelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from workbench.core.errors import SpecError
from workbench.core.registry import Param

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment

_AUTO_SIZE = "data.input_size"


@dataclass(frozen=True)
class _Data:
    input_size: tuple[int, int]
    channels: int


#: What an entry used without an experiment sizes itself by: the defaults of
#: :class:`~workbench.core.experiment.DataConfig` (a test holds them equal). Not read from
#: that module: the experiment validates itself through the catalog, which imports this one.
DEFAULT_DATA = _Data(input_size=(32, 32), channels=3)


class ImageTooSmall(SpecError):
    """A step given an image too small for it, as the pipeline runs: a crop larger than the
    image (RandomCrop without pad_if_needed), padding by reflection wider than the image.

    ``field`` names the step (``augment.transforms[0]``: the plan that builds the step sets
    it, see :mod:`.transforms`), ``step`` its transform ("RandomCrop"), ``problem`` the
    image's size and what to change; the message reads ``"augment.transforms[0]:
    RandomCrop: the crop ..."``. A DataLoader worker hands it over as one text, its
    traceback: the message is read back from its last line."""

    def __init__(self, field: str, problem: str | None = None, step: str = ""):
        if problem is None:  # ImageTooSmall(message): re-raised, or unpickled
            last = (field.strip().splitlines() or [""])[-1]
            last = last.split("ImageTooSmall: ", 1)[-1]
            m = re.match(r"^(augment\.transforms\[\d+\]): (?:(\w+): )?(.*)$", last, re.S)
            field, step, problem = (m.group(1), m.group(2) or "", m.group(3)) if m else \
                ("", "", last)
        super().__init__(field, problem)
        self.step = step
        if step:
            self.args = (f"{field}: {step}: {problem}" if field else f"{step}: {problem}",)


def _data(exp: "Experiment | None") -> Any:
    return DEFAULT_DATA if exp is None else exp.data


def _size(size: list[int] | None, exp: "Experiment | None") -> list[int]:
    return list(_data(exp).input_size) if size is None else list(size)


def _exact(size: list[int]) -> tuple[int, int]:
    return (size[0], size[0]) if len(size) == 1 else (size[0], size[1])


def _hw(size: tuple[int, int] | list[int]) -> str:
    return f"{size[0]}x{size[1]}"


def per_channel_problem(values: list[float], channels: int) -> str | None:
    """Why ``values`` (a mean or std) do not fit images of ``channels`` channels, with the
    count to give ("give 1 value, e.g. [0.5]"), or None when they fit (1 value or one a
    channel)."""
    n = len(values)
    if n in (1, channels):
        return None
    count = "1 value" if channels == 1 else f"1 value (for every channel) or {channels}"
    example = f", e.g. [{values[0]}]" if channels == 1 and values else ""
    return (f"has {n} value{'' if n == 1 else 's'} but images have {channels} channel"
            f"{'' if channels == 1 else 's'}: give {count}{example}")


def _per_channel(values: list[float], channels: int, where: str) -> list[float]:
    problem = per_channel_problem(values, channels)
    if problem:
        raise SpecError(where, problem)
    if len(values) == 1:
        return [float(values[0])] * channels
    return [float(v) for v in values]


def _size_param(what: str) -> Param:
    return Param("size", list, None, min=1, max=4096, item_type=int, length=(1, 2),
                 auto=_AUTO_SIZE, help=f"{what} as [height, width], or [n] for n x n. "
                                       f"Empty (auto): the experiment's input size.")


def _same(builder: Callable[..., Any]) -> Callable[[dict, Any], Any]:
    """Evaluation counterpart of a deterministic step: the step itself."""
    return lambda params, exp: builder(**params, exp=exp)
