"""A learner's first day (walk-firstday 3, 4 and 5).

3. Left/right arrows behind a flip that swaps the classes: not_learning named the flip, then
   ``overfitting`` said "the training accuracy is 53% but the validation accuracy 21%" (2
   classes: chance) and offered early stopping, a fix for another problem.
4. 6 training images a class (50 each in val/): not_learning said "check the labels"; the
   labels were right, the training set was too small.
5. Batch size 1 with BatchNorm on 24 training images: the refusal proposed 32, one step an
   epoch, and the run learned nothing.
"""

from __future__ import annotations

import json

from helpers import flip_cause, make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.causes import BATCH_SIZE, fitting_batch_size, steps_cause
from workbench.core.train.failures import batch_of_one_error

ARROWS = ["left", "right"]
SHAPES = ["circle", "cross", "square", "triangle"]


def history(train_loss, val_loss, train_acc, val_acc):
    return [{"epoch": i + 1, "train_loss": t, "val_loss": v, "train_acc": ta, "val_acc": va}
            for i, (t, v, ta, va) in enumerate(zip(train_loss, val_loss, train_acc, val_acc))]


# Measured: `workbench train` on 120 arrows (96 for training, 24 for validation), seed-cnn,
# lr 0.0016, with RandomHorizontalFlip: the training accuracy never leaves chance.
FLIPPED = history([0.8382, 0.7041, 0.6912, 0.6852, 0.6729, 0.6655],
                  [0.7088, 0.6950, 0.6957, 0.7143, 0.7655, 0.7719],
                  [0.542, 0.500, 0.500, 0.500, 0.500, 0.531],
                  [0.500, 0.500, 0.500, 0.500, 0.417, 0.208])


def arrows_view(hist, **kw):
    kw.setdefault("label_change", flip_cause(ARROWS))
    return C.RunView(classes=ARROWS, history=hist, chance=0.5, lr=1.6e-3, default_lr=1e-3,
                     train_counts=[48, 48], val_counts=[12, 12], augmented=True, **kw)


def test_no_overfitting_while_the_training_accuracy_is_at_chance():
    said = C.not_learning(arrows_view(FLIPPED[:3]))
    assert said is not None and "RandomHorizontalFlip" in said.message
    assert C.overfitting(arrows_view(FLIPPED, messages=[said.message])) is None
    # Not for the flip alone: a network at chance on its training images memorises nothing.
    assert C.overfitting(arrows_view(FLIPPED, label_change=None)) is None
    # Nor by the loss where no training accuracy is kept (0.67 against ln 2 = 0.69).
    no_acc = [dict(m, train_acc=None) for m in FLIPPED]
    assert C.overfitting(arrows_view(no_acc, label_change=None)) is None


# The same shape where the training images are learned (chance 50%, 65% needed).
LEARNED = history([0.69, 0.60, 0.50, 0.40, 0.30, 0.25],
                  [0.69, 0.66, 0.70, 0.75, 0.80, 0.85],
                  [0.50, 0.60, 0.70, 0.80, 0.85, 0.90],
                  [0.50, 0.55, 0.50, 0.45, 0.40, 0.35])


def test_overfitting_with_a_label_changing_flip_names_the_flip_not_early_stopping():
    change = flip_cause(ARROWS)
    f = C.overfitting(arrows_view(LEARNED))
    assert f is not None and f.message.endswith(
        f"The likely cause is the augmentation: {change.why}.")
    assert "early stopping" not in f.fix and f.fix == change.fix
    assert f.action == change.action and f.action["set"] == {"augment.transforms": []}
    # Once a finding named the flip (not_learning's), it is not said again.
    assert C.overfitting(arrows_view(LEARNED, messages=[f"... {change.why} ..."])) is None
    # Without the flip, the usual overfitting fix, but for early stopping: its best epoch
    # (55% of 24 images against 50%) is at chance itself (test_doctor_kept_at_chance.py).
    plain = C.overfitting(arrows_view(LEARNED, label_change=None))
    assert plain.fix.startswith("use more training images") and plain.action is None


def test_the_training_chance_is_the_training_images_majority():
    # 90/10 training images: 91% is no better than always answering the big class.
    v = C.RunView(classes=ARROWS, history=history([0.3] * 4, [0.4] * 4, [0.91] * 4,
                                                  [0.5] * 4),
                  chance=0.5, lr=1e-3, default_lr=1e-3, train_counts=[90, 10])
    assert v.train_chance == 0.9 and not v.learned()
    v.history[-1]["train_acc"] = 0.96  # half the way from 90% to 100%
    assert v.learned()


# Validation loss rising from epoch 2 while the training loss falls, on 900/100 training
# images (the validation split's majority 90%).
IMBALANCED = history([0.69, 0.50, 0.40, 0.30, 0.25, 0.20],
                     [0.50, 0.45, 0.55, 0.65, 0.75, 0.85],
                     [0.60, 0.70, 0.75, 0.80, 0.83, 0.85],
                     [0.80, 0.82, 0.80, 0.78, 0.76, 0.74])


def imbalanced_view(hist=IMBALANCED, balanced=""):
    return C.RunView(classes=ARROWS, history=hist, chance=0.9, lr=1e-3, default_lr=1e-3,
                     train_counts=[900, 100], val_counts=[225, 25], balanced=balanced)


def test_overfitting_is_said_on_imbalanced_classes_balanced_or_not():
    # The weighted sampler's batches hold both classes equally: 85% is far above their 50%.
    v = imbalanced_view(balanced="weighted_sampler")
    assert v.train_chance == 0.5 and v.learned()
    assert C.overfitting(v) is not None
    # A class-weighted loss holds the accuracy under the 90% majority while the network
    # learns its images: the training loss, 0.20 against ln 2 = 0.69, says it has.
    v = imbalanced_view(balanced="weighted_loss")
    assert v.train_chance == 0.9 and v.learned() and C.overfitting(v) is not None
    # No balancing: knowing only that 90% are 'left' gives a loss of 0.33; 0.20 is below.
    v = imbalanced_view()
    assert round(v.prior_loss, 2) == 0.33 and v.learned() and C.overfitting(v) is not None
    # At chance on the sampler's batches (52%, the loss at ln 2): nothing learned.
    flat = [dict(m, train_acc=0.52, train_loss=0.68) for m in IMBALANCED]
    v = imbalanced_view(flat, balanced="weighted_sampler")
    assert not v.learned() and C.overfitting(v) is None
    # Nor without balancing, at the 90% majority and the loss of knowing only that (0.33).
    flat = [dict(m, train_acc=0.91, train_loss=0.31) for m in IMBALANCED]
    assert not imbalanced_view(flat).learned()


# Measured: cnn-bn on 6 training images a class (the demo shapes), 50 a class in val/.
TINY = history([1.6618, 1.2675, 1.0416], [1.3864, 1.3847, 1.3829], [0.250, 0.417, 0.542],
               [0.250, 0.250, 0.250])


def tiny_view(hist=TINY, counts=(6, 6, 6, 6), **kw):
    return C.RunView(classes=SHAPES, history=hist, chance=0.25, lr=1e-3, default_lr=1e-3,
                     train_counts=list(counts), val_counts=[50] * 4, **kw)


def test_a_tiny_training_set_is_named_before_the_labels():
    f = C.not_learning(tiny_view())
    assert ("The likely cause is the small training set: only 6 training images per class "
            "(24 in all), too few (under 30 a class)") in f.message
    assert f.message.index("small training set") < f.message.index("labels may not match")
    assert f.fix.startswith("use more training images (30 a class at least, better "
                            "hundreds), add random augmentation (the Augment tab), or a "
                            "pretrained backbone (the resnet18 preset on the Model tab); then "
                            "check the labels")
    assert f.action["open"] == "augment"
    assert "more random augmentation" in C.not_learning(tiny_view(augmented=True)).fix
    # Unequal classes: the total and the range; 20 a class is still small (measured: cnn-bn
    # at 90% on its training images, 26% on validation, after 10 epochs).
    f = C.not_learning(tiny_view(counts=(4, 6, 8, 10)))
    assert "only 28 training images for 4 classes (4 to 10 a class)" in f.message
    assert "small training set" in C.not_learning(tiny_view(counts=(20, 20, 20, 20))).message
    # With enough images a class, the labels are the cause named, as before.
    f = C.not_learning(tiny_view(counts=(60, 60, 60, 60)))
    assert "small training set" not in f.message and f.fix.startswith("check the labels")


def test_a_tiny_training_set_with_a_backbone_is_not_told_to_add_one():
    f = C.not_learning(tiny_view(activations=frozenset({"Backbone", "Linear"}),
                                 augmented=True))
    assert f.fix.startswith("use more training images (30 a class at least, better "
                            "hundreds) or more random augmentation (the Augment tab); then "
                            "check the labels")
    assert "backbone" not in f.fix


def test_a_tiny_training_set_at_chance_on_both_is_named_before_the_usual_causes():
    # Measured: seed-cnn on 12 training images a class, at chance on both at epoch 3.
    hist = history([1.4127, 1.3404, 1.2961], [1.3813, 1.3874, 1.3868], [0.229, 0.396, 0.375],
                   [0.265, 0.285, 0.280])
    f = C.not_learning(tiny_view(hist, counts=(12, 12, 12, 12), augmented=True))
    assert f.message.split("learned nothing yet. ")[1].startswith(
        "The likely cause is the small training set: only 12 training images per class")
    assert "Else the usual causes" in f.message and f.action["open"] == "lr_finder"


# -- 5: the batch size proposed for batches of one with BatchNorm ---------------------------
def test_the_batch_of_one_refusal_proposes_a_batch_size_that_fits_the_training_set():
    refusal = batch_of_one_error(1, True, 24)
    assert str(refusal).endswith("Set the batch size to 8: the 24 training images make 3 "
                                 "steps an epoch at 8, only 1 at 32 (--set "
                                 "data.batch_size=8)")
    assert refusal.action["set"] == {"data.batch_size": 8}
    assert refusal.action["label"] == "Set the batch size to 8"
    # The batch-steps rule's own size: one rule for both fixes.
    assert steps_cause(1000, 24).action["set"]["data.batch_size"] == fitting_batch_size(24)
    assert fitting_batch_size(60) == 16 and batch_of_one_error(1, True, 60).action["set"] == \
        {"data.batch_size": 16}
    # Enough images, or none known: 32 as before.
    for n in (800, 0):
        refusal = batch_of_one_error(1, True, n)
        assert str(refusal).endswith(f"Set the batch size to {BATCH_SIZE}, or at least 8 "
                                     f"(--set data.batch_size={BATCH_SIZE})")


def test_the_batch_of_one_fix_says_only_true_step_counts():
    # 3 or 5 images are one step an epoch at 8 as at 32: no "only 1 at 32".
    for n in (3, 5):
        assert str(batch_of_one_error(1, True, n)).endswith(
            "Set the batch size to 8 (--set data.batch_size=8)")
    # Accumulated over 4 batches, 8 alone leaves 24 images 1 step an epoch: the fix lowers
    # the accumulation as the batch-steps rule does (one rule), and says so.
    refusal = batch_of_one_error(1, True, 24, accumulate=4)
    assert str(refusal).endswith(
        "Set the batch size to 8 and do not accumulate gradients: the 24 training images "
        "make 3 steps an epoch at 8, only 1 at 32 accumulated over 4 batches (--set "
        "data.batch_size=8 --set training.accumulate=1)")
    assert refusal.action["set"] == steps_cause(1000, 24, 4).action["set"] == \
        {"data.batch_size": 8, "training.accumulate": 1}
    assert refusal.action["label"] == "Set the batch size to 8 and do not accumulate"
    # No size that leaves a last batch of one image, which BatchNorm skips.
    for n in (9, 17, 25, 33, 65):
        size = batch_of_one_error(1, True, n).action["set"]["data.batch_size"]
        assert n % size != 1 and size >= 8, (n, size)
    assert str(batch_of_one_error(1, True, 17)).endswith(
        "Set the batch size to 9: the 17 training images make 2 steps an epoch at 9, only 1 "
        "at 32 (--set data.batch_size=9)")
    # 33 at 32: the last batch of one is skipped, so 1 step, not 2.
    assert "the 33 training images make 4 steps an epoch at 9, only 1 at 32" in \
        str(batch_of_one_error(1, True, 33))


def test_check_says_the_refusal_with_the_fitting_batch_size(capsys, tmp_path):
    folder = make_image_folder(tmp_path / "colours", per_class=12, size=16)
    exp = Experiment(name="bn")
    exp.data.folder, exp.data.input_size = folder, [16, 16]
    exp.data.val_fraction, exp.data.batch_size = 0.25, 1
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    exp.augment.transforms = []
    exp.validate().save(tmp_path / "bn.json")
    code, out, err = run_cli(capsys, "check", folder, "--experiment", tmp_path / "bn.json",
                             "--json")
    refused = [line for line in err.splitlines() if "would refuse the network" in line]
    assert refused and refused[0].endswith("Set the batch size to 8: the 27 training "
                                           "images make 4 steps an epoch at 8, only 1 at 32 "
                                           "(--set data.batch_size=8)"), err
    assert "batch size of 32" not in err
    assert json.loads(out) is not None
