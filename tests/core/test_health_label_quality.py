"""How far the label check can be trusted: its networks' held-out accuracy against always
guessing the most common class, and the one line that says it (the app and the CLI)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from workbench.core.data.health.labels import (RELIABLE_SKILL, LabelQuality, fold_epochs,
                                               is_reliable, label_quality, summary_line)


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
    assert q.needed == pytest.approx(0.6 + RELIABLE_SKILL * 0.4)
    assert LabelQuality.from_dict(q.to_dict()) == q


@pytest.mark.parametrize("k, accuracy, reliable", [
    (5, 0.48, False),   # the tester's weak network: 38-43% of a sound set flagged
    (5, 0.59, False), (5, 0.61, True), (5, 0.91, True),
    (2, 0.70, False), (2, 0.80, True),   # two classes: 50% is a coin
    (10, 0.50, False), (10, 0.60, True)])
def test_the_findings_are_trusted_only_half_way_from_chance_to_perfect(k, accuracy, reliable):
    assert LabelQuality(accuracy, 1 / k, 100).reliable is reliable


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
                           "on held-out folds (chance is 20%; trusting it takes 60%): these "
                           "17 findings are unreliable; train longer (more epochs: each "
                           "fold trained 2"), line
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
