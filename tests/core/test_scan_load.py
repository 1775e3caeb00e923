"""How much of the machine checking a dataset takes: the decode pool's size, and
``workbench check`` without ``--labels`` running without torch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from helpers import make_image_folder
from workbench.core.data import index as index_module
from workbench.core.data.scan import scan_folder


def _four_cores(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)


def _recording_check(monkeypatch):
    """Replace the per-file decode by one that records which threads decode, and how many
    at once (the real check still runs)."""
    real, lock = index_module._check_file, threading.Lock()
    seen = {"threads": set(), "active": 0, "most": 0}

    def check(path):
        with lock:
            seen["threads"].add(threading.get_ident())
            seen["active"] += 1
            seen["most"] = max(seen["most"], seen["active"])
        try:
            return real(path)
        finally:
            with lock:
                seen["active"] -= 1

    monkeypatch.setattr(index_module, "_check_file", check)
    return seen


def test_a_scan_decodes_with_no_more_threads_than_cores(tmp_path, monkeypatch):
    # More threads than cores add nothing (Pillow holds the interpreter lock for most of
    # the work on small images) and starve the app's event loop of it.
    _four_cores(monkeypatch)
    folder = make_image_folder(tmp_path / "d", per_class=40, size=8)
    (tmp_path / "d" / "red" / "broken.png").write_bytes(b"not a png")
    seen = _recording_check(monkeypatch)
    index = scan_folder(folder, verify=True)
    assert [os.path.basename(u.path) for u in index.unreadable] == ["broken.png"]
    assert len(index.samples) == 120
    assert 1 <= len(seen["threads"]) <= 4
    assert seen["most"] <= 4


def test_the_number_of_decoding_threads_can_be_limited_and_changed_as_it_runs(tmp_path,
                                                                            monkeypatch):
    _four_cores(monkeypatch)
    folder = make_image_folder(tmp_path / "d", per_class=30, size=8)
    (tmp_path / "d" / "blue" / "empty.png").write_bytes(b"")
    seen = _recording_check(monkeypatch)
    index = scan_folder(folder, verify=False)
    index_module.verify_samples(index, workers=1)
    assert seen["most"] == 1
    assert [os.path.basename(u.path) for u in index.unreadable] == ["empty.png"]
    asked = []
    index = scan_folder(folder, verify=False)
    index_module.verify_samples(index, workers=lambda: asked.append(1) or 2)
    assert len(asked) >= 90 // 16 and seen["most"] <= 2  # asked before each batch
    assert len(index.samples) == 90


def test_check_without_labels_does_not_import_torch(tmp_path):
    # Exact and near copies are found by hashes (numpy and Pillow): torch's import alone
    # took about 800 MB and seconds.
    folder = make_image_folder(tmp_path / "d", per_class=6, size=16)
    env = dict(os.environ, WORKBENCH_HOME=str(tmp_path / "home"))
    code = ("import sys; from workbench.cli import main; rc = main(['check', sys.argv[1]]); "
            "print('torch-imported', 'torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, folder], capture_output=True,
                          text=True, env=env)
    assert "torch-imported False" in proc.stdout, proc.stdout + proc.stderr
    assert "blank images (18)" in proc.stdout and "time taken:" in proc.stdout  # checked
