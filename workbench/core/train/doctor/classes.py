"""The training doctor's checks on the classes a network predicts (part of :mod:`.checks`):
a class it never predicts (``class_never_predicted``: one with enough validation images, or
many small ones together), and small classes of a strongly imbalanced training set that it
ignores, reaching the accuracy of always answering the big class (``class_imbalance``: with
100/5/5 training images, 1 validation image of each small class is too few for the first,
and always answering the big class scores 91%). :func:`imbalance_cause` is what
``not_learning`` says of a run at chance on such a set; a run that evens the classes out
and still ignores one of :data:`FEW_TO_LEARN` images or more is ``not_learning``'s
(:func:`imbalance_explains`); on a small training set, under :data:`SMALL_TRAINING_SET`
images a class, ``not_learning`` names that first (:func:`small_training_set`). A
``class_imbalance`` finding is withdrawn once the network gets the images of a class it
named right (:mod:`.resolved`).
"""

from __future__ import annotations

from workbench.core.train.doctor.findings import RunFinding, action
from workbench.core.train.doctor.view import CHANCE_MARGIN, RunView, pct

#: A class the network never predicts on the validation split, in this many epochs in a
#: row, from this epoch on and past half the planned epochs: a healthy run's early epochs
#: may leave a hard class out for a while (measured: a digit for 2 epochs of 8).
NEVER_PREDICTED_EPOCHS = 3
NEVER_PREDICTED_FROM = 5
#: Validation images the class needs: missing two of two is often chance.
NEVER_PREDICTED_IMAGES = 5
#: A class-weighted loss is offered only for classes with at most this share of the largest
#: class's training images: on equal counts its weights are equal, the loss unchanged.
NEVER_PREDICTED_FEWER = 0.5
#: Or many classes never predicted together, however few images each has (90 classes of
#: 1-8 validation images, 48 of them never predicted): at least this many classes, this
#: share of those with validation images, and twice NEVER_PREDICTED_IMAGES images in all.
NEVER_PREDICTED_MANY = 3
NEVER_PREDICTED_SHARE = 0.1
#: A strongly imbalanced training set: a class with this many times fewer training images
#: than the largest (100 against 5 is 20 times). At 4 to 1, always answering the big class
#: already scores 80% on two classes: a minimum a small network settles in.
IMBALANCE_RATIO = 4
#: Epochs in a row (at the current settings) the small classes must be ignored: as long as
#: not_learning waits, since at the big class's share the run is at chance too.
IMBALANCE_EPOCHS = 3
#: Ignored: the network predicts the class for at most this share of its validation images
#: (none of 1 to 9, 1 of 10).
IMBALANCE_PREDICTED = 0.1
#: A class with fewer training images than this is called few in a balanced run's fix:
#: measured (320/80/20/5 images of patterns, no balancing), a seed-cnn learnt the class of
#: 80 by epoch 3 and the one of 20 by epoch 6; the one of 5 it never learnt.
FEW_TO_LEARN = 20
#: A training set whose classes average fewer images than this is small: ``not_learning``
#: names it before the labels (:func:`small_training_set`). Measured on the demo shapes (4
#: classes, 50 validation images each, 10 epochs, Adam 1e-3, batch 32): at 6, 12 and 20 a
#: class cnn-bn learns its training images (54-56% at epoch 3, 73-90% at 10) with
#: validation at chance throughout (24-30%), and seed-cnn at 6 and 12 overfits from epoch 5
#: (33-38%); at 30 both learn (validation 50% and 63% at epoch 10), at 50 cnn-bn reaches
#: 82% at epoch 8 (with 200 a class seed-cnn reaches 92% at epoch 4).
SMALL_TRAINING_SET = 30
#: The fix button that sets ``data.balance`` to ``weighted_loss``, in the Data tab's words.
WEIGHTED_LOSS = "Use a class-weighted loss"
#: How the run already evens out unequal classes (:attr:`RunView.balanced`), in words.
BALANCED = {"weighted_loss": "a class-weighted loss (data.balance weighted_loss)",
            "weighted_sampler": "balanced batches, the weighted sampler "
                                "(data.balance weighted_sampler)",
            "class_weights": "the loss's own class weights"}


def quoted_names(v: RunView, idx: list[int], conj: str = "and", shown: int = 5) -> str:
    """The classes ``idx`` of ``v``, quoted: "'a', 'b' and 'c'" (``conj``: "or"), the
    first ``shown`` of them then "and N more"."""
    names = [repr(v.classes[i]) for i in idx[:shown]]
    if len(idx) > shown:
        return f"{', '.join(names)} and {len(idx) - shown} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {conj} {names[-1]}"


def ignored_classes(v: RunView, epochs: int = IMBALANCE_EPOCHS
                    ) -> tuple[list[int], float] | None:
    """The small classes of a strongly imbalanced training set that the network has
    (almost) never predicted on the validation images for ``epochs`` epochs,
    with the accuracy of never answering them, when its accuracy is that (within
    :data:`~.view.CHANCE_MARGIN`); None otherwise (balanced data, too early, the network
    learns them, or it gets the big classes wrong too)."""
    counts, val = v.train_counts, v.val_counts
    recent = v.segment_predicted[-epochs:]
    acc = v.series("val_acc")[-epochs:]
    if not counts or not val or len(counts) != len(val) or len(acc) < epochs \
            or len(recent) < epochs or any(len(p) != len(val) for p in recent):
        return None
    largest = max(counts)
    small = [i for i, n in enumerate(counts)
             if 0 < n and n * IMBALANCE_RATIO <= largest and val[i] > 0]
    ignored = [i for i in small if all(p[i] <= IMBALANCE_PREDICTED * val[i] for p in recent)]
    if not ignored:
        return None
    ceiling = 1 - sum(val[i] for i in ignored) / max(1, sum(val))
    if max(acc) > ceiling + CHANCE_MARGIN:
        return None  # it learns more than the big classes: not this
    if min(acc) < ceiling - CHANCE_MARGIN:
        return None  # nor does it answer the big classes right: not the imbalance alone
    return ignored, ceiling


def imbalance_explains(v: RunView, ignored: list[int]) -> bool:
    """Whether the imbalance explains that the network ignores the classes ``ignored``:
    the run does not even the classes out, or each has under :data:`FEW_TO_LEARN` training
    images. A run that evens them out and still ignores a class of 80 images learns
    nothing at all (measured: a class-weighted loss at chance, its ReLUs dying)."""
    counts = v.train_counts or []
    return not v.balanced or all(counts[i] < FEW_TO_LEARN for i in ignored)


def imbalance_cause(v: RunView) -> tuple[str, str, dict] | None:
    """Why a run at chance answers the big class, when its training set is strongly
    imbalanced (a class with :data:`IMBALANCE_RATIO` times fewer images than the largest)
    and the run does not even the classes out: a sentence, the fix and its action (a
    class-weighted loss, the Data tab's class balance); None otherwise."""
    counts = v.train_counts
    if not counts or v.balanced or len(counts) != len(v.classes):
        return None
    big = max(range(len(counts)), key=counts.__getitem__)
    small = [i for i, n in enumerate(counts) if 0 < n and n * IMBALANCE_RATIO <= counts[big]]
    if not small:
        return None
    lo, hi = min(counts[i] for i in small), max(counts[i] for i in small)
    if len(small) == 1:
        few = f"{v.classes[small[0]]!r} only {lo}"
    else:
        few = f"{len(small)} of the {len(counts)} classes " + \
            (f"{lo} each" if lo == hi else f"{lo} to {hi} each")
    why = (f"The training set is strongly imbalanced ({v.classes[big]!r} has {counts[big]} "
           f"training images, {few}): always answering {v.classes[big]!r} scores "
           f"{pct(v.chance)}, and a network settles there first")
    # From an epoch the learner can look up (the loss plot, metrics.json): epoch 1's, or the
    # last one's before the settings changed; not the first batches', which is shown nowhere.
    known = [m for m in v.history
             if m.get("train_loss") is not None and int(m.get("epoch") or 0) >= v.since]
    if len(known) > 1 and float(known[-1]["train_loss"]) < 0.9 * float(known[0]["train_loss"]):
        first, last = known[0], known[-1]
        why += (f". Its training loss still falls ({float(first['train_loss']):.2f} at epoch "
                f"{first['epoch']}, {float(last['train_loss']):.2f} at epoch {last['epoch']}), "
                f"so it may yet learn the others: evening the classes out gets it there sooner")
    fix = ("even the classes out: a class-weighted loss (--set data.balance=weighted_loss), "
           "or balanced batches with the weighted sampler (--set "
           "data.balance=weighted_sampler); more images of the small classes help most")
    return why, fix, action(WEIGHTED_LOSS, {"data.balance": "weighted_loss"})


def small_training_set(v: RunView) -> tuple[str, str, dict | None] | None:
    """Why a run at chance learns nothing that carries over, when its training set has
    fewer than :data:`SMALL_TRAINING_SET` images a class on average: a sentence, the fix
    (more images, augmentation, a pretrained backbone where the network has none) and its
    action; None otherwise."""
    counts = [n for n in v.train_counts or [] if n > 0]
    if not counts or sum(counts) >= SMALL_TRAINING_SET * len(counts):
        return None
    lo, hi, total = min(counts), max(counts), sum(counts)
    few = (f"only {lo} training image{'s' * (lo != 1)} per class ({total} in all)"
           if lo == hi else f"only {total} training images for {len(counts)} classes "
           f"({lo} to {hi} a class)")
    why = (f"The likely cause is the small training set: {few}, too few (under "
           f"{SMALL_TRAINING_SET} a class) for a network to learn what tells the classes "
           f"apart, so it learns those images")
    augment = f"{'more' if v.augmented else 'add'} random augmentation (the Augment tab)"
    # A network with a backbone has one already (its activations hold the layer types).
    fix = (f"use more training images ({SMALL_TRAINING_SET} a class at least, better "
           f"hundreds)" + (f" or {augment}" if "Backbone" in v.activations else
                           f", {augment}, or a pretrained backbone (the resnet18 preset on "
                           f"the Model tab)"))
    return why, fix, (None if v.augmented else action("Open the Augment tab", open_="augment"))


def named_classes(v: RunView, message: str) -> list[int]:
    """The small classes (:data:`IMBALANCE_RATIO`) a ``class_imbalance`` finding's
    ``message`` names: those it said the network ignores (the first five of them)."""
    counts = v.train_counts
    if not counts or len(counts) != len(v.classes):
        return []
    return [i for i, n in enumerate(counts)
            if 0 < n and n * IMBALANCE_RATIO <= max(counts) and repr(v.classes[i]) in message]


def class_imbalance(v: RunView) -> RunFinding | None:
    if v.skipped is not None or v.trainable == 0 or v.cause() is not None:
        return None  # nothing can be learnt at all: not_learning says why
    found = ignored_classes(v)
    if found is None or v.train_counts is None or v.val_counts is None:
        return None
    ignored, ceiling = found
    if v.at_chance() and not imbalance_explains(v, ignored):
        return None  # it learns nothing at all, and not for want of images: not_learning's
    counts, val = v.train_counts, v.val_counts
    big = max(range(len(counts)), key=counts.__getitem__)
    # The classes it answers: always answering one of them scores the ceiling only when it
    # is the one class left (a small class it learnt counts as answered, as in ceiling).
    others = [i for i in range(len(counts)) if i not in ignored and val[i] > 0]
    sizes = [f"{v.classes[big]!r} has {counts[big]} training images"] + \
        [f"{v.classes[i]!r} {counts[i]}" for i in ignored[:5]]
    sizes_text = sizes[0] if len(sizes) == 1 else \
        f"{', '.join(sizes[:-1])} and {sizes[-1]}" + \
        (f" (and {len(ignored) - 5} more as small)" if len(ignored) > 5 else "")
    recent = v.segment_predicted[-IMBALANCE_EPOCHS:]
    never = "never" if all(p[i] == 0 for p in recent for i in ignored) else "hardly ever"
    n_val = [val[i] for i in ignored]
    images = (f"{n_val[0]} validation image{'s' * (n_val[0] != 1)}"
              f"{' each' if len(n_val) > 1 else ''}" if len(set(n_val)) == 1
              else f"{sum(n_val)} validation images")
    total = sum(val)
    if len(others) == 1:
        answer = f"Always answering {v.classes[others[0]]!r}"
    else:
        answer = f"Never answering {quoted_names(v, ignored, 'or')}"
    acc = v.series("val_acc")[-1]
    small = "the small class" + "es" * (len(ignored) > 1)
    message = (f"The training set is strongly imbalanced ({sizes_text}), and the network "
               f"ignores {small}: in the last {IMBALANCE_EPOCHS} epochs it {never} "
               f"predicted {quoted_names(v, ignored, 'or')} ({images}). {answer} scores "
               f"{pct(ceiling)} on the validation images ({total - sum(n_val)} of {total}), "
               f"and the network reaches {pct(acc)}: its high accuracy hides that it has "
               f"not learnt {small}.")
    if v.balanced:
        fewest = min(ignored, key=counts.__getitem__)
        few = (f" (only {counts[fewest]} of {v.classes[fewest]!r}: few to learn from)"
               if counts[fewest] < FEW_TO_LEARN else "")
        return RunFinding("class_imbalance", v.epoch, "warning",
                          f"{message} It does so even with "
                          f"{BALANCED.get(v.balanced, v.balanced)}.",
                          f"add images of {small}{few}, or weight "
                          f"{'them' if len(ignored) > 1 else 'it'} more in the loss's class "
                          f"weights (loss.params.class_weights)")
    ratio = counts[big] / counts[ignored[0]]
    return RunFinding("class_imbalance", v.epoch, "warning", message,
                      f"use a class-weighted loss, where an image of "
                      f"{v.classes[ignored[0]]!r} counts {ratio:.0f} times one of "
                      f"{v.classes[big]!r} (--set data.balance=weighted_loss), or draw "
                      f"balanced batches with the weighted sampler (--set "
                      f"data.balance=weighted_sampler); more images of {small} help most",
                      action(WEIGHTED_LOSS, {"data.balance": "weighted_loss"}))


def class_never_predicted(v: RunView) -> RunFinding | None:
    recent = v.segment_predicted[-NEVER_PREDICTED_EPOCHS:]
    if v.epoch < max(NEVER_PREDICTED_FROM, v.epochs_planned / 2) or not v.val_counts or \
            len(recent) < NEVER_PREDICTED_EPOCHS:
        return None
    if v.at_chance():
        return None  # at chance it answers one class: not_learning's
    if class_imbalance(v) is not None:
        return None  # the small classes of an imbalanced set: class_imbalance says so
    val = v.val_counts
    never = [i for i, n in enumerate(val) if n > 0 and all(p[i] == 0 for p in recent)]
    judged = sum(1 for n in val if n > 0)
    many = (len(never) >= max(NEVER_PREDICTED_MANY, NEVER_PREDICTED_SHARE * judged)
            and sum(val[i] for i in never) >= 2 * NEVER_PREDICTED_IMAGES)
    if not many:  # each class on its own: only one with images enough to tell
        never = [i for i in never if val[i] >= NEVER_PREDICTED_IMAGES]
    if not never:
        return None
    images = sum(val[i] for i in never)
    plural = len(never) > 1
    if many:
        what = (f"{len(never)} of the {len(v.classes)} classes were never predicted on the "
                f"validation images in the last {NEVER_PREDICTED_EPOCHS} epochs "
                f"({quoted_names(v, never)}; {images} images): every one was called "
                f"something else.")
    else:
        what = (f"The network never predicts {quoted_names(v, never)} on the validation images "
                f"({images} of them), in the last {NEVER_PREDICTED_EPOCHS} epochs: every one "
                f"is called something else.")
    counts = v.train_counts
    them = "them" if plural else "it"
    if counts and len(counts) == len(val):
        lo, hi = min(counts[i] for i in never), max(counts[i] for i in never)
        has = f"{lo}" if lo == hi else f"{lo} to {hi}"
        what += (f" {'They have' if plural else 'It has'} {has} training image"
                 f"{'s' * (hi != 1)}{' each' * plural}, the largest class {max(counts)}.")
        if lo > NEVER_PREDICTED_FEWER * max(counts):  # not for want of images: no balancing
            return _not_for_want_of_images(v, what, them)
    message = (f"{what} A class with few training images, or one that looks like another, "
               f"does this.")
    if v.balanced:  # evened out already: more images are what is left
        return RunFinding("class_never_predicted", v.epoch, "warning",
                          f"{message} It does so even with "
                          f"{BALANCED.get(v.balanced, v.balanced)}.",
                          f"add images of {them}, or weight {them} more in the loss's class "
                          f"weights (loss.params.class_weights)")
    return RunFinding("class_never_predicted", v.epoch, "warning", message,
                      "use a class-weighted loss (--set data.balance=weighted_loss), or add "
                      f"images of {them}",
                      action(WEIGHTED_LOSS, {"data.balance": "weighted_loss"}))


def _not_for_want_of_images(v: RunView, what: str, them: str) -> RunFinding:
    """``class_never_predicted`` of classes with about as many training images as the
    largest: evening the classes out changes nothing (equal weights are no weights), so
    the network's own cause where the model doctor found one (a dropout of 0.95), else a
    class that looks like another, which Evaluate's confusion matrix shows."""
    they = "it is" if them == "it" else "they are"
    if (cause := v.cause(stops=False) or v.label_change) is not None:
        lead = "the likely cause is the augmentation" if cause is v.label_change else \
            cause.lead[:1].lower() + cause.lead[1:]
        return RunFinding("class_never_predicted", v.epoch, "warning",
                          f"{what} So {they} not short of images; {lead}: {cause.why}.",
                          cause.fix, cause.action)
    return RunFinding("class_never_predicted", v.epoch, "warning",
                      f"{what} So {they} not short of images; "
                      f"{'it likely looks' if them == 'it' else 'they likely look'} like "
                      f"another class to the network.",
                      f"check Evaluate's confusion matrix for the class {they} called "
                      f"instead; open a few images of both and check the labels")
