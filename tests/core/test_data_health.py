"""Data health: copies, conflicting labels, train/validation leaks, odd images and likely
mislabelled images, on small planted sets (and a clean one that must give no finding)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from helpers import make_photo_folder, make_planted_digits, run_cli
from workbench.core.data.health.cheap import ASPECT_LIMIT
from workbench.core.data.health.report import check_dataset
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import split_for
from workbench.core.experiment import Experiment


_photos = make_photo_folder


def _experiment(folder, **data) -> Experiment:
    exp = Experiment(name="health")
    exp.data.folder = str(folder)
    exp.data.input_size = [32, 32]
    for k, v in data.items():
        setattr(exp.data, k, v)
    exp.training.device = "cpu"
    return exp.validate()


def test_a_clean_set_gives_no_finding(tmp_path):
    report = check_dataset(_experiment(_photos(tmp_path / "clean")))
    assert report.num_images == 36
    assert report.clean, report.to_json()


def test_copies_across_classes_and_near_copies_across_the_split_are_found(tmp_path):
    root = _photos(tmp_path / "d")
    # The same picture filed as a cat and as a dog: a conflict (and an exact duplicate).
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    # An owl saved again as a JPEG and one resized by a pixel: near copies in their class.
    owl = Image.open(root / "owls" / "owls_03.png")
    owl.convert("RGB").save(root / "owls" / "owls_again.jpg", quality=85)
    cat = Image.open(root / "cats" / "cats_05.png")
    cat.resize((49, 49), Image.BICUBIC).save(root / "cats" / "cats_05_bigger.png")
    # Same pixels, different bytes: a PNG re-saved with other compression settings.
    Image.open(root / "dogs" / "dogs_04.png").save(root / "dogs" / "dogs_04_again.png",
                                                 compress_level=0)
    exp = _experiment(root, val_fraction=0.5)
    report = check_dataset(exp)
    p = lambda rel: str(root / rel)  # noqa: E731
    assert sorted(report.exact_duplicates) == [
        [p("cats/cats_00.png"), p("dogs/dogs_copy.png")],
        [p("dogs/dogs_04.png"), p("dogs/dogs_04_again.png")]]
    assert sorted(report.near_duplicates) == [
        [p("cats/cats_05.png"), p("cats/cats_05_bigger.png")],
        [p("owls/owls_03.png"), p("owls/owls_again.jpg")]]
    assert report.conflicting_labels == [[p("cats/cats_00.png"), p("dogs/dogs_copy.png")]]
    # A leak is a group with a member on each side of the experiment's own split.
    train, val = split_for(scan_folder(str(root)), exp.data)
    val_paths = {q for q, _ in val}
    expected = [g for g in report.exact_duplicates + report.near_duplicates
                if len({q in val_paths for q in g}) == 2]
    assert sorted(report.train_val_leaks) == sorted(expected)
    assert report.unreadable == [] and report.blank_images == []


def test_the_cheap_checks_find_blank_oddly_shaped_and_tiny_images(tmp_path):
    root = _photos(tmp_path / "d")
    Image.new("RGB", (48, 48), (120, 130, 140)).save(root / "cats" / "blank.png")
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (10, 60, 3), dtype=np.uint8)
                    ).save(root / "dogs" / "strip.png")
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (6, 6, 3), dtype=np.uint8)
                    ).save(root / "owls" / "tiny.png")
    (root / "owls" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    report = check_dataset(_experiment(root))
    assert report.blank_images == [str(root / "cats" / "blank.png")]
    assert report.extreme_aspect == [{"path": str(root / "dogs" / "strip.png"),
                                      "width": 60, "height": 10}]
    assert 60 / 10 > ASPECT_LIMIT
    assert [t["path"] for t in report.tiny_images] == [str(root / "owls" / "tiny.png")]
    assert [u["path"] for u in report.unreadable] == [str(root / "owls" / "broken.jpg")]


def test_excluded_images_leave_training_and_the_check_and_move_nothing_else(tmp_path):
    root = _photos(tmp_path / "d")
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    exp = _experiment(root)
    index = scan_folder(str(root))
    train0, val0 = split_for(index, exp.data)
    exp.data.exclude = ["dogs/dogs_copy.png"]
    exp = Experiment.from_dict(json.loads(exp.to_json())).validate()  # kept in the file
    train1, val1 = split_for(index, exp.data)
    gone = str(root / "dogs" / "dogs_copy.png")
    assert gone not in {p for p, _ in train1 + val1}
    # Every other image stays on its side: excluding never reshuffles the split.
    assert [s for s in train0 if s[0] != gone] == train1
    assert [s for s in val0 if s[0] != gone] == val1
    report = check_dataset(exp)
    assert report.excluded == 1 and report.conflicting_labels == []
    assert report.num_images == 36


def test_the_command_line_prints_the_contract_keys_and_refuses_a_missing_folder(
        capsys, tmp_path):
    root = _photos(tmp_path / "d")
    shutil.copy(root / "cats" / "cats_01.png", root / "owls" / "owl_copy.png")
    code, out, err = run_cli(capsys, "check", root, "--json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("exact_duplicates", "near_duplicates", "conflicting_labels",
                "train_val_leaks", "label_issues"):
        assert isinstance(data[key], list)
    assert data["conflicting_labels"] == [[str(root / "cats" / "cats_01.png"),
                                           str(root / "owls" / "owl_copy.png")]]
    assert data["labels_checked"] is False
    code, out, err = run_cli(capsys, "check", root)
    assert code == 0 and "conflicting labels (1)" in out and "--labels" in out
    # Without an experiment it says whose split and exclusions it used.
    assert "no --experiment: checked with the default split (0.2 held out, seed 0)" in err
    exp_file = tmp_path / "exp.json"
    _experiment(root).save(exp_file)
    code, _, err = run_cli(capsys, "check", "--experiment", exp_file)
    assert code == 0 and "no --experiment" not in err
    code, _, err = run_cli(capsys, "check", tmp_path / "nowhere")
    assert code == 2 and "does not exist" in err
    one = _photos(tmp_path / "one", classes=("cats",))
    code, _, err = run_cli(capsys, "check", one, "--labels")
    errors = [ln for ln in err.splitlines() if ln.startswith("workbench check: error")]
    assert code == 2 and len(errors) == 1 and "needs at least two classes" in errors[0]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return make_planted_digits(tmp_path_factory.mktemp("digits") / "d", limit=1000,
                               conflicts=8, near=12, flips=12)


def test_real_digits_with_planted_faults(planted, capsys):
    root, faults = planted
    code, out, err = run_cli(capsys, "check", root, "--labels", "--json")
    assert code == 0, err
    assert "label check: training fold 1 of 5" in err  # progress, on stderr
    data = json.loads(out)
    groups = [set(g) for g in data["exact_duplicates"] + data["near_duplicates"]]
    found = [any(set(pair) <= g for g in groups) for pair in faults["near"]]
    conflicts = [set(g) for g in data["conflicting_labels"]]
    assert all(any(set(pair) <= g for g in conflicts) for pair in faults["conflicts"])
    assert sum(found) >= 0.9 * len(found)  # nearly every near copy
    planted_paths = {p for pair in faults["conflicts"] + faults["near"] for p in pair}
    false = [g for g in groups if not g & planted_paths]
    assert len(false) <= 5, false  # a few real near-identical 8x8 digits at most
    # Most flipped labels rank among the top flagged, with few false alarms.
    ranked = [i["path"] for i in data["label_issues"]]
    flips = {p for p, _ in faults["flips"]}
    wrong = flips | {p for pair in faults["conflicts"] for p in pair}
    top = ranked[:2 * len(flips) + len(faults["conflicts"])]
    assert len(flips & set(top)) >= 0.6 * len(flips), data["label_issues"][:30]
    assert len([p for p in ranked if p not in wrong]) <= 15
    true_of = dict(faults["flips"])
    suggested = [i for i in data["label_issues"] if i["path"] in true_of]
    assert sum(i["suggested"] == true_of[i["path"]] for i in suggested) >= 0.8 * len(suggested)


def test_moving_an_image_to_its_suggested_class_and_undoing_it(tmp_path):
    from workbench.core.data.health.actions import move_to_class, undo
    from workbench.core.errors import DataError

    root = _photos(tmp_path / "d")
    (root / "dogs" / "cats_03.png").write_bytes(b"a dog of that name already")
    index = scan_folder(str(root))
    src = str(root / "cats" / "cats_03.png")
    move = move_to_class(index, src, "dogs")
    assert move.target == str(root / "dogs" / "cats_03-2.png")  # never over another file
    assert not (root / "cats" / "cats_03.png").exists()
    assert [p for p, lb in scan_folder(str(root)).samples if p == move.target]
    undo(move)
    assert (root / "cats" / "cats_03.png").is_file()
    assert (root / "dogs" / "cats_03.png").read_bytes() == b"a dog of that name already"
    with pytest.raises(DataError, match="no class 'ferrets'"):
        move_to_class(index, src, "ferrets")


def test_training_and_evaluation_leave_excluded_images_out(tmp_path):
    from workbench.core.evaluate.evaluation import evaluate
    from workbench.core.train.trainer import Callback, Trainer

    root = _photos(tmp_path / "d")
    exp = _experiment(root)
    exp.data.exclude = ["cats/cats_00.png", "dogs/dogs_01.png", "owls/owls_02.png"]
    exp.training.epochs = 1
    infos = []

    class Keep(Callback):
        def on_fit_start(self, trainer, info):
            infos.append(info)

    result = Trainer(exp.validate(), [Keep()]).fit()
    assert infos[0]["num_train"] + infos[0]["num_val"] == 36 - 3
    bundle = result.save_bundle(tmp_path / "b.pt")
    evaluation = evaluate(bundle)  # its validation split, without the excluded images
    assert evaluation.num_images == infos[0]["num_val"]


def test_a_second_check_decodes_only_what_changed(tmp_path, monkeypatch):
    from workbench.core.data.health import fingerprint as fp_module

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    root = _photos(tmp_path / "d")
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    (root / "owls" / "broken.png").write_bytes(b"not an image")
    first = check_dataset(_experiment(root)).to_json()
    decoded = []
    real = fp_module.fingerprint
    monkeypatch.setattr(fp_module, "fingerprint", lambda p: decoded.append(p) or real(p))
    again = check_dataset(_experiment(root)).to_json()
    assert decoded == [] and {k: v for k, v in again.items() if k != "seconds"} == \
        {k: v for k, v in first.items() if k != "seconds"}
    # A changed file is decoded again: here it stops being a copy.
    Image.fromarray(np.random.default_rng(9).integers(0, 255, (48, 48, 3), dtype=np.uint8)
                    ).save(root / "dogs" / "dogs_copy.png")
    third = check_dataset(_experiment(root))
    assert decoded == [str(root / "dogs" / "dogs_copy.png")]
    assert third.conflicting_labels == [] and third.unreadable == first["unreadable"]
