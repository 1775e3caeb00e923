"""Run names keep the letters of a dataset folder named in any language ("Données été",
"猫と犬", "हिन्दी" with its vowel signs), in one spelling (NFC) whatever the file system gave, and a run's folder ends
with the very name, so numbering counts up and the Runs tab's Dataset column reads it."""

from __future__ import annotations

import unicodedata

import pytest

from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers
from workbench.core.runs.names import dataset_label, safe_run_name, slug, suggest_run_name
from workbench.core.runs.recorder import new_run_dir


def _seed_cnn(folder: str) -> Experiment:
    exp = Experiment(name="experiment")
    exp.data.folder = folder
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    return exp


@pytest.mark.parametrize("text, expected", [
    ("Données été", "Données-été"), ("Ñandú fotos", "Ñandú-fotos"), ("猫と犬", "猫と犬"),
    ("数据", "数据"), ("Ünïcode (v2)", "Ünïcode-v2"), ("my photos!", "my-photos"),
    ("हिन्दी", "हिन्दी"), ("தமிழ் படங்கள்", "தமிழ்-படங்கள்"),  # vowel signs, viramas (Mn, Mc)
    (unicodedata.normalize("NFD", "Données été"), "Données-été"),  # a Mac's spelling
    (' a<b>:c"d/e\\f|g?h*i ', "a-b-c-d-e-f-g-h-i"),  # none a folder name may not hold
    ("..hidden.", "hidden"), ("???", "")])
def test_slug_keeps_letters_of_any_language(text, expected):
    got = slug(text)
    assert got == expected and unicodedata.is_normalized("NFC", got)
    assert safe_run_name(got) == got  # the run folder ends with the very name


def test_datasets_in_other_scripts_get_names_of_their_own(tmp_path):
    assert dataset_label(str(tmp_path / "猫と犬")) != dataset_label(str(tmp_path / "数据"))
    assert dataset_label(str(tmp_path / "Données été" / "train")) == "Données-été"
    assert dataset_label(str(tmp_path / "!!!")) == "data"


def test_a_unicode_run_name_counts_up_from_its_folders(tmp_path):
    root = tmp_path / "runs"
    exp = _seed_cnn(str(tmp_path / unicodedata.normalize("NFD", "Données été")))
    first = suggest_run_name(exp, root)
    assert first == "Données-été-seed-cnn-1"
    new_run_dir(first, root)
    assert suggest_run_name(exp, root) == "Données-été-seed-cnn-2"
    # A folder a Mac's file system spelled in NFD counts too.
    (root / unicodedata.normalize("NFD", "2026-01-01_10-00-00-Données-été-seed-cnn-7")).mkdir()
    assert suggest_run_name(exp, root) == "Données-été-seed-cnn-8"
