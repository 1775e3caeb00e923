"""The dataset-gone-mid-run message counts the finished epochs as words do: "the 1 finished
epoch and its checkpoint", "the 2 finished epochs and their checkpoint", never "epoch(s)"
(walk-crash2's note)."""

from __future__ import annotations

from workbench.core.train.unreadable import EpochReads, no_readable_error


def test_the_kept_epochs_are_counted_in_words(tmp_path):
    gone = str(tmp_path / "photos")
    one = str(no_readable_error("training", 2, gone, EpochReads(), 1))
    two = str(no_readable_error("training", 3, gone, EpochReads(), 2))
    assert "the 1 finished epoch and its checkpoint are kept, so put the dataset back" in one
    assert "the 2 finished epochs and their checkpoint are kept, so put the dataset" in two
    assert "(s)" not in one + two
    none = str(no_readable_error("training", 1, gone, EpochReads(), 0))
    assert "are kept" not in none and none.endswith("and train again")
