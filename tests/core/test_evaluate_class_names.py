"""Evaluating on a folder whose class names are spelled differently from the model's: the
same name with its accents encoded as a Mac does (NFD) is the model's class, said in a
note; a name the model does not know is refused naming the model's closest classes."""

from __future__ import annotations

import os
import unicodedata

import pytest

from helpers import make_image_folder, random_bundle, run_cli
from workbench.core.errors import DataError
from workbench.core.evaluate.evaluation import evaluate

NFC = unicodedata.normalize("NFC", "Lactarius_Écrin_çà")
NFD = unicodedata.normalize("NFD", NFC)


def test_a_folder_whose_accents_are_encoded_as_nfd_is_the_models_class(
        tmp_path, capsys, tiny_experiment):
    bundle, _ = random_bundle(tmp_path / "m.pt", tiny_experiment, ("blue", NFC, "red"))
    folder = make_image_folder(tmp_path / "mac", classes=(NFD, "blue"), per_class=3)
    assert NFD in os.listdir(folder) or NFC in os.listdir(folder)
    result = evaluate(bundle, folder)
    assert result.classes == ["blue", NFC, "red"]
    assert [r["support"] for r in result.per_class()] == [3, 3, 0]
    said = [n for n in result.notes if "accents encoded differently" in n]
    if NFD in os.listdir(folder):  # a file system that keeps the NFD name (not macOS)
        assert len(said) == 1 and f"{NFD!r} (NFD) is the model's class" in said[0]
    code, out, err = run_cli(capsys, "evaluate", bundle, folder)
    assert code == 0 and "6 images" in out
    assert ("note: the class folder" in err) == bool(said)


def test_a_model_trained_on_nfd_names_is_said_to_be_the_nfd_one(tmp_path, tiny_experiment):
    """The other way round: the model learned a Mac's NFD folder, the folder is NFC."""
    bundle, _ = random_bundle(tmp_path / "m.pt", tiny_experiment, ("blue", NFD, "red"))
    folder = make_image_folder(tmp_path / "pc", classes=(NFC, "blue"), per_class=2)
    result = evaluate(bundle, folder)
    assert [r["support"] for r in result.per_class()] == [2, 2, 0]
    said = [n for n in result.notes if "accents encoded differently" in n]
    if NFC in os.listdir(folder):  # a file system that keeps the NFC name
        assert said == [f"the class folder {NFC!r} is the model's class {NFD!r} (NFD) with "
                        f"its accents encoded differently (NFD is how a Mac often writes "
                        f"names): evaluated as that class"]


def test_a_class_the_model_does_not_know_names_its_closest_classes(tmp_path, tiny_experiment):
    classes = [f"Boletus_{i:02d}" for i in range(20)] + ["Russula"]
    bundle, _ = random_bundle(tmp_path / "m.pt", tiny_experiment, classes)
    typo = make_image_folder(tmp_path / "typo", classes=("Rusula", "Boletus_03"), per_class=1)
    with pytest.raises(DataError) as e:
        evaluate(bundle, typo)
    message = str(e.value)
    assert "has class 'Rusula' that the model does not know" in message
    assert "the closest of its 21 classes: 'Russula'" in message
    assert "Boletus_00" not in message  # not the first few of the model's classes
    other = make_image_folder(tmp_path / "other", classes=("zzz",), per_class=1)
    with pytest.raises(DataError, match=r"it was trained on: 'Boletus_00', .*'Boletus_09' "
                                        r"and 11 more\)"):
        evaluate(bundle, other)


def test_resuming_on_a_macs_copy_says_the_accents_not_missing_and_new():
    """A run continued on its folder copied from a Mac is refused (NFD names sort
    differently, so the labels would change), saying why: it read "'Écrin' is missing;
    'Écrin' is new", one name twice."""
    import unicodedata

    from workbench.core.train.resume import class_change

    nfd = unicodedata.normalize("NFD", "Écrin")
    said = class_change(["cat", "Écrin"], ["cat", nfd])
    assert said == (f"2 classes then, 2 now: {nfd!r} has its accents encoded differently "
                    f"(NFD, as a Mac writes names): rename it as before")
    assert class_change(["a", "b"], ["a", "c"]) == "2 classes then, 2 now: 'b' is missing; " \
                                                   "'c' is new"
