"""How far the label check can be trusted: its networks' held-out accuracy against always
guessing the most common class and against a floor, the share of the images it flags (a
caution, not a verdict), and the one line that says it, why and what to do (the app and
the CLI)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from workbench.core.data.health.labels import (MAX_FLAGGED, MIN_ACCURACY, RELIABLE_SKILL,
                                               LabelQuality, fold_epochs, is_reliable,
                                               label_issues, label_quality, summary_line)


def _probs(labels, right, k):
    """One-hot probabilities, right for the first ``right`` images (else the next class)."""
    probs = np.zeros((len(labels), k))
    for i, lb in enumerate(labels):
        probs[i, lb if i < right else (lb + 1) % k] = 1.0
    return probs


def test_held_out_accuracy_and_chance_are_measured():
    labels = [0] * 60 + [1] * 20 + [2] * 20
    samples = [(f"/d/{i}.png", lb) for i, lb in enumerate(labels)]
    q = label_quality(samples, _probs(labels, 70, 3), epochs=2)
    assert q.accuracy == pytest.approx(0.7) and q.chance == pytest.approx(0.6)
    assert q.images == 100 and q.epochs == 2
    assert q.needed == pytest.approx(max(MIN_ACCURACY, 0.6 + RELIABLE_SKILL * 0.4))
    assert LabelQuality.from_dict(q.to_dict()) == q


@pytest.mark.parametrize("k, accuracy, reliable", [
    (5, 0.48, False),   # the tester's weak network: 38-43% of a sound set flagged
    (5, 0.61, False),   # past half-way from chance, yet wrong on 39%: below the floor
    (5, 0.79, False), (5, 0.80, True), (5, 0.91, True),
    (2, 0.70, False), (2, 0.80, True),   # two classes: 50% is a coin
    (10, 0.60, False), (10, 0.85, True),
    (150, 0.55, False),  # chance 0.7%: half-way is 50%, but 45% of its answers are wrong
    (150, 0.93, True)])
def test_the_findings_are_trusted_only_half_way_from_chance_and_above_a_floor(
        k, accuracy, reliable):
    assert LabelQuality(accuracy, 1 / k, 100).reliable is reliable


def test_half_way_from_chance_still_rules_where_one_class_is_most_images():
    assert LabelQuality(0.92, 0.9, 100).needed == pytest.approx(0.95)
    assert not LabelQuality(0.92, 0.9, 100).reliable  # barely better than "always A"
    assert LabelQuality(0.96, 0.9, 100).reliable


def test_findings_over_a_tenth_of_the_images_are_said_to_be_either_with_move_on():
    """Web-scraped images, 14% of them filed wrongly: a network that learned the true
    classes reaches about 86% on held-out folds and flags about 14%. That was called
    "unreliable, most likely its own mistakes", and Move was turned off on the very dataset
    that needed it: the share flagged cannot tell wrong labels from mistakes, the images can."""
    assert not LabelQuality(0.9, 0.2, 600, 5, flagged=int(MAX_FLAGGED * 600)).too_many
    many = LabelQuality(0.86, 0.2, 600, 5, flagged=84, classes=5)
    assert many.too_many and many.reliable and many.to_dict()["reliable"] is True
    assert LabelQuality.from_dict(many.to_dict()) == many
    report = _report(many, issues=84, seconds=92)
    assert is_reliable(report) and many.doubt() == ""  # Move to suggested class stays on
    assert summary_line(report) == (
        "Labels checked in 1 min 32 s: the network reached 86% on held-out folds and flags "
        "84 of the 600 images checked (14%), more than wrong labels usually are (a few "
        "percent): either many labels are wrong or many flags are its own mistakes. Open a "
        "few before moving them; if most are filed rightly, use a stronger network (a "
        "pretrained backbone, say): each fold already trained the check's most epochs (5).")
    # A weak network's many flags are still its own mistakes: not trusted (Move off).
    weak = LabelQuality(0.6, 0.2, 600, 5, flagged=152, classes=150)
    assert weak.too_many and not weak.reliable and weak.doubt().startswith("Unreliable")
    # A report saved before the count was kept is judged by its accuracy.
    old = LabelQuality.from_dict({"accuracy": 0.9, "chance": 0.2, "images": 600})
    assert old.flagged == 0 and old.reliable


def _weak_network(classes=150, per_class=4, right=0.55, seed=0):
    """Held-out probabilities of a network that learned ``right`` of a sound dataset of
    ``classes`` classes: its right answers confident, its wrong ones too, as 5 epochs on
    3 images a class give."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per_class)
    probs = rng.dirichlet(np.full(classes, 0.05), size=len(labels))
    wrong = rng.random(len(labels)) >= right
    for i, lb in enumerate(labels):
        top = (lb + 1 + rng.integers(classes - 1)) % classes if wrong[i] else lb
        probs[i, top] += 1.5
    return [(f"/d/sp{lb:03d}/{i}.png", int(lb)) for i, lb in enumerate(labels)], \
        probs / probs.sum(axis=1, keepdims=True)


def test_a_weak_network_on_150_small_classes_flags_a_quarter_and_is_not_trusted():
    """walk-odd: 150 sound classes of 4 images, 55% held out: a quarter flagged."""
    samples, probs = _weak_network()
    names = [f"sp{i:03d}" for i in range(150)]
    issues = label_issues(samples, probs, names)
    q = label_quality(samples, probs, 5, classes=names, flagged=len(issues))
    assert 0.5 < q.accuracy < 0.6 and q.chance < 0.01 and q.classes == 150
    assert len(issues) > MAX_FLAGGED * len(samples)  # every one a sound label
    assert not q.reliable and q.needed == pytest.approx(MIN_ACCURACY)
    report = _report(q, issues=len(issues), seconds=92)
    assert not is_reliable(report)  # so Move to suggested class stays off
    line = summary_line(report)
    assert line.startswith(f"Labels checked in 1 min 32 s, but the network reaches only "
                           f"{q.accuracy:.0%} on held-out folds (chance is 1%; trusting it "
                           f"takes 80%): these {len(issues)} findings are unreliable, as it "
                           f"is wrong on {1 - q.accuracy:.0%} of the images it did not train "
                           f"on and flags its own mistakes as wrong labels; use a stronger "
                           f"network (a pretrained backbone, say) or add images (150 classes "
                           f"of 4 images on average are too few to learn from)"), line


def _report(quality, issues=3, seconds=42.0):
    return SimpleNamespace(labels_checked=True, label_issues=[{}] * issues,
                           seconds={"labels": seconds},
                           label_quality=None if quality is None else quality.to_dict())


def test_the_summary_line_gives_the_held_out_accuracy_and_says_when_not_to_trust_it():
    good = _report(LabelQuality(0.91, 0.2, 500, 5))
    assert summary_line(good) == ("Labels checked in 42.0 s: the network reached 91% on "
                                  "held-out folds; 3 likely mislabelled.")
    assert is_reliable(good)
    weak = _report(LabelQuality(0.48, 0.2, 500, 2), issues=17, seconds=75)
    line = summary_line(weak)
    assert line.startswith("Labels checked in 1 min 15 s, but the network reaches only 48% "
                           "on held-out folds (chance is 20%; trusting it takes 80%): these "
                           "17 findings are unreliable, as it is wrong on 52% of the images "
                           "it did not train on and flags its own mistakes as wrong labels; "
                           "train longer (more epochs: each fold trained 2"), line
    assert "or use a stronger network." in line and not is_reliable(weak)
    capped = summary_line(_report(LabelQuality(0.48, 0.2, 500, 5)))
    assert capped.endswith("use a stronger network (a pretrained backbone, say): each fold "
                           "already trained the check's most epochs (5).")
    none = _report(LabelQuality(0.95, 0.5, 80), issues=0)
    assert summary_line(none).endswith("reached 95% on held-out folds; none looks "
                                       "mislabelled.")
    assert summary_line(_report(None, issues=2)) == "Labels checked in 42.0 s: 2 likely " \
                                                    "mislabelled."
    assert summary_line(SimpleNamespace(labels_checked=False)) == ""


def test_each_fold_trains_the_experiments_epochs_up_to_the_checks_limit():
    exp = SimpleNamespace(training=SimpleNamespace(epochs=2))
    assert fold_epochs(exp, 5) == 2
    exp.training.epochs = 30
    assert fold_epochs(exp, 5) == 5
