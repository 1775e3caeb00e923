"""The training doctor on a live run (issue 19): :class:`TrainingDoctor` runs the checks of
:mod:`workbench.core.train.doctor.checks` after every epoch and reports each finding once
(``on_finding``), and :class:`ExplodingLoss` is the trainer's own test of a loss that
exploded.

A learning rate far too large does not always give a NaN: with Adam or SGD at lr 10 the
loss climbs to 1e8-1e36 and the network then dies into constant outputs, and the run used
to finish as a success with every epoch "best". :class:`ExplodingLoss` watches the training
losses against what predicting every class with equal probability costs, ``ln(classes)``
(the cross-entropy of an untrained network): a healthy run stays around or below it, an
exploded one is orders of magnitude above. Its verdict ends the run as diverged, exactly as
a NaN loss does (exit 3 in the CLI, the finished epochs' checkpoint kept, no bundle).

An epoch whose losses are above that line is never "the last good checkpoint": a network
without BatchNorm does not keep it (its validation loss ends the run), and after a later
divergence the doctor offers to train again from the start rather than go on from it
(:meth:`ExplodingLoss.sane`). Nor is one whose training loss stayed under the line but many
times above guessing (:data:`~workbench.core.train.doctor.fixes.SOUND_FACTOR`): its weights
are already wrecked, and a lower rate from them explodes again. A resumed run that diverges
at once, at a rate lower than the one its checkpoint was trained at, blames the checkpoint
rather than a rate it has no evidence against (:meth:`ExplodingLoss.damaged_checkpoint`).
"""

from __future__ import annotations

import math
from typing import Any

from workbench.core.train.callbacks.base import Callback
from workbench.core.train.doctor.checks import (CHECKS, GRADIENT_SAMPLES,
                                                NEVER_PREDICTED_EPOCHS, RunView, diverged_fix,
                                                lower_lr, proposed_lr)
from workbench.core.train.doctor.causes import label_cause, model_causes, skipped_cause
from workbench.core.train.doctor.findings import RunFinding
from workbench.core.train.doctor.fixes import unsound
from workbench.core.train.doctor.probes import DeadUnitProbe, relative_change
from workbench.core.train.doctor.resolved import (SAID_AGAIN, continued_with, withdraw,
                                                  withdraw_fixed)
from workbench.core.train.doctor.segments import learning_settings

#: How many times ln(classes) counts as exploded. A healthy run's batch losses stay within a
#: few times ln(classes) (measured: at most 1.1 for 3 classes, i.e. 1x, with Adam at lr
#: 1e-3; a badly initialised network starts at 5-20x); lr 10 gave 1e8 to 1e36.
EXPLODED_FACTOR = 100.0
#: Consecutive training batches above the line before the run is called diverged: one
#: outlier batch (a mislabelled image with a confident prediction) is not enough.
SUSTAINED_BATCHES = 3
#: A validation loss above the line counts only with a training loss this many times
#: ln(classes) too: BatchNorm's running statistics after the first few batches of a small
#: set can give a sane network a huge loss in eval mode (measured: resnet18 from random
#: weights on 24 images, validation 593-630 at epoch 1 with training 1.7), while wrecked
#: weights show in both (Adam lr 10 on cnn-bn: validation 1.2e6, training 31.6, 29x).
#: Only a network with BatchNorm has that excuse: without running statistics the network
#: computes the same function in eval mode, so a validation loss above the line is the
#: epoch's last weights wrecked, whatever the epoch's mean training loss (measured: SGD lr 5
#: on seed-cnn, two batches an epoch, training 1.90, validation 1.27e7; a resume from that
#: epoch diverged at once at lr 0.018, then at 0.0018, while a fresh start at 0.018 reached
#: 100%).
VALIDATION_TRAIN_FACTOR = 10.0


class ExplodingLoss:
    """Says when the training loss has exploded (see the module docstring).

    Parameters
    ----------
    num_classes
        The classes the network predicts (the scale of a sane loss is ``ln(num_classes)``).
    """

    def __init__(self, num_classes: int, batchnorm: bool = True):
        self.limit = EXPLODED_FACTOR * math.log(max(2, int(num_classes)))
        #: The network has BatchNorm, whose running statistics can make a sane network's
        #: validation loss huge (see :data:`VALIDATION_TRAIN_FACTOR`).
        self.batchnorm = bool(batchnorm)
        self._run = 0  # consecutive training batches above the limit
        #: What in the network itself makes it diverge (the training doctor's known cause,
        #: :meth:`~workbench.core.train.doctor.view.RunView.cause`), or "": then the rate.
        self.cause = ""
        #: A resumed run: ``(the checkpoint's epoch, the highest rate its epochs trained
        #: at)``, set by the training doctor as the run starts; None for a fresh run.
        self.resumed: tuple[int, float] | None = None

    def batch(self, loss: float) -> bool:
        """One training batch's loss; True when the run has exploded."""
        self._run = self._run + 1 if loss > self.limit else 0
        return self._run >= SUSTAINED_BATCHES

    def epoch(self, mean_loss: float) -> bool:
        """An epoch's mean training loss; True when it exploded (a few huge batches that
        did not follow one another still make the epoch's loss meaningless)."""
        return mean_loss > self.limit

    def validation(self, val_loss: float, train_loss: float) -> bool:
        """An epoch's validation loss, with its training loss: True when the weights are
        wrecked though the training loss stayed under the line."""
        guess = self.limit / EXPLODED_FACTOR
        return val_loss > self.limit and (train_loss > VALIDATION_TRAIN_FACTOR * guess
                                          or not self.batchnorm)

    def sane(self, metrics: dict[str, Any] | None) -> bool:
        """Whether an epoch (its history entry) is a sound place to go on from: its
        training loss near guessing's, its validation loss under the line (a BatchNorm
        network's may have been let through: see :meth:`validation`); see
        :meth:`unsound`."""
        return not self.unsound(metrics)

    def unsound(self, metrics: dict[str, Any] | None) -> str:
        """Why an epoch is no sound place to go on from, for a person, or "" (it is:
        :func:`~workbench.core.train.doctor.fixes.unsound`)."""
        return unsound(metrics, self.limit / EXPLODED_FACTOR, self.limit)

    def damaged_checkpoint(self, epoch: int, lr: Any) -> str:
        """Why a divergence in ``epoch`` at the rate ``lr`` is the checkpoint's doing, not
        the rate's, or "": a resumed run that diverged in its first epoch at a rate lower
        than the checkpoint's epochs trained at (those weights are likely damaged already;
        a lower rate again would fail the same way). At the same rate the run is as one
        never interrupted, whose divergence the rate is blamed for."""
        if self.resumed is None or self.cause or not isinstance(lr, (int, float)):
            return ""
        done, trained_at = self.resumed
        if epoch != done + 1 or lr >= trained_at * (1 - 1e-6):
            return ""
        return (f"The run went on from the checkpoint of epoch {done} and diverged in its "
                f"first epoch, at a learning rate ({_rate(lr)}) lower than the "
                f"{_rate(trained_at)} that trained those weights: the checkpoint's weights "
                f"themselves are likely damaged, so a lower rate from it would fail too")

    def why(self, epoch: int, lr: Any) -> str:
        """The cause of a divergence in ``epoch`` at ``lr``, for a person: the network's own
        (:attr:`cause`), a damaged checkpoint (:meth:`damaged_checkpoint`), else the rate.
        No rate to use and no way forward: the diverged finding gives both (see
        TrainingDoctor.on_fit_end), so a run says one rate, the LR finder's once it ran."""
        if self.cause:
            return f"The network itself is the cause: {self.cause}"
        return (self.damaged_checkpoint(epoch, lr) or
                f"The learning rate ({_rate(lr)}) is far too large: lower it")

    def message(self, value: float, epoch: int, batch: int, lr: float,
                validation: bool = False) -> str:
        """What went wrong and what to do, for a person (``validation``: ``value`` is the
        epoch's validation loss)."""
        where = f"batch {batch} of epoch {epoch}" if batch else f"epoch {epoch} (its mean)"
        what = "loss"
        if validation:
            what, where = "validation loss", f"epoch {epoch}"
        return (f"training diverged: the {what} exploded to {value:.3g} at {where}, over "
                f"{EXPLODED_FACTOR:g} times the {self.limit / EXPLODED_FACTOR:.2f} of "
                f"guessing every class equally. {self.why(epoch, lr)}")


def _rate(lr: Any) -> str:
    """``lr`` as :func:`~workbench.core.train.optim_advice.fmt` writes it (``"?"`` as is)."""
    from workbench.core.train.optim_advice import fmt

    return fmt(float(lr)) if isinstance(lr, (int, float)) else str(lr)


#: The run's first training batches whose mean loss is "where it started" (lr_too_low).
FIRST_BATCHES = 5
#: Norm samples an epoch when the caller asked for none (the gradient checks need a few).
SAMPLES_PER_EPOCH = 4


class TrainingDoctor(Callback):
    """Watches a run and reports what goes wrong, once per kind (see
    :mod:`workbench.core.train.doctor`).

    Made by the trainer's setup, heard before the caller's callbacks (so a finding reaches
    run.json with the epoch that showed it). Its findings go to ``trainer.findings`` (the
    :class:`~.base.FitResult`'s) and, each as it comes, to every callback's ``on_finding``;
    they are kept in the checkpoint, so a resumed run neither loses nor repeats them. A run
    resumed with other settings starts a new segment (:mod:`~workbench.core.train.doctor.
    segments`): the checks judge the epochs since, and may say each kind again; an earlier
    segment's finding whose blamed setting it changed is withdrawn once the run since shows
    it fixed (:func:`~workbench.core.train.doctor.resolved.withdraw_fixed`). A finding
    said after the last checkpoint was written (``diverged``, said as the run ends) is
    only in run.json: the recorder hands it back as the run resumes (:meth:`recover`).
    """

    state_key = "doctor"

    def __init__(self) -> None:
        self.findings: list[dict[str, Any]] = []
        self.first_losses: list[float] = []
        self.predicted: list[list[int]] = []
        self.grads: list[tuple[list[str], list[float], list[float]]] = []
        self.view: RunView | None = None
        self.probe: DeadUnitProbe | None = None
        self._trainable: set[str] = set()
        self._weights: Any = None  # the trainer's weight copy at the last epoch's end
        self._started = self._ended = 0  # training batches of this epoch: begun, trained
        self.since = 0  # the last epoch before the settings last changed
        self._segment = 0  # self.findings[self._segment:]: said at the current settings
        self._settings: dict[str, Any] | None = None  # learning_settings of the run
        self._new_segment = False  # this resume started a segment (on_fit_start)
        self._then: dict[str, Any] | None = None  # the settings before it, then
        #: Earlier segments' findings whose blamed setting a later one changed, not yet
        #: withdrawn: ``{"kind", "epoch", "message"}`` (:func:`_key`) and ``"what"``, the
        #: change in words (:func:`~workbench.core.train.doctor.resolved.continued_with`).
        self._changed: list[dict[str, Any]] = []

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"findings": [dict(f) for f in self.findings],
                "first_losses": list(self.first_losses),
                "predicted": self.predicted[-NEVER_PREDICTED_EPOCHS:],
                "since": self.since, "segment": self._segment, "settings": self._settings,
                "changed": [dict(c) for c in self._changed]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.findings = [dict(f) for f in state.get("findings") or []]
        self.first_losses = [float(x) for x in state.get("first_losses") or []]
        self.predicted = [list(p) for p in state.get("predicted") or []]
        self.since = int(state.get("since") or 0)
        self._segment = int(state.get("segment") or 0)
        self._settings = state.get("settings")
        self._changed = [dict(c) for c in state.get("changed") or [] if isinstance(c, dict)]

    @property
    def fired(self) -> set[str]:
        """The kinds said at the current settings, less those withdrawn since that may be
        said again (:data:`~workbench.core.train.doctor.resolved.SAID_AGAIN`)."""
        return {f["kind"] for f in self.findings[self._segment:]
                if not (f.get("resolved") and f["kind"] in SAID_AGAIN)}

    # -- hooks ---------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        from workbench.core.data.augment.transforms import augments_randomly
        from workbench.core.registry import Component
        from workbench.core.train.optim import optimizer_lr

        # One list: the trainer's (its FitResult's) is the doctor's, a resumed run's earlier
        # findings (from its checkpoint) included.
        trainer.findings = self.findings
        exp = trainer.experiment
        model = trainer.model
        settings = learning_settings(exp)
        ckpt = getattr(trainer, "checkpoint", None)
        if trainer.epochs_done and ckpt is not None:  # resumed: with other settings?
            then = self._settings if self._settings is not None else \
                learning_settings(ckpt.experiment)  # a checkpoint from before segments
            if then != settings:
                self.since, self._segment = int(trainer.epochs_done), len(self.findings)
                self.predicted = []  # the old settings' predictions
                self._new_segment, self._then = True, then
                self._note_changed(self.findings, settings)
        self._settings = settings
        own_weights = exp.loss.params.get("class_weights")
        self._trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        counts = trainer.class_counts.get("val") or trainer.class_counts.get("train") or [1]
        self.view = RunView(
            classes=list(trainer.classes), history=trainer.history,
            chance=max(counts) / max(1, sum(counts)), lr=optimizer_lr(exp.optimizer),
            default_lr=optimizer_lr(Component(exp.optimizer.type, {})),
            optimizer=str(exp.optimizer.type),
            epochs_planned=exp.training.epochs,
            trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
            early_stopping=bool(exp.training.early_stopping),
            restore_best=bool(exp.training.restore_best),
            augmented=augments_randomly(exp),
            val_counts=trainer.class_counts.get("val") or None,
            train_counts=trainer.class_counts.get("train") or None,
            balanced="class_weights" if own_weights else
            ("" if exp.data.balance == "none" else str(exp.data.balance)),
            since=self.since,
            # Once per run: what in the network itself stops it learning (not the rate).
            causes=model_causes(exp, len(trainer.classes),
                                train_images=sum(trainer.class_counts.get("train") or [])),
            activations=frozenset(type(m).__name__ for m in model.modules()),
            label_change=label_cause(exp, list(trainer.classes)))
        cause = self.view.cause()
        explosion = getattr(trainer, "explosion", None)
        if explosion is not None:  # a divergence then names the network, not the rate
            explosion.cause = cause.why if cause is not None else ""
            rates = [m["lr"] for m in trainer.history if isinstance(m.get("lr"), (int, float))]
            # Resumed: a divergence at once, at a rate its epochs trained at, blames it.
            explosion.resumed = ((int(trainer.epochs_done), max(rates)) if
                                 trainer.epochs_done and ckpt is not None and rates else None)
        self.probe = DeadUnitProbe(model)
        self._weights = trainer._finished_state

    def on_batch_start(self, trainer: Any, epoch: int, batch: int) -> None:
        self._started += 1  # a training batch, perhaps skipped (on_batch_end: trained)
        if batch == 1 and self.probe is not None and _watching(trainer):
            self.probe.arm()

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        self._ended += 1
        if len(self.first_losses) < FIRST_BATCHES and trainer.steps <= FIRST_BATCHES \
                and math.isfinite(loss):
            self.first_losses.append(float(loss))
        probe = self.probe
        if probe is not None and probe.armed:
            probe.count(int(trainer.experiment.data.batch_size))
            if probe.done:
                probe.disarm()

    def on_norms(self, trainer: Any, step: int, names: list[str], grad_norms: list[float],
                 weight_norms: list[float]) -> None:
        self.grads = [*self.grads, (list(names), list(grad_norms),
                                    list(weight_norms))][-GRADIENT_SAMPLES:]

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        v = self.view
        started, ended = self._started, self._ended
        self._started = self._ended = 0
        if v is None or not _watching(trainer):
            return
        # Every training batch skipped (batches of one image with BatchNorm): nothing moved.
        v.skipped = skipped_cause(epoch) if started and not ended else None
        if self.probe is not None:
            self.probe.disarm()
            v.dead = self.probe.shares()
        state = trainer._finished_state
        v.weight_change = relative_change(self._weights, state, self._trainable)
        self._weights = state
        if trainer.val_predicted is not None:
            self.predicted = [*self.predicted,
                              list(trainer.val_predicted)][-NEVER_PREDICTED_EPOCHS:]
        v.predicted, v.grads = self.predicted, self.grads
        v.first_loss = (sum(self.first_losses) / len(self.first_losses)
                        if self.first_losses else None)
        for said in withdraw(v, self.findings[self._segment:]):  # no longer true: told again
            trainer.emit("on_finding", dict(said))
        for said in withdraw_fixed(v, self._fixed_by_continuing()):  # fixed since: told too
            trainer.emit("on_finding", dict(said))
        fired = self.fired
        for check in CHECKS:
            if check.__name__ in fired:
                continue
            v.messages = [str(f.get("message", "")) for f in self.findings[self._segment:]]
            finding = check(v)
            if finding is not None:
                self.report(trainer, finding)
                fired.add(finding.kind)

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        if self.probe is not None:
            self.probe.disarm()
        done = int(getattr(trainer, "epochs_done", 0))
        # Once per divergence: a resumed run that diverges again (a recovered finding says
        # the earlier one) says so, at its own epoch.
        if result.error_kind == "diverged" and self.view is not None and _watching(trainer) \
                and not any(f.get("kind") == "diverged" and f.get("epoch") == done + 1
                            for f in self.findings[self._segment:]):
            cause = self.view.cause()
            message = str(result.error)
            if cause is not None:  # the network's doing: a lower rate would not help
                fix, act = f"{cause.fix}, then train again", cause.action
            else:
                fix, act, message = self._way_forward(trainer, done, message)
                fix += ", or find one with the LR finder (workbench lr-find)"
            self.report(trainer, RunFinding("diverged", done + 1, "error", message, fix, act))

    def _way_forward(self, trainer: Any, done: int,
                     message: str) -> tuple[str, dict[str, Any], str]:
        """The diverged finding's fix, action and message, the cause being a rate: go on
        from the last checkpoint at a lower rate when it is a sound one, else train again
        from the start (at the rate the run used when the checkpoint is the one to blame,
        :meth:`ExplodingLoss.damaged_checkpoint`: nothing says that rate is too large)."""
        v, explosion = self.view, getattr(trainer, "explosion", None)
        last = trainer.history[-1] if done and trainer.history else None
        if explosion is not None and explosion.damaged_checkpoint(done + 1, trainer._lr()):
            return (*diverged_fix(v.lr, 0, source="the rate this run used"), message)
        why = explosion.unsound(last) if last is not None and explosion is not None else ""
        if why:
            message = (f"{message.rstrip('.')}. Epoch {done}, the last one kept, is no sound "
                       f"place to go on from either: {why}")
            done = 0
        return (*diverged_fix(lower_lr(v), done, trainer.run_dir, _rate_source(v)), message)

    def recover(self, recorded: Any) -> list[dict[str, Any]]:
        """Take back the findings of ``recorded`` (run.json's list) that the checkpoint
        lacks: those said after its epoch was written (the diverged finding, said as the run
        ended), which a resumed run would otherwise drop. Called by the recorder as a
        resumed run starts, after :meth:`on_fit_start`; they stay in the segment they were
        said in (before the one a resume with other settings starts). Returns those added.
        """
        said = {_key(f) for f in self.findings}
        missing = [dict(f) for f in recorded if isinstance(f, dict) and f.get("kind")
                   and _key(f) not in said] if isinstance(recorded, list) else []
        self.findings.extend(missing)  # trainer.findings too: the same list
        if self._new_segment:
            self._segment += len(missing)
            self._note_changed(missing, self._settings or {})
        return missing

    def _note_changed(self, findings: list[dict[str, Any]], now: dict[str, Any]) -> None:
        """Keep those of ``findings`` (said before this segment) whose blamed setting the
        new segment changed, to withdraw them once the run shows them fixed."""
        kept = {_key(c) for c in self._changed}
        for f in findings:
            what = "" if f.get("resolved") else continued_with(f, self._then or {}, now)
            if what and _key(f) not in kept:
                self._changed.append({"kind": f.get("kind"), "epoch": f.get("epoch"),
                                      "message": f.get("message"), "what": what})

    def _fixed_by_continuing(self) -> list[tuple[dict[str, Any], str]]:
        """The findings :meth:`_note_changed` kept and not yet withdrawn, each with the
        change in words (those withdrawn are forgotten)."""
        by_key = {_key(f): f for f in self.findings[:self._segment]}
        pairs = [(f, str(c.get("what") or "")) for c in self._changed
                 if (f := by_key.get(_key(c))) is not None and not f.get("resolved")]
        self._changed = [c for c in self._changed
                         if any(_key(f) == _key(c) for f, _ in pairs)]
        return pairs

    def report(self, trainer: Any, finding: RunFinding) -> None:
        """Keep ``finding`` and tell every callback (``on_finding``)."""
        d = finding.to_dict()
        self.findings.append(d)  # trainer.findings too: the same list
        trainer.emit("on_finding", dict(d))


def _rate_source(v: RunView) -> str:
    """Where the doctor's own rate comes from, for a person: the optimizer's usual rate (the
    one the advice before the run proposed too) or a tenth of the rate that diverged."""
    lr = lower_lr(v)
    if lr == proposed_lr(v.lr):
        return f"a tenth of the {_rate(v.lr)} that diverged"
    return f"{v.optimizer}'s usual rate" if v.default_lr > 0 and lr == v.default_lr else ""


def _key(finding: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What tells one finding from another: its kind, epoch and message."""
    return finding.get("kind"), finding.get("epoch"), finding.get("message")


def _watching(trainer: Any) -> bool:
    """Whether the run is one the doctor watches: the LR finder's sweep (no validation, a
    rate raised until the loss blows up on purpose) is not."""
    return bool(trainer.validate)
