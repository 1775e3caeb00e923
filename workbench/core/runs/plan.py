"""Continuing a run, as the user chose it: :class:`ContinuePlan`.

A run is continued with its OWN settings, never the Train form's: its checkpoint's, with
an edit of its experiment.json applied (:func:`workbench.core.train.continuing.run_settings`,
the rule ``workbench resume`` follows too). The plan shows them (epochs done and planned,
optimizer, learning rate, schedule) and changes only what the user explicitly picks: how
far to go ("finish the planned epochs" or "N more") and, optionally, a new learning rate.
``workbench resume`` follows the same rule (no ``--epochs``: finish the plan; ``--epochs
N``: N more).

The schedule keeps the length its first segment gave it (the checkpoint's
``schedule_epochs``) whatever epochs a continuation asks for: the plan says it as it is
("CosineAnnealingLR schedule over 40 epochs, at epoch 5"), not as the epochs asked for,
and what it does past its end (:meth:`ContinuePlan.schedule_note`: it holds the rate given,
or its last epoch's). A continuation that asks for other epochs than the plan counts early
stopping's patience afresh (:meth:`ContinuePlan.patience_note`), as the run does; one that
finishes the plan counts on, and says how many epochs without improvement are used already
(:func:`counting_on_note`).

The dataset is the run's own folder, as for ``resume``. Where that folder is gone, the
folder open on the Data tab takes its place when it has the run's classes (``resume
--data DIR``); with other classes, continuing is refused (:func:`choose_dataset`).

Before the user accepts, the plan says what continuing will not use: the settings the
app's experiment has now that differ from the run's (its notes, :mod:`.unused`), and
what changed in the dataset since the checkpoint (:func:`dataset_change`, as the run
itself says it once it starts: :meth:`~workbench.core.data.split_record.SplitChange.note`).
One change of the Model tab it does use, and says so: a Backbone's mode or
backbone_lr_scale (the head trained on a frozen backbone, then the backbone fine-tuned from
there: :func:`~workbench.core.train.regroup.taken_from`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workbench.core.errors import WorkbenchError
from workbench.core.experiment import Experiment
from workbench.core.runs.damaged import damaged_run_info
from workbench.core.runs.lock import stop_it_text
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
        The run's name and how it ended (``"interrupted"`` when its process died); read
        back from a damaged run.json (:func:`~workbench.core.runs.damaged.damaged_run_info`)
        where they still can be.
    info_damaged
        Whether the run's run.json cannot be parsed (the continued run rewrites it).
    done, planned
        Epochs finished, and the epochs the run was planned for (its settings' epochs).
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
    base
        The settings continuing starts from (None: read the run's experiment.json).
    notes
        What the user should hear about them (experiment.json's edit applied).
    data_folder, data_note
        The dataset folder to continue on when not the run's own (``""``: its own), and
        the sentence saying which folder is used and why (``""``: nothing to say).
    schedule_epochs
        The epochs the checkpoint's schedule runs over, whatever epochs were asked for
        since (0: ``planned``).
    schedule_end
        The share of the set learning rate its schedule's last epoch trains at, and holds
        past it (:func:`~workbench.core.train.schedules.end_factor`); None: not known, or
        the schedule has ended (``last_lr`` is that rate then).
    stopping
        Early stopping's state in the checkpoint (``{"best": ..., "bad_epochs": 2}``).
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
    base: Experiment | None = None
    notes: list[str] = field(default_factory=list)
    data_folder: str = ""
    data_note: str = ""
    schedule_epochs: int = 0
    schedule_end: float | None = None
    info_damaged: bool = False
    stopping: dict[str, Any] = field(default_factory=dict)

    @property
    def schedule_length(self) -> int:
        """The epochs the run's schedule runs over."""
        return self.schedule_epochs or self.planned

    @property
    def schedule_has_end(self) -> bool:
        """Whether the run's schedule is planned over its epochs and holds its last rate
        past them (every schedule but none and ReduceLROnPlateau)."""
        from workbench.core.train.schedules import SCHEDULERS

        return self.scheduler in SCHEDULERS.names() and self.scheduler != "none" and \
            not SCHEDULERS.get(self.scheduler).meta.get("on_loss")

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
        """The run's own experiment, with the chosen epochs (and learning rate, and the
        dataset folder that replaces a missing one)."""
        exp = self.base.copy() if self.base is not None else \
            Experiment.load(Path(self.run_dir) / "experiment.json")
        if self.data_folder:
            exp.data.folder = self.data_folder
        exp.training.epochs = self.target
        if self.lr_changed:
            exp.optimizer.params["lr"] = float(self.new_lr)
        return exp

    def settings_text(self) -> str:
        """The run's settings in words: ``Adam, learning rate 0.000674 (0.00031 at epoch
        12, by its schedule), CosineAnnealingLR schedule over 60 epochs, at epoch 12``
        (the schedule's length as the checkpoint keeps it; ``: its end`` or ``: past its
        end`` once the epochs done reach it)."""
        lr = f"learning rate {self.lr:.3g}" if self.lr is not None else "its learning rate"
        scheduled = self.scheduler not in ("", "none")
        if scheduled and self.last_lr is not None and self.lr is not None \
                and not math.isclose(self.last_lr, self.lr, rel_tol=1e-6):
            lr += f" ({self.last_lr:.3g} at epoch {self.done}, by its schedule)"
        n = self.schedule_length
        at = "" if self.done < n else ": its end" if self.done == n else ": past its end"
        schedule = (f"{self.scheduler} schedule over {n} epochs, at epoch {self.done}{at}"
                    if scheduled else "no schedule")
        return f"{self.optimizer or '?'}, {lr}, {schedule}"

    def schedule_note(self) -> str:
        """What the run's schedule does over the epochs the plan trains, as the run says it
        as it starts (:meth:`~workbench.core.train.resume.Resumable._schedule_note`); ""
        when they end with it. Short of its length it ends partway through; past its end
        it holds the rate typed, or the rate of its last epoch (one near zero gets a rate
        to type)."""
        from workbench.core.train.resume import NEAR_ZERO

        n, kind = self.schedule_length, self.scheduler
        if kind in ("", "none") or self.target == n:
            return ""
        if not self.schedule_has_end:
            return (f"Its {kind} schedule has no planned end: it goes on lowering the rate "
                    f"when the loss stops improving.")
        if self.target < n:
            return f"Its {kind} schedule stays over {n} epochs: it ends partway through it."
        ended = self.done >= n
        if ended and self.lr_changed:
            return (f"Its {kind} schedule ended with epoch {n}: the added epochs train at "
                    f"the learning rate typed, {self.new_lr:.3g}, held.")
        rate = self.new_lr if self.lr_changed else self.lr
        held = self.last_lr if ended else \
            rate * self.schedule_end if rate is not None and self.schedule_end is not None \
            else None
        lead = (f"Its {kind} schedule ended with epoch {n}: the added epochs hold" if ended
                else f"Its {kind} schedule was planned for {n} epochs and keeps that plan; "
                     f"past its end the added epochs hold")
        if held is None:
            return f"{lead} the learning rate of its last epoch."
        if rate and self.lr and held < NEAR_ZERO * rate:
            then = "type a learning rate" if ended else \
                f"train to epoch {n} first, then continue with a learning rate"
            # A tenth of the rate it trains at: the one typed, as the run's note says it.
            whose = "the rate typed" if self.lr_changed else "the run's"
            return (f"{lead} the learning rate of its last epoch, {held:.2g}, too small to "
                    f"change the weights: to train on usefully, {then} (a tenth of "
                    f"{whose}, {rate / 10:.2g}).")
        return f"{lead} the learning rate of its last epoch, {held:.3g}."

    def patience_note(self) -> str:
        """What early stopping does on the continued run, when it asks for other epochs
        than the plan ("N more"), or continues a run early stopping ended: it counts its
        patience afresh from the first epoch added (the best epoch kept), as the run does
        (:meth:`~workbench.core.train.callbacks.early_stopping.EarlyStopping.count_afresh`);
        finishing the plan counts on (:func:`counting_on_note`); "" without early
        stopping."""
        t = self.base.training if self.base is not None else None
        if t is None or not t.early_stopping:
            return ""
        ended = self.status == "early_stopped" or \
            int(self.stopping.get("bad_epochs") or 0) >= t.patience
        if self.target == self.planned and not ended:
            afresh = ('"Train more epochs"' if self.mode == FINISH else
                      f"training to another epoch than {self.planned}")
            return counting_on_note(t, self.stopping, self.done, afresh)
        return (f"Early stopping counts its patience ({_plural(t.patience)}) afresh from "
                f"epoch {self.done + 1}, keeping the best epoch so far.")

    def summary(self) -> str:
        """One line for the Train tab's status while the continued run trains."""
        lr = (f"; learning rate {self.lr:.3g} → {self.new_lr:.3g}" if self.lr_changed else "")
        data = f"; on {self.data_folder}" if self.data_folder else ""
        return (f"Continuing {self.name}: epochs {self.done + 1}–{self.target} "
                f"({self.settings_text()}{lr}{data})")


def continue_plan(run_dir: str | Path, open_folder: str = "",
                  open_classes: list[str] | None = None, current: Experiment | None = None,
                  applied: Iterable[str] = ()) -> ContinuePlan:
    """The plan to continue ``run_dir``, defaulting to finishing its planned epochs when
    it has some left, else :data:`DEFAULT_MORE` more.

    ``open_folder``, ``open_classes``: the dataset open on the Data tab and its classes
    (None: not known yet), for :func:`choose_dataset`. ``current``: the app's experiment,
    whose settings that differ from the run's (and are not among the dotted paths
    ``applied``, which the continuation sets too) are said in the notes as not used
    (:func:`~workbench.core.runs.unused.unused_settings`), but for a Backbone's mode and
    backbone_lr_scale, which it takes, with a note. Reads the checkpoint's
    settings (not its tensors): torch must be imported.

    Raises
    ------
    WorkbenchError
        When the run is training right now, has no checkpoint to continue from (its
        ``best.pt`` stands in for a damaged or missing ``last.pt``, with a note), its
        settings cannot be used (:func:`~workbench.core.train.continuing.run_settings`),
        or its dataset folder is gone and no folder with its classes replaces it.
    """
    from workbench.core.train.continuing import run_settings

    run_dir = Path(run_dir)
    if run_is_live(run_dir):
        raise WorkbenchError(f"the run {run_dir} is training right now: "
                             f"{stop_it_text(run_dir)}, then continue it")
    # checkpoints/last.pt, or best.pt when that one is damaged or gone (said in the notes).
    settings = run_settings(run_dir)
    exp, used = settings.experiment, []
    if current is not None:  # the Model tab's Backbone mode: fine-tune from the trained head
        from workbench.core.train.regroup import taken_from

        exp, used = taken_from(exp, current)
    folder, data_note = choose_dataset(exp.data.folder, settings.classes, open_folder,
                                       open_classes)
    info = read_run_info(run_dir)
    # A damaged one's name and status as they still read (or from the runs index, the
    # folder's name), as the Train tab's last-run line says them.
    recovered = None if info else damaged_run_info(run_dir)  # None: fine, or missing
    info = info or dict(recovered or {})
    history = read_history(run_dir)
    status = str(info.get("status") or "")
    if status == "running":
        status = INTERRUPTED  # not live (checked above): its process is gone
    last_lr = _float(history[-1].get("lr")) if history else None
    # Epochs done: the checkpoint's (a resume elsewhere may have added some since the run
    # was shown); planned: the settings' (what `workbench resume` finishes).
    plan = ContinuePlan(run_dir=str(run_dir), name=str(info.get("name") or run_dir.name),
                        status=status, done=settings.epoch, planned=exp.training.epochs,
                        optimizer=exp.optimizer.type, lr=_float(exp.optimizer.params.get("lr")),
                        scheduler=exp.scheduler.type, last_lr=last_lr, base=exp,
                        notes=[n for n in [settings.fallback] if n] + settings.notes + used,
                        data_folder="" if folder == exp.data.folder else folder,
                        data_note=data_note, schedule_epochs=settings.schedule_epochs,
                        info_damaged=recovered is not None)
    if current is not None:
        from workbench.core.runs.unused import unused_note, unused_settings

        note = unused_note(unused_settings(exp, current, applied))
        if note:
            plan.notes.append(note)
    if plan.done < plan.schedule_length:  # the rate its last epoch will train at
        from workbench.core.train.schedules import end_factor

        plan.schedule_end = end_factor(exp.scheduler, plan.schedule_length)
    plan.mode = FINISH if plan.can_finish else MORE
    if plan.can_finish and exp.training.early_stopping:  # only finishing counts it on
        plan.stopping = dict(settings.stopping)
    return plan


def counting_on_note(training: Any, state: dict[str, Any], done: int, afresh: str) -> str:
    """What early stopping does on a continuation that finishes the run's planned epochs:
    it counts on from the checkpoint (``state``: its early stopping state, ``done``: its
    epoch), as the uninterrupted run would, so the run may end long before the epochs it
    shows. Says how many of ``training``'s patience are used already, the best epoch, and
    the epoch the run ends after unless it improves; ``afresh``: what counts anew instead
    ("Train more epochs", ``--epochs N``). "" when early stopping is off, or no epoch
    without improvement is counted (or all are: that run counts afresh)."""
    bad, best = int(state.get("bad_epochs") or 0), state.get("best") or {}
    if not training.early_stopping or not best or not 0 < bad < training.patience or \
            training.monitor not in ("auto", best.get("metric")):  # another: counted anew
        return ""
    value = best.get("value")
    value = f" {float(value):.4g}" if isinstance(value, (int, float)) else ""
    return (f"Early stopping goes on counting: {bad} of its {_plural(training.patience)} "
            f"without improvement are used (best {best.get('metric', '')}{value} at epoch "
            f"{best.get('epoch', '?')}), so the run ends after epoch "
            f"{done + training.patience - bad} unless it improves; {afresh} starts the "
            f"count anew.")


def dataset_change(plan: ContinuePlan, index: Any = None) -> str:
    """What changed in the dataset since the checkpoint, as the continued run says it once
    it starts (:meth:`~workbench.core.data.split_record.SplitChange.note`, from the run's
    record of its split): ``""`` when nothing did, or the run has no readable record.

    ``index``: the scan of the folder the run continues on; None: scanned here (this lists
    the folder: not on a GUI thread)."""
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split_record import (SplitRecordError, read_split_record,
                                                  resumed_split)

    try:
        record = read_split_record(plan.run_dir)
    except SplitRecordError:
        return ""  # the run says so itself as it starts (SplitKeeper)
    if record is None:
        return ""
    data = (plan.base if plan.base is not None else  # read only: the dialog edits the plan
            Experiment.load(Path(plan.run_dir) / "experiment.json")).data
    if index is None:
        index = scan_folder(dataset_folder(plan.data_folder or data.folder))
    return resumed_split(index, data, record)[3].note(plan.done)


def choose_dataset(run_folder: str, classes: list[str], open_folder: str = "",
                   open_classes: list[str] | None = None) -> tuple[str, str]:
    """``(folder, note)``: the dataset folder to continue a run on, and the sentence saying
    which one is used when that is worth saying (``""``: nothing to say).

    The run's own ``run_folder`` while it exists (as ``workbench resume`` without
    ``--data``), even with another folder open on the Data tab (``open_folder``). Where
    it is gone, the open folder takes its place when it has the run's ``classes``
    (``open_classes`` None: not known yet; the run checks them as it starts).

    Raises
    ------
    WorkbenchError
        When the run's folder is gone and nothing replaces it, or the folder that would
        has other classes; or the run's own folder, open on the Data tab, has other
        classes now.
    """
    from workbench.core.train.continuing import missing_dataset
    from workbench.core.train.resume import class_change

    same = bool(open_folder) and _same_path(open_folder, run_folder)
    if not run_folder or os.path.exists(run_folder):
        if same and open_classes is not None and list(open_classes) != list(classes):
            raise WorkbenchError(f"the dataset's classes changed since the checkpoint "
                                 f"({class_change(list(classes), list(open_classes))}): a "
                                 f"run continues on the data it was trained on; start a new "
                                 f"run instead")
        if open_folder and not same and run_folder:
            return run_folder, (f"Continues on the run's own dataset folder {run_folder}, "
                                f"not {open_folder} (open on the Data tab), as `workbench "
                                f"resume` does.")
        return run_folder, ""
    gone = missing_dataset(run_folder, "open it where it is now on the Data tab (File → "
                                       "Open dataset folder…), then Continue… again")
    if not open_folder or same or not os.path.exists(open_folder):
        raise WorkbenchError(gone)
    if open_classes is not None and list(open_classes) != list(classes):
        raise WorkbenchError(f"the run's dataset folder {run_folder} is missing, and the "
                             f"folder open on the Data tab, {open_folder}, has other classes "
                             f"({class_change(list(classes), list(open_classes))}): a run "
                             f"continues on the data it was trained on. Open the run's "
                             f"dataset where it is now, or press Start training to train a "
                             f"new run on {open_folder}")
    checked = "same classes" if open_classes is not None else \
        "its classes are checked against the run's as it starts"
    return open_folder, (f"The run's folder {run_folder} is missing; continuing on "
                         f"{open_folder} ({checked}).")


def _plural(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
