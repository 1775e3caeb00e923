"""Continuing a run, as the user chose it: :class:`ContinuePlan`.

A run is continued with its OWN settings (the ones in its folder's experiment.json), never
the Train form's: the plan shows them (epochs done and planned, optimizer, learning rate,
schedule) and changes only what the user explicitly picks: how far to go ("finish the
planned epochs" or "N more") and, optionally, a new learning rate. ``workbench resume``
follows the same rule (no ``--epochs``: finish the plan; ``--epochs N``: N more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.runs.store import INTERRUPTED, read_run_info, run_is_live
from workbench.core.runs.record import read_history

FINISH = "finish"
MORE = "more"
#: The "N more" a plan offers first.
DEFAULT_MORE = 5


@dataclass
class ContinuePlan:
    """What continuing the run in ``run_dir`` will do.

    Attributes
    ----------
    name, status
        The run's name and how it ended (``"interrupted"`` when its process died).
    done, planned
        Epochs finished, and the epochs the run was planned for.
    optimizer, lr, scheduler
        The run's own optimizer type, base learning rate and schedule type.
    last_lr
        The rate its last epoch trained at (after its schedule), when known.
    mode
        :data:`FINISH` (up to ``planned``) or :data:`MORE` (``more`` epochs past ``done``).
    more
        Epochs added in :data:`MORE` mode.
    new_lr
        A learning rate the user chose instead of the run's (None: keep the run's).
    """

    run_dir: str
    name: str
    status: str
    done: int
    planned: int
    optimizer: str
    lr: float | None
    scheduler: str
    last_lr: float | None = None
    mode: str = MORE
    more: int = DEFAULT_MORE
    new_lr: float | None = None

    @property
    def can_finish(self) -> bool:
        """Whether the run has planned epochs left to finish."""
        return self.done < self.planned

    @property
    def target(self) -> int:
        """The epoch the continued run ends at."""
        if self.mode == FINISH and self.can_finish:
            return self.planned
        return self.done + max(1, int(self.more))

    @property
    def lr_changed(self) -> bool:
        return self.new_lr is not None and self.lr is not None and \
            not math.isclose(self.new_lr, self.lr, rel_tol=1e-9)

    def choose(self, mode: str, more: int | None = None,
               lr: float | None = None) -> "ContinuePlan":
        """Set how far to go (and a new learning rate); returns the plan itself."""
        if mode not in (FINISH, MORE):
            raise ValueError(f"mode must be {FINISH!r} or {MORE!r}, not {mode!r}")
        self.mode = mode if mode == MORE or self.can_finish else MORE
        if more is not None:
            self.more = max(1, int(more))
        if lr is not None:
            self.new_lr = float(lr)
        return self

    def experiment(self) -> Experiment:
        """The run's own experiment, with the chosen epochs (and learning rate)."""
        exp = Experiment.load(Path(self.run_dir) / "experiment.json")
        exp.training.epochs = self.target
        if self.lr_changed:
            exp.optimizer.params["lr"] = float(self.new_lr)
        return exp

    def settings_text(self) -> str:
        """The run's settings in words: ``Adam, learning rate 0.000674 (0.00031 at epoch
        12, by its cosine schedule), cosine schedule over 60 epochs``."""
        lr = f"learning rate {self.lr:.3g}" if self.lr is not None else "its learning rate"
        scheduled = self.scheduler not in ("", "none")
        if scheduled and self.last_lr is not None and self.lr is not None \
                and not math.isclose(self.last_lr, self.lr, rel_tol=1e-6):
            lr += f" ({self.last_lr:.3g} at epoch {self.done}, by its schedule)"
        schedule = (f"{self.scheduler} schedule over {self.planned} epochs" if scheduled
                    else "no schedule")
        return f"{self.optimizer or '?'}, {lr}, {schedule}"

    def summary(self) -> str:
        """One line for the Train tab's status while the continued run trains."""
        lr = (f"; learning rate {self.lr:.3g} → {self.new_lr:.3g}" if self.lr_changed else "")
        return (f"Continuing {self.name}: epochs {self.done + 1}–{self.target} "
                f"({self.settings_text()}{lr})")


def continue_plan(run_dir: str | Path) -> ContinuePlan:
    """The plan to continue ``run_dir``, defaulting to finishing its planned epochs when
    it has some left, else :data:`DEFAULT_MORE` more.

    Raises
    ------
    WorkbenchError
        When the run is training right now, has no checkpoint to continue from, or its
        experiment.json cannot be read.
    """
    run_dir = Path(run_dir)
    if run_is_live(run_dir):
        raise WorkbenchError(f"the run {run_dir} is training right now: stop it first, then "
                             f"continue it")
    if not (run_dir / "checkpoints" / "last.pt").is_file():
        raise WorkbenchError(f"{run_dir} has no checkpoint to continue from "
                             f"(checkpoints/last.pt): start a new run instead")
    exp = Experiment.load(run_dir / "experiment.json")
    info = read_run_info(run_dir)
    history = read_history(run_dir)
    done = _int(info.get("epochs_done"), len(history))
    planned = _int(info.get("epochs_planned"), exp.training.epochs)
    status = str(info.get("status") or "")
    if status == "running":
        status = INTERRUPTED  # not live (checked above): its process is gone
    last_lr = _float(history[-1].get("lr")) if history else None
    plan = ContinuePlan(run_dir=str(run_dir), name=str(info.get("name") or run_dir.name),
                        status=status, done=done, planned=planned,
                        optimizer=exp.optimizer.type, lr=_float(exp.optimizer.params.get("lr")),
                        scheduler=exp.scheduler.type, last_lr=last_lr)
    plan.mode = FINISH if plan.can_finish else MORE
    return plan


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else int(default)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
