"""A validation split with files that cannot be read is the same split whichever index
counts it: the app's, which decoded the folder before training (and leaves them out), or a
listing's, as ``workbench evaluate`` and ``workbench train`` make (which counts them). So an
unchanged folder gives no "the dataset changed" note, while an image added to or removed
from validation still gives one, with counts that add up (walk-formats: "36 of the 34")."""

from __future__ import annotations

import dataclasses

import os
from pathlib import Path
from types import SimpleNamespace

from helpers import run_cli as run
from workbench.core.data.index import DatasetIndex
from workbench.core.data.scan import scan_folder
from workbench.core.data.split_record import (SplitRecord, read_split_record,
                                              record_of_split, resumed_split)
from workbench.core.evaluate.split_notes import change_note
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training

NOTE = "the dataset changed since the model was trained"


class Notes(Callback):
    """The notes a run set out with."""

    def on_fit_start(self, trainer, info):
        self.notes = list(info["notes"])


def _add_unreadable(folder: str, per_class: int = 3) -> None:
    for c in ("blue", "green", "red"):
        for i in range(per_class):
            (Path(folder) / c / f"empty{i}.jpg").write_bytes(b"")  # 0 bytes: unreadable


def _unreadable_val(record: SplitRecord) -> set[str]:
    return {r for r in record.val if "/empty" in r}


def _evaluate_notes(run_dir: Path) -> list:
    from workbench.core.bundle import load_bundle
    from workbench.core.evaluate.evaluation import labelled_samples

    notes: list = []
    samples, _, split = labelled_samples(load_bundle(run_dir / "bundle.pt"), split="val",
                                         notes=notes)
    assert split == "val"
    return [str(n) for n in notes], samples


def _app_run(tmp_path, experiment) -> tuple[Path, SplitRecord]:
    """A run trained as the app trains it: on an index whose files were all decoded."""
    _add_unreadable(experiment.data.folder)
    run_dir = tmp_path / "run"
    index = scan_folder(experiment.data.folder, verify=True)
    assert index.dropped, "the decode check takes the empty files out"
    assert run_training(experiment, run_dir, index=index).status == "finished"
    record = read_split_record(run_dir)
    assert _unreadable_val(record), "the case: unreadable files in validation"
    return run_dir, record


def test_an_app_run_with_unreadable_validation_files_evaluates_without_a_note(
        capsys, tmp_path, tiny_experiment):
    run_dir, record = _app_run(tmp_path, tiny_experiment)
    files = len(record.val)
    notes, samples = _evaluate_notes(run_dir)
    assert not [n for n in notes if NOTE in n], notes
    assert len(samples) == files  # the listing's: the unreadable ones are met as it goes
    code, out, err = run(capsys, "evaluate", run_dir)
    assert code == 0, err
    assert "dataset changed" not in out + err

    # Resumed on either index: the same validation images, no note, no best chosen afresh.
    for verify in (True, False):
        ckpt = load_checkpoint(run_dir)
        exp = ckpt.experiment
        exp.training.epochs = ckpt.epoch + 1
        seen = Notes()
        outcome = run_training(exp, run_dir, [seen], checkpoint=ckpt,
                               index=scan_folder(exp.data.folder, verify=verify))
        assert outcome.status == "finished", outcome.error
        assert not [n for n in seen.notes if "dataset changed" in n or "afresh" in n], \
            seen.notes
    # The record counts both: the images validation was measured on, and its files.
    assert (record.val_images, record.val_files) == (files - len(_unreadable_val(record)),
                                                      files)


def test_an_image_removed_from_validation_is_said_with_counts_that_add_up(
        capsys, tmp_path, tiny_experiment):
    run_dir, record = _app_run(tmp_path, tiny_experiment)
    files = len(record.val)
    images = files - len(_unreadable_val(record))
    gone = sorted(record.val - _unreadable_val(record))[0]
    os.remove(Path(tiny_experiment.data.folder) / gone)
    code, out, err = run(capsys, "evaluate", run_dir)
    assert code == 0, err
    line = next((x for x in (out + err).splitlines() if "dataset changed" in x), out + err)
    # A listing counts the files, the unreadable ones too, before and now.
    assert line == (f"note: {NOTE} (1 image of validation gone from the folder): its "
                    f"validation split now holds {files - 1} images, {files - 1} of the "
                    f"{files} its run validated on, so these scores are not quite "
                    f"comparable with the run's own")
    # The app's decoded index counts the images it can read, before and now.
    _, _, _, change = resumed_split(scan_folder(tiny_experiment.data.folder, verify=True),
                                    tiny_experiment.data, record)
    assert (change.kept_val, change.val_now, change.val_before) == (images - 1, images - 1,
                                                                    images)
    assert f"now holds {images - 1} images, {images - 1} of the {images} " in \
        change_note(change)


# The split record alone, on made-up indexes (as tests/core/test_split_record.py).

def _index(n: int, bad: list[str], *, checked: bool, val_part: bool = False) -> DatasetIndex:
    part = "train/" if val_part else ""
    names = [f"img_{i:03d}.jpg" for i in range(n)]
    pairs = [(f"/d/{part}apple/{x}", 0) for x in names]
    index = DatasetIndex("/d", ["apple"], pairs)
    if val_part:
        index.val_samples = [(f"/d/val/apple/{x}", 0) for x in names[:4]]
        index.part_folders = {"train": "train", "val": "val"}
    if checked:  # the decode check's: the bad files taken out, with their labels
        index.dropped = [s for s in index.samples + (index.val_samples or [])
                         if s[0].rsplit("/", 1)[-1] in bad]
        index.samples = [s for s in index.samples if s not in index.dropped]
        if index.val_samples is not None:
            index.val_samples = [s for s in index.val_samples if s not in index.dropped]
    return index


def _data(**kw):
    return SimpleNamespace(**{**dict(val_fraction=0.5, seed=0, stratified=True,
                                     use_folder_split=True, exclude=[]), **kw})


def _val_names(record: SplitRecord) -> list[str]:
    return sorted(r.rsplit("/", 1)[-1] for r in record.val)


def test_the_same_folder_is_no_change_whichever_index_made_the_record_or_reads_it():
    data = _data()
    listed = _index(20, [], checked=False)
    bad = _val_names(record_of_split(listed, data))[:2]
    for made_by in (True, False):  # the app's record, the command line's
        record = record_of_split(_index(20, bad, checked=made_by), data)
        for read_by in (True, False):
            _, val, _, change = resumed_split(_index(20, bad, checked=read_by), data, record)
            assert not change.changed and not change.val_changed, (made_by, read_by)
            assert change_note(change) == "" and change.val_before == change.val_now
            assert change.val_now == len(val) == 10 - 2 * read_by
    # A file that became unreadable since (or readable again) is no change either: the
    # evaluation counts it unreadable.
    record = record_of_split(listed, data)
    _, _, _, change = resumed_split(_index(20, bad, checked=True), data, record)
    assert not change.val_changed and change.val_before == change.val_now == 8


def test_a_record_written_before_it_counted_files_gives_no_false_note():
    data = _data()
    bad = _val_names(record_of_split(_index(20, [], checked=False), data))[:2]
    record = record_of_split(_index(20, bad, checked=True), data)
    # As the app wrote it: the images it measured on, not the files.
    old = SplitRecord.from_dict({**{k: v for k, v in record.to_dict().items()
                                    if k != "val_files"}, "val_images": 8})
    for read_by in (True, False):
        _, _, _, change = resumed_split(_index(20, bad, checked=read_by), data, old)
        assert not change.val_changed and change_note(change) == ""
    # A readable validation image removed: said, with counts that add up.
    gone = next(n for n in _val_names(record) if n not in bad)
    index = _index(20, bad, checked=False)
    index.samples = [s for s in index.samples if not s[0].endswith(gone)]
    _, _, _, change = resumed_split(index, data, old)
    assert (change.removed_val, change.kept_val, change.val_now, change.val_before) == \
        (1, 9, 9, 10)


def test_a_folder_with_its_own_validation_part_keeps_its_unreadable_files_there():
    data = _data()
    record = record_of_split(_index(10, ["img_001.jpg"], checked=True, val_part=True), data)
    assert "val/apple/img_001.jpg" in record.val and "train/apple/img_001.jpg" in \
        record.train
    assert (record.val_images, record.val_files) == (3, 4)
    for read_by in (True, False):
        _, val, _, change = resumed_split(
            _index(10, ["img_001.jpg"], checked=read_by, val_part=True), data, record)
        assert not change.changed and not change.val_changed, read_by


def test_an_older_record_of_a_folder_split_did_not_hold_its_unreadable_files():
    """Records written before unreadable files were kept on their side left them out: they
    are not "added" (a resume would choose the best epoch afresh)."""
    data = _data()
    record = record_of_split(_index(10, ["img_001.jpg"], checked=True, val_part=True), data)
    old = dataclasses.replace(record, val_files=None,
                              train={r for r in record.train if "img_001" not in r},
                              val={r for r in record.val if "img_001" not in r})
    # Read by an index that decoded its files (the app's; a listing cannot tell them from
    # files added since).
    _, _, _, change = resumed_split(
        _index(10, ["img_001.jpg"], checked=True, val_part=True), data, old)
    assert not change.changed and not change.val_changed


def test_another_image_excluded_from_validation_is_still_a_change():
    data = _data()
    bad = _val_names(record_of_split(_index(20, [], checked=False), data))[:2]
    record = record_of_split(_index(20, bad, checked=True), data)
    other = next(n for n in _val_names(record) if n not in bad)
    for read_by in (True, False):
        _, val, _, change = resumed_split(_index(20, bad, checked=read_by),
                                          _data(exclude=[f"apple/{other}"]), record)
        assert change.val_changed and change.val_now == change.val_before - 1 == len(val)
