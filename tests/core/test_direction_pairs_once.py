"""The direction-word judgement reads each class name once per list of names and pairs names
by looking their turned forms up (review: it compared every pair of names, once per flip
and turn, four times per label_hints call on the GUI thread: seconds for 1000 classes).
The pairs found are the ones every pair compared finds, in the classes' order."""

from __future__ import annotations

import itertools

from workbench.core.data.augment import directions
from workbench.core.data.augment.hints import label_hints
from workbench.core.registry import Component

_STEPS = [Component("RandomHorizontalFlip"), Component("RandomVerticalFlip"),
          Component("RandomRotation", {"degrees": 170})]


def test_each_class_name_is_read_once_per_label_hints_call(monkeypatch):
    read = []
    form = directions._form
    monkeypatch.setattr(directions, "_form", lambda name: read.append(name) or form(name))
    classes = [f"{i:03d}.Bird_{i}" for i in range(300)]
    classes += ["TurnLeft", "TurnRight", "TurnUp", "TurnDown"]
    hints = label_hints(classes, _STEPS)
    assert [h.index for h in hints] == [0, 1, 2]
    paired = 4  # the found pairs' words are read again to name their axes
    assert len(read) <= len(classes) + paired, len(read)
    read.clear()
    label_hints(classes, _STEPS)  # the same names again (the next edit): not read again
    assert len(read) <= paired


def _every_pair(classes, *mappings):
    forms = [(c, directions._form(c)) for c in classes]
    return [(a, b) for (a, fa), (b, fb) in itertools.combinations(forms, 2)
            if any(directions._turned(fa, m) == fb != fa or directions._turned(fb, m) == fa != fb
                   for m in mappings)]


def test_the_pairs_are_those_of_every_pair_compared_in_the_classes_order():
    classes = ["right", "cat", "left", "TurnLeft", "up", "turn_left", "TurnRight", "down",
               "SpinCW", "spin_ccw", "left_to_right", "right_to_left", "upright", "Bright",
               "leftArrow", "upArrow", "downArrow", "right", "ArrowUp", "ArrowDown"]
    pairs = directions.direction_pairs(classes)
    for flip in directions.FLIP_NAMES:
        assert pairs[flip] == _every_pair(classes, directions._FLIPPED[flip]), flip
    assert pairs["RandomHorizontalFlip"][:2] == [("right", "left"), ("left", "right")]
    quarter = _every_pair(classes, directions._QUARTER_TURN, directions._BACK_TURN)
    assert directions.rotation_limit(classes) == (45.0, f"the classes "
                                                        f"{directions._shown(quarter)} are a "
                                                        f"quarter-turn apart")
    half = _every_pair(classes[:4], directions._HALF_TURN)  # no quarter-turn among these
    assert directions.rotation_limit(classes[:4]) == (90.0, f"the classes "
                                                      f"{directions._shown(half)} are a "
                                                      f"half-turn apart")
