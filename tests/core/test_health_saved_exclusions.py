"""What the Health view keeps of a folder and its exclusions: a kept check still names the
side (train/val) of the images excluded since, and is out of date once ``data.exclude``
changed; the exclusions cleared when another folder was opened are kept for their folder;
a Move (or its Undo) takes an exclusion of the file with it; and the label findings a
later check carries over say they are an earlier check's, and that flagged images moved
since."""

from __future__ import annotations

import time

from helpers import make_photo_folder
from workbench.core.data.health import saved
from workbench.core.data.health.actions import followed, move_to_class
from workbench.core.data.health.labels import LabelQuality, summary_line
from workbench.core.data.health.report import check_dataset
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment


def _experiment(root) -> Experiment:
    exp = Experiment(name="saved")
    exp.data.folder = str(root)
    exp.data.input_size = [32, 32]
    return exp


def test_a_kept_check_keeps_the_sides_of_images_excluded_since(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index = _experiment(root), scan_folder(str(root))
    report = check_dataset(exp, index=index)
    saved.save_report(index, exp.data, report)
    val = next(p for p, side in report.side_of.items() if side == "val")
    exp.data.exclude = [str(val)[len(str(root)) + 1:]]
    kept = saved.load(index, exp.data)
    assert kept.report.side_of == report.side_of  # "cats · val", not "cats"
    assert kept.report.label_of == report.label_of


def test_a_kept_check_is_out_of_date_once_the_exclusions_changed(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index = _experiment(root), scan_folder(str(root))
    exp.data.exclude = ["cats/cats_00.png", "dogs/dogs_00.png"]
    saved.save_report(index, exp.data, check_dataset(exp, index=index))
    exp.data.exclude = list(reversed(exp.data.exclude))  # the same entries
    assert saved.load(index, exp.data).stale == ""
    exp.data.exclude = []
    assert saved.load(index, exp.data).stale == (
        "The exclusions changed since this check: 2 images you included again were not "
        "checked (data.exclude had 2 entries then, none now). Check again to check them.")


def test_cleared_exclusions_are_kept_for_their_folder_until_taken_back(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=2)
    assert saved.take_exclusions(str(root)) == []
    saved.save_exclusions(str(root), ["cats/cats_00.png", "dogs/dogs_01.png"])
    saved.save_moves(str(root), [])  # what else the folder's file keeps stays beside them
    assert saved.take_exclusions(str(root)) == ["cats/cats_00.png", "dogs/dogs_01.png"]
    assert saved.take_exclusions(str(root)) == []  # given back once
    assert saved.take_exclusions(str(tmp_path / "other")) == []


def test_an_exclusion_follows_its_file_when_it_is_moved_and_moved_back(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=3)
    index = scan_folder(str(root))
    move = move_to_class(index, str(root / "cats" / "cats_01.png"), "dogs")
    exclude = ["owls/owls_00.png", "dogs/cats_01.png"]  # excluded at its new place
    back = followed(exclude, index, move.target, move.source)  # Undo move
    assert back == ["owls/owls_00.png", "cats/cats_01.png"]
    assert followed(["cats\\cats_01.png/"], index, move.source, move.target) == \
        ["dogs/cats_01.png"]  # written any way data.exclude matches it
    assert followed(exclude, index, str(root / "owls" / "owls_01.png"),
                    str(root / "cats" / "owls_01.png")) == exclude  # not named: unchanged


def test_carried_label_findings_say_they_are_an_earlier_checks(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index = _experiment(root), scan_folder(str(root))
    old = check_dataset(exp, index=index)
    flagged = [str(root / "owls" / f"owls_0{i}.png") for i in (1, 2)]
    old.label_issues = [{"path": p, "given": "owls", "suggested": "cats", "score": 0.5}
                        for p in flagged]
    old.labels_checked, old.seconds["labels"] = True, 118.0
    old.labels_checked_at = time.mktime((2020, 3, 3, 14, 5, 0, 0, 0, -1))  # another day
    old.label_quality = LabelQuality(0.8, 1 / 3, 37, 2).to_dict()
    assert summary_line(old) == ("Labels checked in 1 min 58 s: the network reached 80% on "
                                 "held-out folds; 2 likely mislabelled.")
    move_to_class(index, flagged[0], "cats")
    new = check_dataset(exp, index=scan_folder(str(root)))
    assert saved.keep_labels(old, new)
    assert summary_line(new) == (
        "Labels from the earlier label check of 03 Mar 14:05 (1 min 58 s): the network "
        "reached 80% on held-out folds; 1 likely mislabelled. 1 image it flagged was moved "
        "or removed since: Check labels again to check the labels as they are now.")
    # Kept through a restart, and by the next fast check too, with its count.
    saved.save_report(index, exp.data, new)
    back = saved.load(scan_folder(str(root)), exp.data).report
    again = check_dataset(exp, index=scan_folder(str(root)))
    assert saved.keep_labels(back, again)
    assert summary_line(again) == summary_line(new)


def test_exclusions_the_app_made_after_the_check_do_not_put_it_out_of_date(tmp_path):
    # Measured before: check, exclude the flagged images in the Health view, restart: "The
    # exclusions changed since this check (data.exclude had none then, 1 entry now): Check
    # again", of the view's own exclusions (which it did not call a change before the
    # restart).
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index = _experiment(root), scan_folder(str(root))
    saved.save_report(index, exp.data, check_dataset(exp, index=index))
    exp.data.exclude = ["cats/cats_00.png"]
    saved.keep_excluded_since(str(root), exp.data.exclude)  # the Health view's Exclude
    assert saved.load(index, exp.data).stale == ""  # after a restart
    exp.data.exclude = []  # included again: it was checked
    assert saved.load(index, exp.data).stale == ""
    exp.data.exclude = ["cats/cats_00.png", "dogs/dogs_00.png"]  # one not made in the app
    assert saved.load(index, exp.data).stale.startswith(
        "The exclusions changed since this check (data.exclude had none then, 2 entries "
        "now)")
    saved.save_report(index, exp.data, check_dataset(exp, index=index))  # checked again
    assert saved.load(index, exp.data).stale == ""
    exp.data.exclude = ["cats/cats_00.png"]  # excluded when checked, included again
    assert saved.load(index, exp.data).stale.startswith("The exclusions changed")


def test_exclusions_without_a_kept_check_keep_nothing(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=2)
    saved.keep_excluded_since(str(root), ["cats/cats_00.png"])
    assert not saved.file_for(str(root)).exists()
