"""The classes a model does not know, by the one rule evaluation refuses with
(:mod:`workbench.core.evaluate.known_classes`): the app's Evaluate tab asks the same
function before Evaluate is pressed, and names them the same way (review-qt item 8)."""

from __future__ import annotations

import unicodedata
from types import SimpleNamespace

import pytest

from workbench.core.errors import DataError
from workbench.core.evaluate.known_classes import (model_labels, named_classes,
                                                   unknown_classes)

NFC = unicodedata.normalize("NFC", "Écrin")
NFD = unicodedata.normalize("NFD", NFC)


def test_unknown_classes_are_those_evaluation_refuses():
    model = ["blue", NFC, "red"]
    assert unknown_classes(["blue", NFD, "red"], model) == []  # a Mac's encoding: known
    assert unknown_classes(["Blue", "green", "red"], model) == ["Blue", "green"]
    index = SimpleNamespace(classes=["Blue", "green", "red"], root="/data/colours")
    with pytest.raises(DataError, match=r"^/data/colours has classes 'Blue', 'green' that "
                                        r"the model does not know"):
        model_labels(index, model)
    # A model with both encodings of one name: each is its own class, no third one.
    assert unknown_classes([NFD, NFC, NFC + "x"], [NFC, NFD]) == [NFC + "x"]


def test_named_classes_names_the_first_five():
    assert named_classes(["a"]) == "class 'a'"
    assert named_classes(["a", "b"]) == "classes 'a', 'b'"
    assert named_classes(list("abcdef")) == "classes 'a', 'b', 'c', 'd', 'e' ..."
