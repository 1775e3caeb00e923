"""A session file that is not valid JSON is set aside whole, but the Train tab's last run is
salvaged from its text when it names a run folder that still exists (tester report: the
Train tab lost the run to continue)."""

from __future__ import annotations

import json

from workbench.core.runs.store import write_run_info
from workbench.core.session import read_session, salvaged_last_run, session_text


def _run(folder):
    folder.mkdir(parents=True)
    write_run_info(folder, {"name": folder.name, "status": "stopped"})
    return str(folder)


def test_the_last_run_is_salvaged_from_a_session_that_is_not_json(tmp_path):
    run = _run(tmp_path / "runs" / 'my "best" run')
    text = session_text({"name": "x"}, b"", "Train", run)
    path = tmp_path / "session.json"
    path.write_text(text.replace('"name": "x"', '"name": "x",,'))  # a hand edit gone wrong
    session = read_session(path)
    assert "not valid JSON" in session.problem and session.experiment is None
    assert session.last_run == run
    path.write_text(json.dumps({"train": {"last_run": run}}))  # no session_version
    session = read_session(path)
    assert "session_version" in session.problem and session.last_run == run


def test_only_an_existing_run_folder_is_salvaged(tmp_path):
    (tmp_path / "plain").mkdir()
    for value in ("", str(tmp_path / "gone"), str(tmp_path / "plain"), "x" * 5000):
        assert salvaged_last_run('{"train": {"last_run": %s}, ' % json.dumps(value)) == ""
    assert salvaged_last_run('{"last_run": 3, "last_run": "\\ud8') == ""  # not a string
    run = _run(tmp_path / "run")
    assert salvaged_last_run('{"a": {"last_run": "/nowhere"}, "last_run": %s,'
                             % json.dumps(run)) == run
