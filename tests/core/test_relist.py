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
    # The empty a.jpg was found unreadable: a file, not an image.
    assert change.unreadable == [str(broken / "a.jpg")]
    assert change_text(change) == ("The folder changed: 1 image added, 1 image and 1 "
                                   "unreadable file removed, class 'broken' removed")


def test_a_folder_gone_cannot_be_relisted(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=2)
    index = scan_folder(root)
    shutil.rmtree(root)
    assert listing_changes(index) is None


def test_a_removed_file_that_was_no_image_is_not_called_an_image(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=3)
    (tmp_path / "ds" / "red" / "broken_photo.png").write_text("<html>not a photo</html>")
    index = scan_folder(root, verify=True)
    (tmp_path / "ds" / "red" / "broken_photo.png").unlink()
    shutil.copy(tmp_path / "ds" / "blue" / "blue_000.png", tmp_path / "ds" / "blue" / "b.png")
    shutil.copy(tmp_path / "ds" / "blue" / "blue_000.png", tmp_path / "ds" / "blue" / "c.png")
    assert change_text(listing_changes(index)) == ("The folder changed: 2 images added, 1 "
                                                   "unreadable file removed")
