"""Files Workbench writes get the permissions any other program would give them: a new
file 0o666 less the umask (not 0o600, private to its owner), a replaced file keeps its own."""

from __future__ import annotations

import json
import os
import stat

import pytest

from helpers import random_bundle, run_cli
from workbench.core.io import atomic_write, atomic_write_text

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


@pytest.fixture
def umask():
    """Set the process umask for the test (``umask(0o022)``) and restore it after."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path, umask, mask):
    umask(mask)
    atomic_write_text(tmp_path / "new.json", "{}")
    atomic_write(tmp_path / "sub" / "new.bin", lambda f: f.write(b"x"))
    with open(tmp_path / "plain.txt", "w"):
        pass
    expected = 0o666 & ~mask
    assert _mode(tmp_path / "plain.txt") == expected
    assert _mode(tmp_path / "new.json") == expected
    assert _mode(tmp_path / "sub" / "new.bin") == expected


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "kept.json"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o640
    path.chmod(0o604)  # even one more open than the umask would give a new file
    atomic_write_text(path, "newer")
    assert _mode(path) == 0o604
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]  # no temporary left


def test_bundles_exports_and_run_folders_are_readable_by_others(capsys, tmp_path, umask,
                                                                tiny_experiment):
    umask(0o022)
    bundle, _ = random_bundle(tmp_path / "bundle.pt", tiny_experiment)
    assert _mode(bundle) == 0o644
    code, _, err = run_cli(capsys, "export", bundle, "--code", tmp_path / "model.py")
    assert code == 0, err
    assert _mode(tmp_path / "model.py") == 0o644
    code, _, err = run_cli(capsys, "predict", bundle, tiny_experiment.data.folder, "--csv",
                           tmp_path / "predictions.csv")
    assert code == 0, err
    assert _mode(tmp_path / "predictions.csv") == 0o644

    exp_file = tmp_path / "exp.json"
    tiny_experiment.training.epochs = 1
    tiny_experiment.save(exp_file)
    assert _mode(exp_file) == 0o644
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", exp_file, "--out", run)
    assert code == 0, err
    written = ["bundle.pt", "run.json", "metrics.json", "experiment.json",
               "checkpoints/last.pt", "checkpoints/best.pt"]
    assert {name: oct(_mode(run / name)) for name in written} == \
        {name: oct(0o644) for name in written}
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
