"""A file added to the dataset folder that cannot be read is said as "1 unreadable file
added" once the folder was scanned again, not "1 image added" (walk-health #3): a listing
cannot tell, the rescan can. A class folder renamed with a broken file in it counts that
file as a file on both sides."""

import shutil

from helpers import make_image_folder
from workbench.core.data.relist import change_text, listing_changes, rescanned
from workbench.core.data.scan import scan_folder


def test_an_added_broken_file_is_an_unreadable_file_after_the_rescan(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=3)
    index = scan_folder(root, verify=True)
    (tmp_path / "ds" / "red" / "broken_new.jpg").write_bytes(b"not a jpeg")
    change = listing_changes(index)
    assert change.added == [str(tmp_path / "ds" / "red" / "broken_new.jpg")]
    after = rescanned(change, scan_folder(root, verify=True))
    assert change_text(after) == "The folder changed: 1 unreadable file added"


def test_a_renamed_class_with_a_broken_file_counts_it_as_a_file_both_ways(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=3)
    (tmp_path / "ds" / "red" / "broken.jpg").write_bytes(b"")
    index = scan_folder(root, verify=True)
    shutil.move(tmp_path / "ds" / "red", tmp_path / "ds" / "reds")
    after = rescanned(listing_changes(index), scan_folder(root, verify=True))
    assert change_text(after) == (
        "The folder changed: 3 images and 1 unreadable file added, 3 images and 1 "
        "unreadable file removed, class 'reds' added, class 'red' removed")


def test_images_added_beside_a_broken_file_keep_their_noun(tmp_path):
    root = make_image_folder(tmp_path / "ds", per_class=3)
    index = scan_folder(root, verify=True)
    (tmp_path / "ds" / "red" / "broken_new.jpg").write_bytes(b"")
    shutil.copy(tmp_path / "ds" / "blue" / "blue_000.png", tmp_path / "ds" / "blue" / "b.png")
    (tmp_path / "ds" / "green" / "green_000.png").unlink()
    after = rescanned(listing_changes(index), scan_folder(root, verify=True))
    # "1 removed" after "unreadable file added" would read as a file: the noun is said.
    assert change_text(after) == ("The folder changed: 1 image and 1 unreadable file added, "
                                  "1 image removed")
