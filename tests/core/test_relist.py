"""Relisting a dataset folder after it was scanned: what changed (names only, no decode)."""

import shutil

from tests.helpers import make_image_folder
from workbench.core.data.relist import change_text, listing_changes
from workbench.core.data.scan import scan_folder


def test_nothing_changed_says_nothing(tmp_path):
    index = scan_folder(make_image_folder(tmp_path / "ds", per_class=3), verify=True)
    change = listing_changes(index)
    assert change is not None and not change and change_text(change) == ""


def test_added_removed_and_a_broken_class_removed(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=3)
    broken = tmp_path / "ds" / "broken"
    broken.mkdir()
    (broken / "a.jpg").write_bytes(b"")  # unreadable: a verified scan moves it out
    index = scan_folder(root, verify=True)
    assert [u.path for u in index.unreadable] == [str(broken / "a.jpg")]
    assert not listing_changes(index)  # an unreadable file still listed is no change

    shutil.rmtree(broken)
    (tmp_path / "ds" / "red" / "red_000.png").unlink()
    shutil.copy(tmp_path / "ds" / "blue" / "blue_000.png", tmp_path / "ds" / "blue" / "late.png")
    change = listing_changes(index)
    assert change.added == [str(tmp_path / "ds" / "blue" / "late.png")]
    assert sorted(change.removed) == [str(broken / "a.jpg"),
                                      str(tmp_path / "ds" / "red" / "red_000.png")]
    assert change.classes_removed == ["broken"]
    assert change_text(change) == ("The folder changed: 1 image added, 2 removed, class "
                                   "'broken' removed")


def test_a_folder_gone_cannot_be_relisted(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=2)
    index = scan_folder(root)
    shutil.rmtree(root)
    assert listing_changes(index) is None
