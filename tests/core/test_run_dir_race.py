"""Processes that start runs of the same name in the same second (the app and the CLI,
tune trials, two studies) each get their own run folder: the name is taken by creating
the folder, not by looking first, so none fails with a misleading "File exists"."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import workbench.core.runs.recorder as recorder


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 12, 7, 6, 57, 58)


def test_a_name_taken_between_looking_and_creating_gets_the_next_suffix(tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(recorder, "datetime", _Frozen)
    first = recorder.new_run_dir("race", tmp_path)
    assert first.name == "2026-12-07_06-57-58-race" and first.is_dir()
    # Another process creates "-2" after this one looked and saw it free.
    (tmp_path / "2026-12-07_06-57-58-race-2").mkdir()
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda p, *a, **k: False if p.parent == tmp_path
                        and p.name.startswith("2026-") and p.name != first.name
                        else real_exists(p, *a, **k))
    made = recorder.new_run_dir("race", tmp_path)
    assert made.name == "2026-12-07_06-57-58-race-3" and made.is_dir()
    assert not any(made.iterdir())
