"""The record of a run's split (split.json) and the split a resume makes from it: images
keep their side whatever was added or removed, new ones go by a per-file rule, and what
changed is said in counts."""

from __future__ import annotations

import base64
import gzip
import json
import random
from types import SimpleNamespace

import pytest

from workbench.core.data.index import DatasetIndex
from workbench.core.data.split import split_for
from workbench.core.data.split_record import (SPLIT_FILE, SplitRecord, SplitRecordError,
                                              read_split_record, record_of_split,
                                              resumed_split, stable_side, write_split_record)

CLASSES = ("apple", "banana")


def _index(names: dict[str, list[str]], val: dict[str, list[str]] | None = None,
           dropped: dict[str, list[str]] | None = None) -> DatasetIndex:
    def pairs(by_class, part=""):
        return [(f"/d/{part}{c}/{n}", CLASSES.index(c)) for c in CLASSES
                for n in sorted(by_class.get(c, []))]
    prefix = "train/" if val is not None else ""
    index = DatasetIndex("/d", list(CLASSES), pairs(names, prefix))
    if val is not None:
        index.val_samples = pairs(val, "val/")
    index.dropped = pairs(dropped or {}, prefix)
    return index


def _data(**kw):
    base = dict(val_fraction=0.2, seed=0, stratified=True, use_folder_split=True, exclude=[])
    return SimpleNamespace(**{**base, **kw})


def _names(n: int, stem: str = "img") -> list[str]:
    return [f"{stem}_{i:03d}.jpg" for i in range(n)]


def _rel(samples) -> set[str]:
    return {p[len("/d/"):] for p, _ in samples}


def test_a_new_run_records_exactly_its_split():
    index = _index({"apple": _names(30), "banana": _names(25)})
    data = _data(exclude=["apple/img_003.jpg"])
    record = record_of_split(index, data)
    train, val = split_for(index, data)
    # split_for drops the excluded image after splitting; the record keeps its side.
    assert _rel(val) <= record.val and _rel(train) <= record.train
    assert record.train | record.val == _rel(index.samples)
    assert not record.train & record.val


def test_resume_keeps_recorded_sides_and_splits_new_images_by_the_stable_rule():
    before = _index({"apple": _names(30), "banana": _names(25)})
    data = _data()
    record = record_of_split(before, data)
    # One banana gone, five apples added: split_samples alone reshuffles both classes.
    gone = sorted(record.val & {f"banana/{n}" for n in _names(25)})[0]
    after_names = {"apple": _names(30) + _names(5, "new"),
                   "banana": [n for n in _names(25) if f"banana/{n}" != gone]}
    after = _index(after_names)
    _, fresh_val = split_for(after, data)
    assert _rel(fresh_val) - record.val, "the plain split would leak trained-on images"

    train, val, kept, change = resumed_split(after, data, record)
    new = {f"apple/{n}" for n in _names(5, "new")}
    assert record.val - {gone} <= _rel(val)
    assert record.train <= _rel(train)
    for r in new:
        assert (r in _rel(val)) == stable_side(0, "apple", r, 0.2)
    assert (change.added_train, change.added_val) == (len(new - _rel(val)), len(new & _rel(val)))
    assert (change.removed_train, change.removed_val) == (0, 1)
    assert change.kept_val == len(record.val) - 1 and change.val_now == len(val)
    # The record to keep: today's sides, the banana remembered as missing.
    assert kept.val == _rel(val) | {gone} and kept.missing == {gone}

    # Resumed again with that record and nothing changed: the same split, nothing to say.
    again = resumed_split(after, data, kept)
    assert again[:2] == (train, val) and not again[3].changed and again[3].note(9) == ""


def test_the_stable_rule_gives_the_right_share_and_never_moves_a_file():
    sides = [stable_side(3, "apple", f"apple/{i}.jpg", 0.25) for i in range(4000)]
    assert 0.22 < sum(sides) / len(sides) < 0.28
    assert sides == [stable_side(3, "apple", f"apple/{i}.jpg", 0.25) for i in range(4000)]
    assert not any(stable_side(3, "apple", f"apple/{i}.jpg", 0.0) for i in range(100))


def test_images_added_in_two_resumes_keep_the_side_the_first_gave_them():
    data = _data(val_fraction=0.3)
    record = record_of_split(_index({"apple": _names(20), "banana": _names(20)}), data)
    first = _index({"apple": _names(20) + _names(10, "a"), "banana": _names(20)})
    _, val1, record1, _ = resumed_split(first, data, record)
    second = _index({"apple": _names(20) + _names(10, "a") + _names(40, "b"),
                     "banana": _names(20)})
    _, val2, _, change = resumed_split(second, data, record1)
    assert _rel(val1) <= _rel(val2)
    assert change.added_train + change.added_val == 40


def test_an_image_put_back_returns_to_its_side():
    data = _data()
    full = _index({"apple": _names(20), "banana": _names(20)})
    record = record_of_split(full, data)
    val_apple = sorted(r for r in record.val if r.startswith("apple/"))[0]
    without = _index({"apple": [n for n in _names(20) if f"apple/{n}" != val_apple],
                      "banana": _names(20)})
    _, _, kept, change = resumed_split(without, data, record)
    assert change.removed_val == 1 and val_apple in kept.missing
    _, val, _, change = resumed_split(full, data, kept)
    assert val_apple in _rel(val) and (change.added_val, change.added_train) == (1, 0)


def test_an_image_moved_to_another_class_keeps_its_side():
    data = _data(val_fraction=0.5)
    record = record_of_split(_index({"apple": _names(10), "banana": _names(10, "b")}), data)
    # The Health view moves a trained-on banana into apple/ under its own name.
    trained = sorted(r for r in record.train if r.startswith("banana/"))[0]
    name = trained.split("/")[1]
    moved = _index({"apple": _names(10) + [name],
                    "banana": [n for n in _names(10, "b") if n != name]})
    train, val, _, change = resumed_split(moved, data, record)
    assert f"apple/{name}" in _rel(train)
    assert change.moved == 1 and not (change.added_train or change.added_val)
    assert not (change.removed_train or change.removed_val)
    assert "1 moved to another class" in change.note(4)


def test_a_folder_with_its_own_validation_part_keeps_it_and_says_what_changed():
    data = _data()
    index = _index({"apple": _names(8)}, val={"apple": _names(3, "v")})
    record = record_of_split(index, data)
    assert record.folder_split and record.val == {f"val/apple/{n}" for n in _names(3, "v")}
    grown = _index({"apple": _names(8)}, val={"apple": _names(5, "v")})
    train, val, _, change = resumed_split(grown, data, record)
    assert (train, val) == (grown.samples, grown.val_samples)
    assert (change.added_val, change.added_train, change.kept_val) == (2, 0, 3)
    assert "Validation (the folder's own part) keeps its 3 earlier images" in change.note(5)


def test_unreadable_images_are_recorded_and_do_not_count_as_removed():
    data = _data(val_fraction=0.3)
    listed = _index({"apple": _names(10), "banana": _names(10)})
    record = record_of_split(listed, data)
    # The app's decode check drops one image the command line's scan listed.
    bad = "img_004.jpg"
    checked = _index({"apple": [n for n in _names(10) if n != bad], "banana": _names(10)},
                     dropped={"apple": [bad]})
    train, val, _, change = resumed_split(checked, data, record)
    assert not change.changed
    assert (train, val) == split_for(checked, data)


def test_the_note_names_the_counts():
    data = _data()
    record = record_of_split(_index({"apple": _names(40), "banana": _names(30)}), data)
    gone = sorted(r for r in record.val if r.startswith("banana/"))[0]
    after = _index({"apple": _names(40) + _names(5, "new"),
                    "banana": [n for n in _names(30) if f"banana/{n}" != gone]})
    _, val, _, change = resumed_split(after, data, record)
    a_val = change.added_val
    note = change.note(8)
    assert note.startswith(f"the dataset changed since epoch 8: 5 images added "
                           f"({5 - a_val} to training, {a_val} to validation), 1 removed "
                           f"(from validation).")
    assert (f"validation keeps its {len(record.val) - 1} earlier images: from epoch 9 on it "
            f"is measured on {len(val)} images, not {len(record.val)}") in note
    # Only training images added (val_fraction 0 sends every new one there): validation
    # is said to be unchanged.
    grown = _index({"apple": _names(40) + _names(3, "new"), "banana": _names(30)})
    record.val_images = len(record.val)
    _, _, _, change = resumed_split(grown, _data(val_fraction=0.0), record)
    assert change.note(8) == (f"the dataset changed since epoch 8: 3 images added (all to "
                              f"training). Validation is unchanged ({len(record.val)} images)")


def test_record_round_trip_and_size(tmp_path):
    rng = random.Random(0)
    names = {c: [f"{rng.getrandbits(64):016x}.jpg" for _ in range(50_000)] for c in CLASSES}
    index = _index(names)
    record = record_of_split(index, _data())
    record.val_images = len(record.val)
    path = write_split_record(tmp_path, record)
    assert path.name == SPLIT_FILE
    # 100,000 random names: about 15 bytes each, gzip'd and in base64 (sequential names,
    # IMG_0001.jpg..., take 3).
    assert path.stat().st_size < 1_600_000
    assert json.loads(path.read_text())["counts"] == {"train": 80_000, "val": 20_000,
                                                      "missing": 0}
    assert read_split_record(tmp_path) == record
    assert read_split_record(tmp_path / "nowhere") is None


def _doc(**kw) -> bytes:
    return json.dumps({"kind": "workbench-split", "format": 1, **kw}).encode()


def _packed(value) -> str:
    return base64.b64encode(gzip.compress(json.dumps(value).encode())).decode()


@pytest.mark.parametrize("content", [
    b"not json", b"\xff\xfe", json.dumps({"kind": "other"}).encode(), _doc(format=99),
    _doc(paths="not base64!"), _doc(paths=base64.b64encode(b"not gzip").decode()),
    _doc(paths=_packed({"val": [1, 2]})), _doc(paths=_packed([])), _doc(),
    _doc(paths=_packed({}), seed="x")])
def test_a_damaged_record_is_an_error_that_says_why(tmp_path, content):
    (tmp_path / SPLIT_FILE).write_bytes(content)
    with pytest.raises(SplitRecordError):
        read_split_record(tmp_path)


@pytest.mark.parametrize("root, path", [
    ("data", "data/a/x.jpg"), ("data/", "data/a/x.jpg"), ("data", "data//a/x.jpg"),
    ("data", "data/./a/x.jpg"), ("data", "data/a/../b/x.jpg"), ("data", "other/x.jpg"),
    ("/abs/data", "/abs/data/a./b.jpg"), ("./d", "./d/a/x"), ("/abs/data", "/elsewhere/x")])
def test_relative_paths_are_those_of_data_exclude(root, path):
    from workbench.core.data.split import relative_path
    from workbench.core.data.split_record import relative_paths

    index = DatasetIndex(root, ["a"], [])
    assert relative_paths(index, [path])[path] == relative_path(index, path)
