"""Every exclude or include on the Health tab asks whether the kept check is out of date
for the exclusions now (:func:`saved.exclusions_stale`): the folder's kept file is parsed
again only when it changed on disk, not on every click (a 10,000-image folder's file took
tens of milliseconds to parse), and a file another window wrote since is read again
(review-qt, item 5)."""

from __future__ import annotations

import json

from helpers import make_photo_folder
from workbench.core.data.health import saved
from workbench.core.data.health.report import check_dataset
from workbench.core.data.scan import scan_folder
from workbench.core.experiment import Experiment
from workbench.core.io import atomic_write_text


def _checked(tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=4)
    exp = Experiment(name="cache")
    exp.data.folder, exp.data.input_size = str(root), [32, 32]
    index = scan_folder(str(root))
    report = check_dataset(exp, index=index)
    saved.save_report(index, exp.data, report)
    return exp, index, report


def test_an_exclusion_made_in_the_app_parses_the_kept_file_no_more(tmp_path, monkeypatch):
    exp, index, report = _checked(tmp_path)
    parses = []
    loads = json.loads
    monkeypatch.setattr(json, "loads", lambda *a, **k: parses.append(1) or loads(*a, **k))
    for entry in ("cats/cats_00.png", "dogs/dogs_01.png"):  # two clicks of Exclude
        exp.data.exclude = [*exp.data.exclude, entry]
        saved.keep_excluded_since(index.root, [entry])
        assert saved.exclusions_stale(index, exp.data, report) == ""  # settled: excluded
    exp.data.exclude = []  # Include all: the images were checked, nothing to say
    assert saved.exclusions_stale(index, exp.data, report) == ""
    assert parses == []


def test_a_kept_file_written_elsewhere_since_is_read_again(tmp_path):
    exp, index, report = _checked(tmp_path)
    assert saved.exclusions_stale(index, exp.data, report) == ""
    file = saved.file_for(index.root)
    data = json.loads(file.read_text(encoding="utf-8"))
    data["exclude"] = ["cats/cats_00.png"]  # another window's check left that out
    atomic_write_text(file, json.dumps(data))
    assert saved.exclusions_stale(index, exp.data, report).startswith(
        "The exclusions changed since this check: 1 image you included again was not "
        "checked")
    # What a caller changes in what it read is not what the next one reads.
    saved.take_exclusions(index.root)
    assert saved.load(index, exp.data).report is not None
