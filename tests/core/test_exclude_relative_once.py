"""``data.exclude`` edits on a big folder (walker report "bigfolder"): each image's path is
made relative to the dataset folder once per scan, not again on every edit (an Exclude
click on 10,000 images froze the window for half a second: every tab made every path
relative again), and the entries match as they did: written with backslashes or slashes
at the ends, absolute, or naming a file outside the folder; a run's split record, made
as a run starts, makes none again either. ``scripts/bench_exclude.py`` times an edit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import make_image_folder
from workbench.core.data import split
from workbench.core.data.index import DatasetIndex
from workbench.core.data.scan import scan_folder
from workbench.core.data.split import excluded_paths, relative_path
from workbench.core.data.split_record import record_of_split
from workbench.core.data.usage import data_use, excluded_images, unmatched_excludes
from workbench.core.experiment import Experiment


def _relpath_as_before(index: DatasetIndex, path: str) -> str:
    root = os.path.dirname(index.root) if index.source == "csv" else index.root
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path.replace(os.sep, "/")
    return path.replace(os.sep, "/") if rel.startswith("..") else rel.replace(os.sep, "/")


@pytest.mark.parametrize("root, path", [
    ("data", "data/a/x.jpg"), ("data/", "data/a/x.jpg"), ("data", "data//a/x.jpg"),
    ("data", "data/./a/x.jpg"), ("data", "data/a/../b/x.jpg"), ("data", "other/x.jpg"),
    ("/abs/data", "/abs/data/a./b.jpg"), ("./d", "./d/a/x"), ("/abs/data", "/elsewhere/x"),
    ("/abs/data", "/abs/data/a/x."), ("/abs/data", "/abs/database/x.jpg"),
    ("/", "/a/x.jpg"), ("/abs/data.csv", "/abs/imgs/x.jpg")])
def test_a_relative_path_is_what_relpath_gives(root, path):
    index = DatasetIndex(root, ["a"], [], source="csv" if root.endswith(".csv") else "folder")
    assert relative_path(index, path) == _relpath_as_before(index, path)
    assert index.relatives == {path: _relpath_as_before(index, path)}  # kept
    assert relative_path(index, path) == _relpath_as_before(index, path)  # the same


def _made(monkeypatch) -> list[str]:
    """The paths made relative from now on (not those looked up in ``index.relatives``)."""
    made: list[str] = []
    real = split._relative
    monkeypatch.setattr(split, "_relative", lambda root, prefix, path:
                        made.append(path) or real(root, prefix, path))
    return made


def test_an_edit_makes_no_path_relative_again(tmp_path, monkeypatch):
    root = Path(make_image_folder(tmp_path / "d", per_class=20))
    index = scan_folder(str(root))
    exp = Experiment()
    exp.data.folder = str(root)
    exp.data.exclude = ["red/red_000.png"]
    made = _made(monkeypatch)
    data_use(index, exp.data)
    unmatched_excludes(index, exp.data.exclude)
    images = [p for p, _ in index.samples]
    assert sorted(made) == sorted(images)  # each once, as the scan's first edit
    made.clear()

    calls = []
    real = os.path.relpath
    monkeypatch.setattr(os.path, "relpath", lambda *a: calls.append(a) or real(*a))
    outside = str(root / "blue" / "blue_003.png")  # absolute: names a file outside only
    exp.data.exclude = ["red\\red_001.png", "green/green_002.png/", "nowhere/x.png", outside]
    use = data_use(index, exp.data)
    assert use.excluded == 2
    assert excluded_images(index, exp.data.exclude) == {
        str(root / "red" / "red_001.png"), str(root / "green" / "green_002.png")}
    assert unmatched_excludes(index, exp.data.exclude) == ["nowhere/x.png", outside]
    assert made == [] and calls == []  # every path was made relative once, before this edit
    assert excluded_paths(index, ["red/red_001.png"], index.samples[:1]) == set()


def test_a_run_start_makes_each_path_relative_once(tmp_path, monkeypatch):
    """Review: the split record found the excluded images through a copy of the index,
    whose kept relative paths start empty: every run start made every path relative
    twice."""
    root = Path(make_image_folder(tmp_path / "d", per_class=20))
    for i in range(5):
        (root / "red" / f"red_9{i}.png").write_bytes(b"")  # unreadable: dropped by the check
    index = scan_folder(str(root), verify=True)
    exp = Experiment()
    exp.data.exclude = ["red/red_90.png", "blue/blue_012.png"]  # both in validation
    made = _made(monkeypatch)
    record = record_of_split(index, exp.data)
    every = [p for p, _ in index.samples + index.dropped]
    assert sorted(made) == sorted(every)  # each once
    made.clear()
    assert record_of_split(index, exp.data) == record and made == []
    # The excluded images, the unreadable one too, are no validation files.
    assert set(exp.data.exclude) <= record.val
    assert (record.val_files, record.val_images) == (len(record.val) - 2, len(record.val) - 2)
