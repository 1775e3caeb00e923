"""Causes of a run that does not learn which are not the learning rate: the training doctor
asks these before it blames the rate (``not_learning``, ``dead_units`` of :mod:`.checks`,
``lr_too_low`` of :mod:`.rates`), since a lower or higher rate cannot help them and its fix
button would only waste a run.

- :func:`model_causes`: the model doctor's findings
  (:func:`~workbench.core.model.doctor.diagnose`) that stop a network from learning (a
  constant initialisation, an activation on the class scores, a Softmax before
  cross-entropy, two weighted layers with nothing between them, BatchNorm on batches of
  one, a frozen backbone without its pretrained weights), each with the model doctor's
  fix: as ``--set`` options for the command line, and as the fix button's action where a
  setting does it (the init, the batch size, the layers: ``model.layers`` without the layer
  removed), else as a button that opens the Model tab, where the model doctor's own
  one-click fix is. A Softmax or a bounded activation on the class
  scores also gives the lowest loss the network can reach (:attr:`Cause.floor`);
- :func:`label_cause`: an augmentation that may change the label (the Augment tab's hint,
  :func:`~workbench.core.data.augment.hints.label_hints`): a mirrored left arrow is a right
  one, so the network is taught contradictions; its fix is the hint's (the list without the
  flip: ``augment.transforms``), on the command line and as the fix button's action;
- :func:`steps_cause`: a batch size that leaves too few steps an epoch (batch size 1000 on
  800 training images: the weights change once an epoch; weight updates, so
  ``training.accumulate`` is counted), with its fix (``data.batch_size``, and
  ``training.accumulate`` where that alone cannot do it); the one rule the warnings
  before a run say it by too. Its batch size and accumulation (:func:`fitting_settings`)
  are also those the fix of batches of one image with BatchNorm proposes (:func:`batch_fix`,
  which the run's refusal gives: :func:`~workbench.core.train.failures.batch_of_one_error`);
- :func:`one_image_cause`: batches of one image without BatchNorm, noisy and slow, said
  before a run with the batch size above (:func:`split_steps_cause`);
- :func:`skipped_cause`: every training batch of an epoch skipped (the trainer skips a
  training batch of one image when the network has BatchNorm), so no weight moved.

Asked once per run, when it starts (:class:`~workbench.core.train.callbacks.doctor.
TrainingDoctor`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from workbench.core.overrides import set_option, set_options
from workbench.core.train.doctor.findings import action
from workbench.core.train.doctor.zero_init import zero_effect

_log = logging.getLogger(__name__)

#: The batch size the fixes propose (the model doctor's ``BATCH_SIZE_FIX``), and the least
#: that BatchNorm measures a sound mean and spread on (the model doctor's advice too).
BATCH_SIZE = 32
MIN_BATCH = 8

#: What each model-doctor finding does to a run, after its title: why the network does not
#: learn. ``stops``: it stops learning outright (so a silent layer or weights that do not
#: move are its doing, not the rate's); the others make learning poor.
_EFFECTS: dict[str, tuple[str, bool]] = {
    "constant-init": ("so the units of a layer learn as one", True),
    "activation-after-output": ("so the class scores it clips get (nearly) equal scores and "
                                "little or no gradient", True),
    "softmax-before-cross-entropy": ("so the loss receives almost equal scores and its "
                                     "gradients shrink", True),
    "batchnorm-batch-one": ("and the trainer skips a training batch of one image when the "
                            "network has BatchNorm, so nothing trains", True),
    "no-nonlinearity": ("so together they can learn no more than a single layer", False),
    "dropout-drops-everything": ("so in training every value it passes on is 0: the layers "
                                 "after it see nothing of the image and the layers before it "
                                 "get no gradient", True),
    "dropout-too-high": ("so the layers after it learn from scraps, slowly and noisily",
                         False),
    "frozen-random-backbone": ("so it turns every image into random features and only the "
                               "layers after it learn: little better than guessing", True),
}


@dataclass(frozen=True)
class Cause:
    """A reason a run does not learn, with its fix (as a :class:`~.findings.RunFinding`
    carries one)."""

    code: str  # the model doctor's finding code, "skipped" or "few-steps"
    why: str  # a sentence for a person, no final full stop
    fix: str
    action: dict[str, Any] | None = field(default=None)
    stops: bool = True  # it stops learning outright (see _EFFECTS)
    #: The lowest cross-entropy the network can reach, when the class scores are squeezed
    #: into a range (a Softmax or a bounded activation on them:
    #: :func:`~workbench.core.model.doctor_checks.least_loss`); None.
    floor: float | None = None
    #: How a finding names it, before a colon and :attr:`why`.
    lead: str = "The network itself is the cause"


#: The range a bounded output squeezes the class scores into (its width), by layer type:
#: a Softmax's probabilities and a Sigmoid's lie in 0..1, a Tanh's in -1..1.
_SCORE_RANGE = {"Softmax": 1.0, "Sigmoid": 1.0, "Hardsigmoid": 1.0, "Tanh": 2.0,
                "Softsign": 2.0, "Hardtanh": 2.0, "ReLU6": 6.0}


def _floor(experiment: Any, f: Any, num_classes: int) -> float | None:
    """The loss floor the model-doctor finding ``f`` sets (None: none, or not known)."""
    from workbench.core.model.doctor_checks import least_loss
    from workbench.core.model.findings import CROSS_ENTROPY_LOSSES

    if f.code not in ("softmax-before-cross-entropy", "activation-after-output") or \
            f.layer is None or str(experiment.loss.type) not in CROSS_ENTROPY_LOSSES:
        return None
    layer = experiment.model.layers[f.layer]
    width = _SCORE_RANGE.get(str(layer.type))
    if width is None:
        return None
    if layer.type == "Hardtanh":
        p = dict(layer.params or {})
        width = float(p.get("max_val", 1.0)) - float(p.get("min_val", -1.0))
    return least_loss(width, num_classes)


def _fix_of(experiment: Any, f: Any,
            train_images: int = 0) -> tuple[str, dict[str, Any] | None]:
    """The model doctor's fix of finding ``f`` as a fix text (with its ``--set`` options)
    and a fix button's action (a batch size fits ``train_images``: :func:`batch_fix`)."""
    from workbench.core.model.doctor import fix_settings

    if f.code == "constant-init" and f.layer is None:
        return ("use the default initialisation, PyTorch's (--set init.type=default)",
                action("Use the default initialisation", {"init.type": "default"}))
    if f.code == "batchnorm-batch-one":
        return batch_fix(train_images, getattr(experiment.training, "accumulate", 1))
    label = f.fix.label if f.fix else ""
    text = label[:1].lower() + label[1:]
    # fix_settings reads a copy back first: the fix's own changes, not the defaults'.
    sets = fix_settings(experiment, f.fix) if f.fix else {}
    if not sets:
        return (f"{text} (the Model doctor on the Model tab does it in one click)",
                action("Open the Model tab", open_="model"))
    options = set_options(sets)  # shell-quoted, as the Model doctor's own warnings
    if all(k.startswith("model.layers") for k in sets):  # e.g. the list without a layer
        return f"{text} ({options})", action(label, sets)
    return f"{text} ({options})", action("Open the Model tab", open_="model")


def batch_fix(train_images: int = 0, accumulate: int = 1) -> tuple[str, dict[str, Any]]:
    """The fix of batches of one image with BatchNorm, as a fix text and a fix button's
    action: the batch size (and ``training.accumulate``) that fits ``train_images`` (0: not
    known) by the rule of :func:`steps_cause` (:func:`fitting_settings`), so that it is not
    one step an epoch (24 images: 8), and no last batch is of one image (9 images: 9, not
    8 and a last batch of one that BatchNorm skips)."""
    acc = max(1, int(accumulate or 1))
    use, keep = fitting_settings(train_images, acc)
    what, label, sets = _settings_fix(use, keep, acc)
    # A size fitted to the images (9 for 9: 8 leaves a last batch of one) has no lesser one.
    least = f", or at least {MIN_BATCH}" if use >= BATCH_SIZE else ""
    text = f"set the batch size to {use}{least}{',' * bool(least and what)}{what}"
    # At 32, a last batch of one image (33 images) is skipped: BatchNorm, this fix's cause.
    k = epoch_steps(train_images, use, keep)
    at = epoch_steps(train_images - (train_images > 1 and train_images % BATCH_SIZE == 1),
                     BATCH_SIZE, acc)
    if k > at:  # the usual 32 would leave the weights fewer changes an epoch
        still = f" (gradients still accumulated over {keep} batches)" if keep == acc > 1 else ""
        then = f" accumulated over {acc} batches" if keep != acc else ""
        text += (f": the {train_images} training images make {k} step{'s' * (k != 1)} an "
                 f"epoch at {use}{still}, only {at} at {BATCH_SIZE}{then}")
    return f"{text} ({set_options(sets)})", action(label, sets)


def model_causes(experiment: Any, num_classes: int, train_images: int = 0) -> list[Cause]:
    """The model doctor's findings on ``experiment`` that explain a run that does not
    learn, those that stop it outright first, then the batch size when it leaves
    ``train_images`` (0: not known) too few steps an epoch (:func:`steps_cause`). Never
    raises (a lint must not stop a run)."""
    from workbench.core.model import doctor_checks as M
    from workbench.core.model.doctor import diagnose

    steps = steps_cause(getattr(getattr(experiment, "data", None), "batch_size", 0),
                        train_images, getattr(getattr(experiment, "training", None),
                                              "accumulate", 1))
    batch = [steps] if steps is not None else []
    checks = (M.check_constant_init, M.check_activation_after_output,
              M.check_softmax_before_loss, M.check_batchnorm_batch_one,
              M.check_consecutive_linear, M.check_high_dropout,
              M.check_frozen_random_backbone)
    try:
        found = diagnose(experiment, int(num_classes), checks=checks)
    except Exception:  # never stand between the learner and the run
        _log.exception("the model doctor failed on the run's experiment")
        return batch
    try:
        return _causes(experiment, found, num_classes, train_images) + batch
    except Exception:  # noqa: BLE001  (a fix text must not stop a run either)
        _log.exception("the model doctor's fixes failed on the run's experiment")
        return batch


#: A batch size above :data:`BATCH_SIZE` that cuts the training images into fewer batches
#: than this is warned of before a run (the Train tab, ``workbench train`` and ``check``)
#: and named as the cause of a run that does not learn: the weights change so few times an
#: epoch that a run of the usual 10 to 20 epochs barely learns (the demo's 800 training
#: images at batch size 1000, one step an epoch: 55 % after 8 epochs; at 32, 25 steps an
#: epoch: 92.5 % after 4). At 32 or less the dataset is small, not the batch too large.
MIN_STEPS = 4


def epoch_steps(images: int, batch_size: int, accumulate: int = 1) -> int:
    """The weight updates an epoch: the batches (the last may be short: it is a step too),
    one step each ``accumulate`` of them, and one at the epoch's end for those left, as
    the trainer steps. Under torchrun each rank has only its share of the batches: not
    counted here (the world size is not known before the run)."""
    batches = -(-images // batch_size)
    return -(-batches // accumulate)


def fitting_batch_size(images: int = 0, accumulate: int = 1) -> int:
    """The batch size the fixes propose for ``images`` training images (0: not known):
    :data:`BATCH_SIZE`, halved while it leaves fewer than :data:`MIN_STEPS` weight updates
    an epoch (``accumulate``: ``training.accumulate``), down to :data:`MIN_BATCH`,
    BatchNorm's least (24 images: 8, 3 steps an epoch, where 32 would be one); then one
    more while it leaves a last batch of one image (9 images: 9; 33: 9, not 8), which the
    trainer skips when the network has BatchNorm (one image never trains an epoch) and
    which is otherwise a step on one image."""
    use = BATCH_SIZE
    while images > 0 and use > MIN_BATCH and epoch_steps(images, use, accumulate) < MIN_STEPS:
        use //= 2
    while images > 1 and images % use == 1:
        use += 1
    return use


def fitting_settings(images: int = 0, accumulate: int = 1) -> tuple[int, int]:
    """The batch size and ``training.accumulate`` the fixes propose for ``images`` training
    images (0: not known) and ``accumulate``: :func:`fitting_batch_size` with the
    accumulation kept; where even that leaves fewer than :data:`MIN_STEPS` weight updates
    an epoch, the size without accumulation, and the accumulation lowered to the most that
    leaves enough at it (1: none; 24 images accumulated over 4: 8, none, 3 steps)."""
    use, keep = fitting_batch_size(images, accumulate), accumulate
    if epoch_steps(images, use, accumulate) < MIN_STEPS:  # too few batches to accumulate
        use = fitting_batch_size(images, 1)
        while keep > 1 and epoch_steps(images, use, keep) < MIN_STEPS:
            keep -= 1
    return use, keep


def _settings_fix(use: int, keep: int, acc: int) -> tuple[str, str, dict[str, Any]]:
    """What a fix that sets the batch size ``use`` and the accumulation ``keep`` (from
    ``acc``) adds to "set the batch size to N" (``" and do not accumulate gradients"``),
    its button's label, and its settings."""
    sets: dict[str, Any] = {"data.batch_size": use}
    what, label = "", f"Set the batch size to {use}"
    if keep != acc:
        sets["training.accumulate"] = keep
        what = (" and do not accumulate gradients" if keep == 1 else
                f" and accumulate gradients over {keep} batches, not {acc}")
        label += f" and accumulate over {keep} batches" if keep > 1 else " and do not accumulate"
    return what, label, sets


def steps_cause(batch_size: Any, train_images: Any, accumulate: Any = 1) -> Cause | None:
    """The batch size as a cause, when ``batch_size`` (above :data:`BATCH_SIZE`) leaves
    ``train_images`` fewer than :data:`MIN_STEPS` weight updates an epoch (its batches, the
    gradients of each ``accumulate`` of them added up before a step: ``training.
    accumulate``); None otherwise (or when either is not known). Its fix is
    :data:`BATCH_SIZE`, halved while that still leaves too few steps (down to
    :data:`MIN_BATCH`, BatchNorm's least), with the accumulation kept; where even that
    leaves too few, the accumulation is lowered too, to the most that leaves enough at
    the batch size proposed without it (:func:`fitting_settings`). The one rule of the
    warnings before a run, of the training doctor and of the fix of batches of one image
    with BatchNorm (:func:`batch_fix`)."""
    try:
        bs, n, acc = int(batch_size), int(train_images), max(1, int(accumulate or 1))
    except (TypeError, ValueError):
        return None
    if n < 1 or bs <= BATCH_SIZE or (steps := epoch_steps(n, bs, acc)) >= MIN_STEPS:
        return None
    images = f"the {n:,} training image{'s' * (n != 1)}"
    batches = epoch_steps(n, bs)
    learns = "barely learns" if steps == 1 else "learns slowly"
    if batches > 1 and acc > 1:  # the accumulation is why there are so few steps
        times = "once" if steps == 1 else f"only {steps} times"
        why = (f"the batch size ({bs}) cuts {images} into {batches} batches, and with "
               f"gradients accumulated over {acc} batches (training.accumulate) the "
               f"weights change {times} an epoch, so the network {learns}")
    elif steps == 1:
        why = (f"the batch size ({bs}) is {'larger than' if bs > n else 'as large as'} "
               f"{images}, so each epoch is a single step (the weights change once an "
               f"epoch) and the network {learns}")
    else:
        why = (f"the batch size ({bs}) cuts {images} into only {steps} batches, so each "
               f"epoch is {steps} steps (the weights change {steps} times an epoch) and the "
               f"network {learns}")
    use, keep = fitting_settings(n, acc)
    what, label, sets = _settings_fix(use, keep, acc)
    k = epoch_steps(n, use, keep)
    steps_text = f"{k} step{'s' * (k != 1)} an epoch"
    if keep == acc > 1:
        steps_text += f", gradients still accumulated over {acc} batches"
    return Cause("few-steps", why, f"set the batch size to {use}{what} ({steps_text}; "
                 f"{set_options(sets)})", action(label, sets),
                 stops=False, lead="The likely cause")


def one_image_cause(experiment: Any, train_images: Any, num_classes: int) -> Cause | None:
    """Batches of one image (``data.batch_size`` 1, gradients not accumulated) where the
    batch size the fixes propose (:func:`fitting_batch_size`) leaves ``train_images`` steps
    enough (:data:`MIN_STEPS`): each step learns from one image, its gradient noisy, and an
    epoch takes many times longer than in batches; None otherwise, and with BatchNorm,
    which a run refuses on batches of one (the Model doctor's error says it)."""
    from workbench.core.model import doctor_checks as M
    from workbench.core.model.doctor import diagnose

    try:
        n, acc = int(train_images), int(experiment.training.accumulate or 1)
        if int(experiment.data.batch_size) != 1 or acc != 1:
            return None
    except (AttributeError, TypeError, ValueError):
        return None
    use = fitting_batch_size(n)
    if n < 1 or (k := epoch_steps(n, use)) < MIN_STEPS or \
            diagnose(experiment, int(num_classes), checks=(M.check_batchnorm_batch_one,)):
        return None
    _, label, sets = _settings_fix(use, 1, 1)
    return Cause("one-image-steps",
                 f"the batch size is 1, so each of the {n:,} steps an epoch learns from a "
                 f"single image: its gradient is noisy, and an epoch takes many times longer "
                 f"than in batches of {use} ({k} steps)",
                 f"set the batch size to {use} ({k} steps an epoch; {set_options(sets)})",
                 action(label, sets), stops=False, lead="The likely cause")


def split_steps_cause(index: Any, experiment: Any) -> Cause | None:
    """:func:`steps_cause` of ``experiment``'s batch size and ``training.accumulate`` for the
    training images of the split it makes of ``index`` (the dataset as scanned), or
    :func:`one_image_cause` at batch size 1; None when no split can be made."""
    from workbench.core.data.usage import usable_split

    use = usable_split(index, experiment.data)
    if use is None:
        return None
    return steps_cause(experiment.data.batch_size, len(use.train),
                       experiment.training.accumulate) or \
        one_image_cause(experiment, len(use.train), len(index.classes))


def _causes(experiment: Any, found: list[Any], num_classes: int,
            train_images: int = 0) -> list[Cause]:
    from workbench.core.model import doctor_checks as M

    causes = []
    for f in found:
        if f.code not in _EFFECTS or f.severity != "warning":
            continue
        effect, stops = _EFFECTS[f.code]
        if f.code == "constant-init" and M.starts_from_zero(f):  # which layers, and how
            effect += zero_effect(experiment, f)
        floor = _floor(experiment, f, num_classes)
        if f.code == "activation-after-output" and floor is not None:  # a Sigmoid: bounded
            effect = "so it squeezes them into a narrow range: the network is never confident"
        fix, act = _fix_of(experiment, f, train_images)
        title = f.title[:1].lower() + f.title[1:]  # it follows a colon
        causes.append(Cause(f.code, f"{title}, {effect}", fix, act, stops, floor))
    return sorted(causes, key=lambda c: not c.stops)


def label_cause(experiment: Any, classes: list[str]) -> Cause | None:
    """The first augmentation of ``experiment`` that may change the label of ``classes``
    (a flip of left/right arrows, a half-turn of 6/9), as the Augment tab's hint says it;
    None when there is none. Never raises (a hint must not stop a run)."""
    try:
        from workbench.core.data.augment.hints import label_hints

        hints = label_hints(list(classes), list(experiment.augment.transforms),
                            folder=str(experiment.data.folder or ""))
        if not hints:
            return None
        h = hints[0]
        text = h.text.rstrip(".")
        fix = _augment_fix(experiment, hints)
    except Exception:  # noqa: BLE001  (never stand between the learner and the run)
        _log.exception("the augmentation hints failed on the run's experiment")
        return None
    if fix is None:  # a hint without a one-click fix: the Augment tab says what to do
        return Cause("label-changing-augmentation", text,
                     "change the augmentation on the Augment tab (it teaches the network "
                     "that one class is the other)",
                     action("Open the Augment tab", open_="augment"), stops=False)
    label, transforms = fix
    return Cause("label-changing-augmentation", text,
                 f"{label[:1].lower() + label[1:]}: the augmentation teaches the network "
                 f"that one class is the other "
                 f"({set_option('augment.transforms', transforms)})",
                 action(label, {"augment.transforms": transforms}), stops=False)


def _augment_fix(experiment: Any, hints: list[Any]) -> tuple[str, list[dict]] | None:
    """The first hint's one-click fix, as the Augment tab offers it (every flip removed
    by one "Remove the flips": :func:`~workbench.core.data.augment.at_start.offered_fix`):
    its label and the transform list it leaves, as the experiment file writes it; None
    when the hint has none."""
    from workbench.core.data.augment.at_start import fixed_transforms, offered_fix

    if hints[0].fix is None:
        return None
    fix = offered_fix(hints)
    return fix.label, fixed_transforms(experiment.augment.transforms, [fix])


def skipped_cause(epoch: int) -> Cause:
    """Every training batch of ``epoch`` was skipped: batches of one image with BatchNorm
    (the only batches the trainer skips without an unreadable image, which ends the run)."""
    fix, act = batch_fix()
    return Cause("skipped",
                 f"Every training batch of epoch {epoch} was skipped, so no weight changed: "
                 f"the batch size is 1, and BatchNorm cannot train on a batch of one image "
                 f"(it has no spread to measure), so the trainer skips such batches", fix, act)


def layer_name(key: str) -> str:
    """A silent-unit probe's layer key (``"1 (32 units)"``: the module's name and its
    units) for a person: ``"the ReLU at layer 2"`` (a network's layers count from 1)."""
    name = key.rsplit(" (", 1)[0] if key.endswith(" units)") else key
    return f"the ReLU at layer {int(name) + 1}" if name.isdigit() else f"the ReLU {name}"


#: Activations that squash their input into a narrow range, whose gradients vanish in depth.
SQUASHING = ("Sigmoid", "Tanh", "Hardsigmoid", "Hardtanh", "Softsign")


def grad_layer(name: str) -> str:
    """A gradient sample's layer name (``"1 Conv2d"``: its place and type) as the model
    doctor says it: ``"layer 1 (Conv2d)"``; any other name as it is."""
    place, _, kind = name.partition(" ")
    return f"layer {place} ({kind})" if place.isdigit() and kind else name


def squashing(activations: frozenset[str] | set[str]) -> str:
    """The squashing activations among ``activations`` (layer types), as "Sigmoid or Tanh";
    both of those when ``activations`` is empty (unknown); "" when the network has none."""
    found = [a for a in SQUASHING if a in activations] if activations else ["Sigmoid", "Tanh"]
    return " or ".join(found)


def vanishing_fix(activations: frozenset[str] | set[str]) -> str:
    """The fix for vanishing gradients: ReLU only where the network squashes (see
    :func:`squashing`)."""
    first = "use ReLU activations, add BatchNorm" if squashing(activations) else "add BatchNorm"
    return f"{first} after the convolutions or linear layers, or use He (kaiming) initialisation"
