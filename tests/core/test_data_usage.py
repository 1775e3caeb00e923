"""What a run uses of its dataset, counted once (workbench.core.data.usage): the split after
exclusions and unreadable files, the same numbers in the training header, run.json, the
report and the Data tab; images in no class folder said by scan and check."""

from __future__ import annotations

import json

from helpers import make_image_folder, run_cli
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import split_for
from workbench.core.data.usage import (data_use, describe_counts, run_counts,
                                       unmatched_excludes)


def test_the_counts_leave_out_exclusions_unreadable_and_skipped_files(tmp_path, tiny_experiment):
    root = tmp_path / "tiny"
    (root / "red" / "broken.png").write_bytes(b"not a png")
    data = tiny_experiment.data
    data.exclude = ["blue/blue_000.png", "green/green_001.png", "nowhere/x.png"]
    index = scan_folder(root, verify=True)
    use = data_use(index, data)
    train, val = split_for(index, data)
    assert (use.train, use.val) == (train, val)
    assert len(train) + len(val) == 30 - 2
    assert (use.excluded, use.unreadable, use.test) == (2, 1, None)
    per_train, per_val = use.per_class(index.classes)
    assert per_train["blue"] + per_val["blue"] == 9 and sum(per_val.values()) == len(val)
    assert use.to_json() == {"train": len(train), "val": len(val), "test": None,
                             "excluded": 2, "unreadable": 1}
    assert describe_counts(use.to_json()) == (f"{len(train)} for training, {len(val)} for "
                                              f"validation; left out: 2 excluded, "
                                              f"1 unreadable")
    # A file a run met unreadable leaves its side and counts as unreadable.
    gone = val[0][0]
    after = run_counts(index, data, [gone])
    assert after["val"] == len(val) - 1 and after["train"] == len(train)
    assert after["unreadable"] == 2
    assert unmatched_excludes(index, list(data.exclude)) == ["nowhere/x.png"]
    assert run_counts(None, data) is None
    assert describe_counts({}) == ""


def _train_val_test(root, per_class=6):
    for part in ("train", "val", "test"):
        make_image_folder(root / part, classes=("blue", "red"), per_class=per_class,
                          seed={"train": 0, "val": 1, "test": 2}[part])
    return root


def test_the_training_header_run_json_and_report_count_what_the_run_used(
        capsys, tmp_path, tiny_experiment):
    root = tmp_path / "tiny"
    # Met by the run, not the scan: after the class's first file, the one a run decodes
    # before it starts (to refuse a class whose every file is unreadable).
    (root / "red" / "red_zz_broken.png").write_bytes(b"not a png")
    tiny_experiment.data.exclude = ["blue/blue_000.png"]
    tiny_experiment.training.epochs = 1
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, out, err = run_cli(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 0, err
    # What the app's Data tab counts: a scan that decodes every image first.
    tab = data_use(scan_folder(root, verify=True), tiny_experiment.data)
    listed = len(tab.train) + len(tab.val) + 1  # the broken file, listed but not decoded
    lines = out.splitlines()
    assert lines[0].startswith(f"training run: {listed} images (")  # named after --out
    assert "; left out: 1 excluded), 3 classes" in lines[0]
    assert (f"1 unreadable image was skipped: the run used {len(tab.train)} for training "
            f"and {len(tab.val)} for validation") in out
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["data"] == tab.to_json() == {
        "train": len(tab.train), "val": len(tab.val), "test": None, "excluded": 1,
        "unreadable": 1}
    code, html, err = run_cli(capsys, "report", tmp_path / "run", "-o", "-")
    assert code == 0, err
    assert f"Images: {describe_counts(tab.to_json())}." in html


def test_a_test_part_is_counted_apart(tmp_path, tiny_experiment):
    root = _train_val_test(tmp_path / "parts")
    tiny_experiment.data.folder = str(root)
    use = data_use(scan_folder(root), tiny_experiment.data)
    assert (len(use.train), len(use.val), use.test) == (12, 12, 12)
    assert describe_counts(use.to_json()).endswith("; 12 in test/, never trained on")


def test_scan_and_check_say_images_in_no_class_folder_are_not_used(capsys, tmp_path):
    root = tmp_path / "d"
    make_image_folder(root, per_class=4)
    assert not [n for n in scan_folder(root).notes if "class folder" in n]
    (root / "loose_top.png").write_bytes((root / "red" / "red_000.png").read_bytes())
    (root / "notes.txt").write_text("not an image")
    note = ("1 image is not in a class folder, so it is not used: loose_top.png (move it "
            "into the sub-folder of its class)")
    assert note in scan_folder(root).notes
    code, out, err = run_cli(capsys, "scan", root)
    assert code == 0 and f"note: {note}" in out
    code, out, err = run_cli(capsys, "check", root)
    assert code == 0 and f"note: {note}" in err
    # In a layout with parts, images lying at the top of a part are unused too.
    parts = _train_val_test(tmp_path / "parts", per_class=3)
    for name in ("a.png", "b.png"):
        (parts / "train" / name).write_bytes((root / "red" / "red_000.png").read_bytes())
    notes = scan_folder(parts).notes
    assert any(n.startswith("2 images are not in a class folder, so they are not used, e.g. "
                            "train/a.png") for n in notes), notes


def test_a_folder_of_images_with_no_class_folder_is_one_to_classify(tmp_path):
    from workbench.core.data.scan import unsorted_images

    root = tmp_path / "d"
    make_image_folder(root, per_class=2)
    png = (root / "red" / "red_000.png").read_bytes()
    new = tmp_path / "new"  # new photos: images at the top, no class folder
    new.mkdir()
    for name in ("b.png", "a.png", ".hidden.png"):
        (new / name).write_bytes(png)
    (new / "notes.txt").write_text("not an image")
    assert unsorted_images(new) == [str(new / "a.png"), str(new / "b.png")]
    assert "has no class folders" in _refusal(new)  # what the scan would say of it
    (root / "loose.png").write_bytes(png)  # class folders: a dataset, loose images or not
    assert unsorted_images(root) == [] and scan_folder(root).classes
    (new / "metadata.csv").write_text("file_name,label\na.png,red\nb.png,blue\n")
    assert unsorted_images(new) == []  # a Hugging Face imagefolder: labelled, a dataset
    assert unsorted_images(tmp_path / "nowhere") == []
    assert unsorted_images(new / "a.png") == []


def _refusal(folder) -> str:
    from workbench.core.errors import DataError

    try:
        scan_folder(folder).check_trainable()
    except DataError as e:
        return str(e)
    return ""
