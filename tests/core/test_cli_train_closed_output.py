"""`workbench train ... | head`: the reader of the run's output goes away mid-run."""

import json
import os
import subprocess
import sys


def test_a_closed_output_stops_the_run_it_does_not_fail_it(tiny_experiment, tmp_path):
    # The epoch line's print raised BrokenPipeError inside the trainer: run.json said
    # "failed" with "[Errno 32] Broken pipe", and the Runs tab listed a failed run.
    tiny_experiment.training.epochs = 200  # still training when the pipe closes
    exp = tmp_path / "exp.json"
    tiny_experiment.save(exp)
    out = tmp_path / "run"
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "workbench", "train", str(exp),
                                 "--out", str(out)], stdout=subprocess.PIPE, stderr=stderr,
                                env={**os.environ})
        for line in proc.stdout:  # as `head` does: read the first epoch's line, go away
            if line.startswith(b"epoch 1/"):
                break
        proc.stdout.close()
        proc.wait(timeout=300)
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "stopped", info.get("message")
    assert "Errno" not in (info.get("message") or "")
    assert 1 <= info["epochs_done"] < 200  # kept, to resume
    # Why it stopped, in run.json and on stderr (measured before: run.json said "stopped",
    # stderr "stopped before the last epoch; continue with ...").
    why = ("stopped: its output was closed (the reader of workbench's output went away, "
           "e.g. | head)")
    assert info["message"] == why
    err = (tmp_path / "stderr.txt").read_text()
    assert f"{why}; continue with: workbench resume {out}" in err.splitlines()
    assert "stopped before the last epoch" not in err
