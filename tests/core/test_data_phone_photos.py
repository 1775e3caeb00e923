"""A folder of phone photos as users have them: upper-case ``.JPG`` names, one photo cut
short in a copy, an iPhone's ``.HEIC`` beside the JPEGs. Every count is of the images that
are trained on; the others are listed as unreadable with the reason, never silently."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from helpers import run_cli

HAS_HEIF = importlib.util.find_spec("pillow_heif") is not None
needs_no_heif = pytest.mark.skipif(HAS_HEIF, reason="pillow-heif is installed: HEIC is read")


def _phone_folder(root: Path, per_class: int = 15) -> Path:
    """3 classes x ``per_class`` JPEGs (the first named ``.JPG``), a truncated JPEG in
    dog/ and a (junk) HEIC photo in cat/."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for ci, c in enumerate(("cat", "dog", "plant")):
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            pixels = (rng.random((48, 64, 3)) * 60 + ci * 80).astype(np.uint8)
            Image.fromarray(pixels).save(root / c / f"IMG_{ci}{i:03d}.{'JPG' if i == 0 else 'jpg'}",
                                         quality=90)
    whole = (root / "cat" / "IMG_0001.jpg").read_bytes()
    (root / "dog" / "IMG_broken.jpg").write_bytes(whole[:len(whole) // 2])
    (root / "cat" / "IMG_9999.HEIC").write_bytes(os.urandom(5000))
    return root


@needs_no_heif
@pytest.mark.parametrize("quick", [False, True])
def test_scan_lists_a_heic_photo_as_unreadable_and_counts_upper_case_jpgs(capsys, tmp_path,
                                                                          quick):
    root = _phone_folder(tmp_path / "photos")
    code, out, err = run_cli(capsys, "scan", root, "--json", *(["--quick"] if quick else []))
    assert code == 0, err
    data = json.loads(out)
    heic = [u for u in data["unreadable"] if u["path"].endswith("IMG_9999.HEIC")]
    assert len(heic) == 1
    reason = heic[0]["reason"]
    assert "HEIC photos cannot be read" in reason and "export them as JPEG" in reason
    assert "Most Compatible" in reason and "pip install pillow-heif" in reason
    assert data["counts"]["cat"] == 15  # IMG_0000.JPG counts; the HEIC does not
    if not quick:  # a verifying scan also finds the cut-off one
        assert data["counts"] == {"cat": 15, "dog": 15, "plant": 15}
        assert sorted(Path(u["path"]).name for u in data["unreadable"]) == \
            ["IMG_9999.HEIC", "IMG_broken.jpg"]
    code, out, _ = run_cli(capsys, "scan", root)
    assert "IMG_9999.HEIC: HEIC photos cannot be read" in out


@needs_no_heif
def test_a_folder_of_only_heic_photos_says_why_it_cannot_be_trained(tmp_path):
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import DataError

    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "IMG_1.heic").write_bytes(b"\0" * 100)
    index = scan_folder(tmp_path)
    assert len(index.unreadable) == 2
    with pytest.raises(DataError, match="HEIC photos cannot be read"):
        index.check_trainable()


@needs_no_heif
def test_predict_on_a_folder_names_its_heic_photo(capsys, tmp_path, tiny_experiment):
    from helpers import random_bundle

    bundle, _ = random_bundle(tmp_path / "bundle.pt", tiny_experiment)
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "IMG_1.HEIC").write_bytes(b"\0" * 100)
    red = next((Path(tiny_experiment.data.folder) / "red").iterdir())
    (folder / "red.png").write_bytes(red.read_bytes())
    code, out, err = run_cli(capsys, "predict", bundle, folder, "--json")
    assert code == 0, err
    results = {Path(r["path"]).name: r for r in json.loads(out)}
    assert set(results) == {"IMG_1.HEIC", "red.png"}
    assert "HEIC photos cannot be read" in results["IMG_1.HEIC"]["error"]


def test_train_notes_heic_photos_at_the_start_and_skips_a_broken_one_when_met(
        capsys, tmp_path, tiny_experiment):
    # The run lists the files without decoding them (a second decode of every photo
    # before the first epoch's would cost 2.5 s on 160 phone photos, as much as the rest
    # of the run): a HEIC photo is known from its name and noted at the start, a
    # truncated JPEG is skipped, named, when the first epoch meets it.
    root = _phone_folder(tmp_path / "photos")
    exp_file = tmp_path / "exp.json"
    tiny_experiment.data.folder = str(root)
    tiny_experiment.data.val_fraction = 0.2
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    code, out, err = run_cli(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("training run: 46 images (37 for training, 9 for "
                               "validation), 3 classes")
    notes = [line for line in lines[1:4] if line.startswith("note: ")]
    if not HAS_HEIF:
        assert len(notes) == 1 and "IMG_9999.HEIC (HEIC photos cannot be read" in notes[0]
    assert "skipped unreadable image" in err and "IMG_broken.jpg" in err
