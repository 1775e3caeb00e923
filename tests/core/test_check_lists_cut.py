"""`workbench check` cuts each list at 20 lines and says how many it left out."""

from __future__ import annotations

from pathlib import Path

from helpers import make_image_folder, run_cli


def test_a_cut_list_says_how_many_more_and_where_they_are(tmp_path, capsys):
    root = Path(make_image_folder(tmp_path / "data", per_class=8))
    for i in range(23):  # 23 unreadable files: 20 listed, 3 more
        (root / "red" / f"broken_{i:02d}.jpg").write_bytes(b"not an image")
    code, out, _err = run_cli(capsys, "check", root)
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("unreadable (23)"))
    listed = [line for line in lines[start + 1:start + 21] if "broken_" in line]
    assert len(listed) == 20
    assert lines[start + 21] == "  ... and 3 more (--json lists them all)"
