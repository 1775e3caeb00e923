"""A backbone-feature file (features over ``data.cache_budget_mb``, kept on disk) never stays
behind a run that was killed (kill -9, the OOM killer, a power cut): it is deleted as soon as
it is open, so the system frees its space whatever ends the process; where an open file
cannot be deleted (Windows) it is named with its process's id and the next run removes the
files of processes that are gone (walk-transfer defect 3).

Measured before: a run killed with SIGKILL left its ``features-ddon5_rk.f32`` (819,200
bytes) in the cache folder, and later runs, resumes and app starts never removed it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.core.experiment import Experiment
from workbench.core.train.features import open_features

posix_only = pytest.mark.skipif(os.name == "nt", reason="an open file stays on Windows")

#: Makes a file-backed feature cache in argv[1] and waits to be killed; with argv[2]
#: "windows", deleting the open file fails as it does on Windows.
HOLDER = """
import pathlib, sys, time
import torch
from workbench.core.train.features import FeatureCache
if sys.argv[2] == "windows":
    def refused(self, missing_ok=False):
        raise PermissionError(13, "The process cannot access the file", str(self))
    pathlib.Path.unlink = refused
model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(4, 2))
cache = FeatureCache(model, 1000, (64,), 2, directory=pathlib.Path(sys.argv[1]))
cache.values[1, 999] = 1.0  # the mapping works
print("ready", cache.path.name, flush=True)
time.sleep(120)
"""


def _killed_holder(folder: Path, system: str) -> str:
    """Run :data:`HOLDER` until its cache is made, then SIGKILL it; its file's name."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), system],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["ready"], line
    finally:
        proc.send_signal(signal.SIGKILL) if hasattr(signal, "SIGKILL") else proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode != 0
    return line[1]


def _features(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("features-*.f32"))


@posix_only
def test_a_run_killed_with_sigkill_leaves_no_feature_file(tmp_path):
    name = _killed_holder(tmp_path, "posix")
    assert name.startswith("features-") and name.endswith(".f32")
    assert _features(tmp_path) == []


@posix_only
def test_where_an_open_file_cannot_be_deleted_the_next_run_removes_a_killed_ones(
        tmp_path, monkeypatch):
    name = _killed_holder(tmp_path, "windows")
    assert _features(tmp_path) == [name]  # left behind, named with the dead process's id
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
    model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(4, 2))
    cache, note = open_features(Experiment(), model, 10, (4,), 1)  # in RAM: no file of its own
    assert cache is not None and cache.path is None and note == ""
    assert _features(tmp_path) == []


#: A live run: makes its feature file in argv[1] and holds it open, as a run's mapping does
#: (on Windows that, not its process id, is what keeps the next run from deleting it).
SLEEPER = """
import os, pathlib, sys, time
path = pathlib.Path(sys.argv[1]) / f"features-{os.getpid()}-abcd1234.f32"
file = open(path, "wb")
file.write(bytes(64))
file.flush()
print("ready", path.name, flush=True)
time.sleep(60)
"""


def test_the_next_run_keeps_the_files_of_live_processes(tmp_path, monkeypatch):
    sleeper = subprocess.Popen([sys.executable, "-c", SLEEPER, str(tmp_path)],
                               stdout=subprocess.PIPE, text=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    try:
        line = sleeper.stdout.readline().split()  # its own pid (not a launcher's)
        assert line[:1] == ["ready"], line
        kept = [line[1], f"features-{os.getpid()}-x1y2.f32", "features-notes.txt"]
        gone = [f"features-{dead.pid}-efgh5678.f32", "features-ddon5_rk.f32"]  # an old name
        for name in kept[1:] + gone:
            (tmp_path / name).write_bytes(b"\0" * 64)
        monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path))
        model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(4, 2))
        open_features(Experiment(), model, 10, (4,), 1)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
        sleeper.stdout.close()


def test_a_file_that_cannot_be_deleted_while_open_is_named_and_removed_at_the_end(
        tmp_path, monkeypatch):
    real_unlink = Path.unlink
    still_open = [True]

    def windows_unlink(self, missing_ok=False):
        if still_open[0] and self.name.startswith("features-"):
            raise PermissionError(13, "The process cannot access the file", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", windows_unlink)
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    exp = Experiment()
    exp.data.cache_budget_mb = 0
    model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(4, 2))
    cache, note = open_features(exp, model, 10, (4,), 1)
    assert cache is not None and not cache.deleted
    assert cache.path.name.startswith(f"features-{os.getpid()}-") and cache.path.exists()
    assert note.endswith(f"are kept in {cache.path}, removed when the run ends (or by the "
                         f"next run).")
    still_open[0] = False  # what close() does first: unmap it
    cache.close()
    assert not cache.path.exists()


@posix_only
def test_on_posix_the_note_says_the_file_goes_however_the_run_ends(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    exp = Experiment()
    exp.data.cache_budget_mb = 0
    model = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Linear(4, 2))
    cache, note = open_features(exp, model, 10, (4,), 2)
    try:
        assert cache is not None and cache.deleted and not cache.path.exists()
        assert note == (f"The cached backbone features (0 MB, over data.cache_budget_mb) are "
                        f"kept in a file in {tmp_path / 'cache'}, deleted at once: its space "
                        f"goes back when the run ends, however it ends.")
        cache.values[1, 9] = 2.0  # the mapping is still there
        assert float(cache.values[1, 9, 0]) == 2.0
    finally:
        cache.close()
