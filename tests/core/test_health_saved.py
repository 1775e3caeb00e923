"""The Health view's memory of a folder between sessions: the last report (label findings
included), out of date once the folder or the split changed, and the moves Undo can take
back."""

from __future__ import annotations

import shutil

from helpers import make_photo_folder
from workbench.core.data.health import saved
from workbench.core.data.health.actions import move_to_class
from workbench.core.data.health.labels import LabelQuality
from workbench.core.data.health.report import check_dataset
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment


def _experiment(root) -> Experiment:
    exp = Experiment(name="saved")
    exp.data.folder = str(root)
    exp.data.input_size = [32, 32]
    return exp


def _checked(root):
    shutil.copy(root / "cats" / "cats_00.png", root / "dogs" / "dogs_copy.png")
    exp, index = _experiment(root), scan_folder(str(root))
    report = check_dataset(exp, index=index)
    cat = str(root / "cats" / "cats_03.png")
    report.label_issues = [{"path": cat, "given": "cats", "suggested": "dogs", "score": 0.9}]
    report.labels_checked, report.seconds["labels"] = True, 42.0
    report.label_quality = LabelQuality(0.48, 1 / 3, 37, 2).to_dict()
    return exp, index, report


def test_the_last_report_comes_back_with_its_label_findings(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index, report = _checked(root)
    sizes = {str(root / "cats" / "cats_00.png"): (48, 48)}
    saved.save_report(index, exp.data, report, sizes)

    kept = saved.load(scan_folder(str(root)), exp.data)
    assert kept.stale == "" and kept.checked_at > 0 and kept.sizes == sizes
    back = kept.report
    assert back.to_json() == {**report.to_json(), "seconds": back.to_json()["seconds"]}
    assert back.label_quality == report.label_quality and back.labels_checked
    assert back.label_of == report.label_of and back.side_of == report.side_of


def test_a_kept_report_is_out_of_date_once_the_folder_or_the_split_changed(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index, report = _checked(root)
    saved.save_report(index, exp.data, report)

    exp.data.seed += 1
    assert "split changed" in saved.load(index, exp.data).stale
    exp.data.seed -= 1
    shutil.copy(root / "owls" / "owls_00.png", root / "owls" / "new.png")  # one more image
    assert saved.load(scan_folder(str(root)), exp.data).stale.startswith(
        "The folder changed since this check")
    (root / "owls" / "new.png").unlink()
    (root / "dogs" / "dogs_copy.png").write_bytes(b"edited")  # an image a finding names
    assert "1 of the images shown changed" in saved.load(scan_folder(str(root)), exp.data).stale


def test_moves_are_kept_while_they_can_be_undone(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=4)
    index = scan_folder(str(root))
    first = move_to_class(index, str(root / "cats" / "cats_00.png"), "dogs")
    second = move_to_class(index, str(root / "cats" / "cats_01.png"), "owls")
    saved.save_moves(index.root, [first, second])
    exp = _experiment(root)
    assert saved.load(scan_folder(str(root)), exp.data).moves == [first, second]
    shutil.move(second.target, second.source)  # put back by hand: nothing to undo
    kept = saved.load(scan_folder(str(root)), exp.data)
    assert kept.moves == [first] and kept.report is None


def test_a_fast_check_keeps_the_label_findings_of_the_last_one(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    exp, index, old = _checked(root)
    old.label_issues.append({"path": str(root / "owls" / "owls_01.png"), "given": "owls",
                             "suggested": "cats", "score": 0.5})
    move_to_class(index, str(root / "owls" / "owls_01.png"), "cats")
    new = check_dataset(exp, index=scan_folder(str(root)))
    assert saved.keep_labels(old, new)
    assert new.labels_checked and new.label_quality == old.label_quality
    assert [i["path"] for i in new.label_issues] == [str(root / "cats" / "cats_03.png")]
    assert new.seconds["labels"] == 42.0
    assert not saved.keep_labels(old, new)  # it has its own now
