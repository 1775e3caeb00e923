"""The sampler a :class:`~.space.SearchSpace` names, what its ``seed`` promises, and how
much of a grid search is left.

What a seed promises
--------------------
Optuna seeds a sampler once, where it is built. Every process that builds the same seeded
sampler, and every re-run that continues a study, would then draw the same values in the
same order: two cooperating ``workbench tune`` processes would train identical trials, and
running the command again would start the search over. So here the seed fixes what each
*trial number* draws instead (:class:`TrialSeededSampler`): trial ``n`` samples with a
random generator seeded from ``(seed, n)``, given the trials before it. Hence, with a seed:

- a fresh study run in one process is repeatable: the same trials, in the same order;
- continuing a study (3 trials, then 2 more) draws what one run of 5 trials would have;
- processes sharing a study each get their own trial numbers, so they draw different
  values (which process gets which number, and so the search as a whole, then depends on
  timing: a parallel search is not repeatable).

Without a seed every process draws from fresh entropy. A grid search needs no seed for
this: Optuna's grid sampler gives trial ``n`` the ``n``-th combination while any is left.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import optuna
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from workbench.core.tune.space import SearchSpace


def make_sampler(space: SearchSpace) -> BaseSampler:
    """The Optuna sampler ``space.sampler`` names; seeded per trial number (see the module
    docstring) when ``space.seed`` is given."""
    if space.sampler == "grid":
        return optuna.samplers.GridSampler(grid_of(space), seed=space.seed)
    build: Callable[..., BaseSampler] = (
        optuna.samplers.RandomSampler if space.sampler == "random"
        else optuna.samplers.TPESampler)
    if space.seed is None:
        return build(seed=None)
    return TrialSeededSampler(build, space.seed)


def distributions_of(space: SearchSpace) -> dict[str, Any]:
    """The Optuna distribution each searched path is suggested from (as
    ``study._suggest`` asks for it); a path whose range Optuna would refuse is left out
    (suggesting it says why)."""
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)

    out: dict[str, Any] = {}
    for path, p in space.params.items():
        with warnings.catch_warnings():  # an uneven step warns when suggested, not here
            warnings.simplefilter("ignore")
            try:
                if space.sampler == "grid":
                    out[path] = CategoricalDistribution(p.grid_values() or [])
                elif p.kind == "categorical":
                    out[path] = CategoricalDistribution(p.choices or [])
                elif p.kind == "int":
                    out[path] = IntDistribution(p.low, p.high, step=p.step or 1, log=p.log)
                else:
                    out[path] = FloatDistribution(p.low, p.high, step=p.step, log=p.log)
            except (TypeError, ValueError):
                continue
    return out


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number``'s draws in a study seeded with ``seed`` (0 to 2**32 - 1;
    mixed, so that study seed 1 is not study seed 0 shifted by one trial)."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=(number,)).generate_state(1)
    return int(state[0])


class TrialSeededSampler(BaseSampler):
    """A sampler rebuilt for each trial, seeded with :func:`trial_seed` of the trial's
    number, so that the draws depend on the seed, the trial number and the earlier trials,
    never on which process runs the trial or how many it ran before.

    Parameters
    ----------
    build
        Makes the sampler from ``seed=`` (``optuna.samplers.TPESampler``, ``RandomSampler``).
    seed
        The study's seed.
    """

    def __init__(self, build: Callable[..., BaseSampler], seed: int):
        self._build, self._seed = build, seed
        self._number: int | None = None
        self._sampler = build(seed=seed)

    def _for(self, trial: Any) -> BaseSampler:
        # Keyed on the trial number, not on before_trial alone: every hook rebuilds it for a
        # trial it has not seen, whichever hook Optuna calls first.
        if trial.number != self._number:
            self._number = trial.number
            self._sampler = self._build(seed=trial_seed(self._seed, trial.number))
        return self._sampler

    def before_trial(self, study: Any, trial: Any) -> None:
        self._for(trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any,
                        search_space: dict[str, Any]) -> dict[str, Any]:
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, param_name: str,
                           param_distribution: Any) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name,
                                                   param_distribution)

    def after_trial(self, study: Any, trial: Any, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._for(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._sampler.reseed_rng()  # Optuna's n_jobs > 1 only, which we do not use


def grid_of(space: SearchSpace) -> dict[str, list[Any]]:
    """The grid of a grid search: each searched path's values."""
    return {path: list(p.grid_values() or []) for path, p in space.params.items()}


def grid_progress(study: Any, space: SearchSpace) -> tuple[int, int, int]:
    """``(combinations, finished, running)`` of a grid search: how many combinations the
    grid has, and how many of them a trial of ``study`` has finished (complete, pruned or
    failed, as Optuna's grid sampler counts them) or is running now (in any process).

    Trials of another grid (the study was run before with other values) do not count.
    """
    grid = {path: values for path, values in sorted(grid_of(space).items())}
    total = math.prod(len(v) for v in grid.values())
    finished: set[int] = set()
    running: set[int] = set()
    for t in study.get_trials(deepcopy=False):
        attrs = t.system_attrs
        if "grid_id" not in attrs or attrs.get("search_space") != grid:
            continue
        if t.state.is_finished():
            finished.add(attrs["grid_id"])
        elif t.state == TrialState.RUNNING:
            running.add(attrs["grid_id"])
    return total, len(finished), len(running - finished)
