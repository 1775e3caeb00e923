"""Class names that look the same but differ in spaces at the ends, accent encoding (NFC
and NFD, a folder copied from a Mac) or case: warned about by how they differ, and
matched to a model's classes by the one rule of :mod:`workbench.core.data.class_names`."""

from __future__ import annotations

import os
import unicodedata

import pytest

from helpers import make_image_folder, run_cli
from workbench.core.data.class_names import closest_names, match_classes
from workbench.core.data.scan import scan_folder
from workbench.core.runs.classes import same_classes

NFC = unicodedata.normalize("NFC", "Écrin_çà")
NFD = unicodedata.normalize("NFD", NFC)


def test_look_alike_class_folders_are_warned_about_by_what_differs(tmp_path, capsys):
    root = tmp_path / "look_alike"
    make_image_folder(root, classes=("Russula", "Russula ", NFC, NFD, "Dog", "dog", "oak"),
                      per_class=2)
    if len(os.listdir(root)) < 7:
        pytest.skip("the file system does not keep these names apart")
    warnings = scan_folder(root).warnings
    assert len(warnings) == 3
    case = "classes 'Dog' and 'dog' differ only in case: merge them if they are the same class"
    assert case in warnings  # the case wording as it always was
    spaces = next(w for w in warnings if "'Russula'" in w)
    assert "'Russula' and 'Russula ' differ only in spaces at the start or end" in spaces
    assert "separate classes" in spaces and "move the images of 'Russula ' into 'Russula'" \
        in spaces
    accents = next(w for w in warnings if NFC in w)
    assert f"classes {NFD!r} (NFD) and {NFC!r} differ only in how their accents are " \
           f"encoded (NFC or NFD" in accents
    assert f"move the images of {NFD!r} (NFD) into {NFC!r}" in accents
    code, _, err = run_cli(capsys, "scan", root)
    assert code == 0 and err.count("warning: classes ") == 3
    assert "differ only in spaces at the start or end" in err and "(NFD)" in err


def test_look_alike_labels_of_a_csv_file_are_warned_about_too(tmp_path):
    make_image_folder(tmp_path / "img", classes=("a",), per_class=3)
    rows = tmp_path / "labels.csv"
    rows.write_text(f"img/a/a_000.png,{NFC}\nimg/a/a_001.png,{NFD}\nimg/a/a_002.png,Oak\n",
                    encoding="utf-8")
    warnings = scan_folder(rows).warnings
    assert len(warnings) == 1 and "how their accents are encoded" in warnings[0]


def test_class_names_match_a_models_when_equal_after_nfc():
    labels, respelled = match_classes([NFD, "blue"], ["blue", NFC, "red"])
    assert labels == [1, 0] and respelled == [(NFD, NFC)]
    # The model's own spelling wins; two look-alikes in the model: no guessing.
    assert match_classes([NFD], [NFD, NFC]) == ([0], [])
    assert match_classes(["Russula "], ["Russula"]) == ([None], [])  # spaces: not the same
    # The model choosers (Evaluate's greying, Predict's choice) use the same rule.
    assert same_classes([NFC, "blue"], ["blue", NFD])
    assert not same_classes(["Russula"], ["Russula "])


def test_closest_names_ignore_case_spaces_and_accent_encoding():
    model = [f"Boletus_{i:02d}" for i in range(40)] + ["Russula", "Russula ", NFC]
    assert closest_names("russla", model)[:2] == ["Russula", "Russula "]
    assert closest_names("Bolletus_33", model)[0] == "Boletus_33"
    assert closest_names(NFD + "s", model)[0] == NFC
    assert closest_names("zzz", model) == []


def test_each_way_two_names_differ_is_named_not_only_the_last():
    """'Dog ' and 'dog' differ in case and a trailing space: "only in case" sent the user
    to rename by case, which does not merge them."""
    import unicodedata

    from workbench.core.data.class_names import look_alike_differences

    nfd = unicodedata.normalize("NFD", "Éa")
    assert look_alike_differences(["Dog ", "dog"]) == ["spaces", "case"]
    assert look_alike_differences([nfd, "éa"]) == ["accents", "case"]
    assert look_alike_differences([nfd, "Éa"]) == ["accents"]
    assert look_alike_differences(["Russula", "Russula "]) == ["spaces"]
    assert look_alike_differences(["Boletus", "boletus"]) == ["case"]
