"""The images a run skipped because they could not be read are kept in its run.json (named,
with why, relative to the dataset folder; at most 100 named, all counted), a continued run
keeps the earlier ones with its own, and ``workbench report`` says them: so a run shown
again after a restart says what it said as it ended."""

from __future__ import annotations

import os

from helpers import report_html, stop_after
from workbench.core.runs.skipped import KEPT, saved_skipped, skipped_entry, skipped_text
from workbench.core.runs.store import read_run_info
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.run import run_training

CORRUPT = "truncated or corrupt image"


def _damage(folder: str, cls: str) -> str:
    """Damage the last file of class ``cls`` under its own name (a PNG signature, then
    junk): the run meets it in its first epoch (it decodes only a class's first file before
    it starts). Returns its path relative to ``folder``."""
    name = sorted(os.listdir(os.path.join(folder, cls)))[-1]
    with open(os.path.join(folder, cls, name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    return f"{cls}/{name}"


def test_run_json_names_the_skipped_files_and_a_continued_run_adds_its_own(
        capsys, tmp_path, tiny_experiment):
    folder = tiny_experiment.data.folder
    red, blue = _damage(folder, "red"), _damage(folder, "blue")
    run_dir = tmp_path / "run"
    outcome = run_training(tiny_experiment, run_dir, [stop_after(1)])
    assert outcome.status == "stopped", outcome.error
    info = read_run_info(run_dir)
    entry = info["skipped"]
    assert entry["count"] == 2 and sorted(entry["files"]) == [[blue, CORRUPT], [red, CORRUPT]]
    files, count = saved_skipped(info)
    assert skipped_text(files, total=count) == (
        f"2 unreadable images were skipped: {entry['files'][0][0]} ({CORRUPT}), "
        f"{entry['files'][1][0]} ({CORRUPT}).")

    # Continued tomorrow: one more file went bad; the two met again are not counted twice.
    green = _damage(folder, "green")
    ckpt = load_checkpoint(run_dir)
    exp = ckpt.experiment
    exp.training.epochs = 2
    assert run_training(exp, run_dir, checkpoint=ckpt).status == "finished"
    info = read_run_info(run_dir)
    assert info["resumed"] and info["skipped"]["count"] == 3
    assert info["skipped"]["files"] == entry["files"] + [[green, CORRUPT]]
    assert info["data"]["unreadable"] == 3  # the counts agree with the names

    # workbench report's Data section says them, as the Train tab does.
    text = report_html(capsys, run_dir, tmp_path / "r.html")
    files, count = saved_skipped(info)
    said = skipped_text(files, total=count)
    assert said.startswith("3 unreadable images were skipped: ") and green in said
    assert said in text, said


def test_a_broken_folder_names_at_most_kept_files_and_counts_them_all():
    bad = [(f"/data/cats/{i:05d}.jpg", "not an image file") for i in range(10_000)]
    entry = skipped_entry(bad, "/data")
    assert entry["count"] == 10_000 and len(entry["files"]) == KEPT
    assert entry["files"][0] == ["cats/00000.jpg", "not an image file"]
    files, count = saved_skipped({"skipped": entry})
    assert skipped_text(files, total=count) == (
        "10,000 unreadable images were skipped: cats/00000.jpg (not an image file), "
        "cats/00001.jpg (not an image file), cats/00002.jpg (not an image file) and "
        "9,997 more.")
    # Continued: the same files met again are the same 10,000, not 19,900; a new one adds.
    again = skipped_entry(bad + [("/data/dogs/new.jpg", "empty file (0 bytes)")], "/data",
                          entry)
    assert again["count"] == 10_001 and again["files"] == entry["files"]
    # Outside the dataset folder a path stays whole; a damaged entry reads as none.
    assert skipped_entry([("/elsewhere/a.png", "gone")], "/data")["files"] == [
        ["/elsewhere/a.png", "gone"]]
    assert saved_skipped({"skipped": "junk"}) == ([], 0)
    assert saved_skipped({"skipped": {"count": 2, "files": [["a.png", "x"], [3], "b"]}}) == (
        [("a.png", "x")], 2)
    assert skipped_entry([], "/data") is None
