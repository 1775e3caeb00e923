"""The demo dataset where it cannot be made: a disk full while its images are written, or a
folder of the user's in its place, is a DataError naming the folder and what to do (the app
then opens with no dataset and says it), and leaves no half dataset behind."""

from __future__ import annotations

import errno

import pytest

from workbench.core.data import demo
from workbench.core.errors import DataError


def test_a_disk_full_while_writing_is_a_data_error_that_leaves_nothing(tmp_path,
                                                                      monkeypatch):
    def full(_folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(demo, "_generate", full)
    with pytest.raises(DataError, match=r"cannot create the demo dataset in .*: No space "
                                        r"left on device; free some space there or set "
                                        r"WORKBENCH_HOME to another folder$"):
        demo.ensure_demo_dataset(tmp_path / "shapes")
    assert list(tmp_path.iterdir()) == []


def test_another_error_while_writing_names_a_writable_folder(tmp_path, monkeypatch):
    def denied(_folder):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(demo, "_generate", denied)
    with pytest.raises(DataError, match="Permission denied; set WORKBENCH_HOME to a "
                                        "writable folder$"):
        demo.ensure_demo_dataset(tmp_path / "shapes")


def test_a_folder_in_its_place_names_the_setting_that_moves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    root = demo.default_demo_root()
    root.mkdir(parents=True)
    (root / "thesis.txt").write_text("precious")
    with pytest.raises(DataError, match="already exists and is not a Workbench demo "
                                        "dataset: move it away or set WORKBENCH_HOME to "
                                        "another folder$"):
        demo.ensure_demo_dataset()
    with pytest.raises(DataError, match="not a Workbench demo dataset: move it away or "
                                        "choose another folder for the demo$"):
        demo.ensure_demo_dataset(root)  # a folder given: WORKBENCH_HOME does not move it
    assert (root / "thesis.txt").read_text() == "precious"
