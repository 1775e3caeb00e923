"""Where the commands write, and what they say when they cannot: output paths that are
symlinks, FIFOs, devices or folders (written, never replaced), and user mistakes that must
exit 2 with one line, not 1 as "a bug"."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import random_bundle, run_cli as run
from workbench.cli import main
from workbench.core.io import atomic_write, atomic_write_text

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


def one_line(err: str) -> bool:
    return len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.fixture
def bundle(tmp_path, tiny_experiment):
    """A bundle of the tiny experiment's network with random weights (no training)."""
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


@pytest.fixture
def image(tiny_folder):
    return next((Path(tiny_folder) / "red").iterdir())


class FifoReader:
    """A reader of a FIFO in a thread, as `cat fifo` would be. The test holds the FIFO
    open read-write too (Linux and macOS allow it), so neither side blocks for ever: the
    reader gets EOF once the writer and :meth:`finish` have closed it."""

    def __init__(self, path: Path):
        self.path = path
        self.data = b""
        self._hold = os.open(path, os.O_RDWR)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        # Open before the writer can: a writer that wrote and closed before the reader
        # opened, followed by finish() closing the hold, would leave no opener, and the
        # kernel drops what was written (the reader then waits for ever; seen under load).
        assert self._opened.wait(30)

    def _read(self) -> None:
        with open(self.path, "rb") as f:
            self._opened.set()
            self.data = f.read()

    def finish(self) -> bytes:
        os.close(self._hold)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        return self.data


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def char_device(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (minor 7) at ``path``: the real ones must
    never be a test's target (a failing test would destroy them)."""
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        os.close(os.open(path, os.O_WRONLY))
    except OSError as e:  # e.g. a file system mounted nodev
        pytest.skip(f"cannot use a device node here: {e}")
    return path


# -- predict --csv -----------------------------------------------------------------------
def test_predict_csv_through_a_symlink_writes_its_target(capsys, tmp_path, bundle, image):
    target = tmp_path / "real" / "predictions.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, _, err = run(capsys, "predict", bundle, image, "--csv", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    rows = list(csv.reader(target.open()))
    assert rows[0][:3] == ["path", "predicted", "confidence"] and rows[1][0] == str(image)
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@posix_only
def test_predict_csv_into_a_fifo_reaches_its_reader(capsys, tmp_path, bundle, image):
    fifo = make_fifo(tmp_path / "out.csv")
    reader = FifoReader(fifo)
    code, _, err = run(capsys, "predict", bundle, image, "--csv", fifo)
    data = reader.finish()
    assert code == 0, err
    assert data.decode().startswith("path,predicted,confidence") and str(image) in data.decode()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@posix_only
def test_predict_csv_to_dev_stdout_keeps_the_redirected_file(tmp_path, bundle, image):
    """`--csv /dev/stdout > out.txt`: the CSV joins what is printed; out.txt is not
    replaced (which would lose the printed lines) nor truncated."""
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        proc = subprocess.run([sys.executable, "-m", "workbench", "predict", str(bundle),
                               str(image), "--csv", "/dev/stdout"], stdout=f,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("path,predicted,confidence")
    assert f"{image}: " in text  # the printed prediction, after the CSV


def test_predict_csv_on_a_folder_is_one_line(capsys, tmp_path, bundle, image):
    code, out, err = run(capsys, "predict", bundle, image, "--csv", tmp_path)
    assert code == 2 and one_line(err) and out == ""
    assert f"cannot write {tmp_path}: it is a folder, not a file" in err


# -- export --code -----------------------------------------------------------------------
def test_export_code_to_dev_stdout_prints_it(capfd, bundle):
    code = main(["export", str(bundle), "--code", "/dev/stdout"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "def build_model() -> nn.Sequential:" in out


def test_export_code_to_a_null_device_leaves_the_node(capsys, tmp_path, bundle):
    node = char_device(tmp_path / "null", 3)
    code, _, err = run(capsys, "export", bundle, "--code", node)
    assert code == 0, err
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_export_code_to_a_full_device_is_one_line_and_leaves_the_node(capsys, tmp_path,
                                                                      bundle):
    node = char_device(tmp_path / "full", 7)
    code, out, err = run(capsys, "export", bundle, "--code", node)
    assert code == 2 and one_line(err) and out == ""
    assert f"cannot write {node}: No space left on device" in err
    assert stat.S_ISCHR(os.lstat(node).st_mode)


@posix_only
def test_export_code_into_a_fifo_reaches_its_reader(capsys, tmp_path, bundle):
    fifo = make_fifo(tmp_path / "model.py")
    reader = FifoReader(fifo)
    code, _, err = run(capsys, "export", bundle, "--code", fifo)
    data = reader.finish()
    assert code == 0, err
    assert b"def build_model()" in data and stat.S_ISFIFO(os.stat(fifo).st_mode)


# -- export --onnx -----------------------------------------------------------------------
@posix_only
def test_export_onnx_writes_a_symlinks_target_and_a_fifo(capsys, tmp_path, bundle):
    pytest.importorskip("onnxruntime")
    target = tmp_path / "store" / "real.onnx"
    target.parent.mkdir()
    link = tmp_path / "model.onnx"
    link.symlink_to(target)
    fifo = make_fifo(tmp_path / "model.json")
    reader = FifoReader(fifo)
    code, _, err = run(capsys, "export", bundle, "--onnx", link)
    data = reader.finish()
    assert code == 0, err
    assert "onnxruntime matches PyTorch" in err
    assert link.is_symlink() and target.stat().st_size > 0
    assert json.loads(data)["model"] == "model.onnx"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_export_onnx_to_stdout_is_refused_in_one_line(capsys, bundle, target):
    code, out, err = run(capsys, "export", bundle, "--onnx", target)
    assert code == 2 and one_line(err) and out == ""
    assert "file name" in err


# -- init -o, lr-find --write, evaluate --csv-dir ------------------------------------------
def test_init_output_through_a_symlink_writes_its_target(capsys, tmp_path):
    target = tmp_path / "experiments" / "exp.json"
    target.parent.mkdir()
    target.write_text("{}")
    target.chmod(0o644)
    link = tmp_path / "exp.json"
    link.symlink_to(target)
    code, _, err = run(capsys, "init", "-o", link, "--overwrite")  # the target exists
    assert code == 0, err
    assert link.is_symlink() and json.loads(target.read_text())["model"]["preset"] == "seed-cnn"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # the file keeps its permissions


def test_init_output_dash_prints(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "init", "-o", "-")
    assert code == 0 and json.loads(out)["model"]["preset"] == "seed-cnn"
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("target, words", [
    (lambda p: p, ["is a folder", "give the name of a file"]),
    (lambda p: Path("/proc/workbench-test.json"), ["cannot write /proc/workbench-test.json",
                                                   "leave out -o"]),
])
def test_init_output_that_cannot_be_written_is_one_line(capsys, tmp_path, target, words):
    path = target(tmp_path)
    if str(path).startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc here")
    code, out, err = run(capsys, "init", "-o", path)
    assert code == 2 and one_line(err) and out == "", err
    for word in words:
        assert word in err


def test_lr_find_write_through_a_symlink_writes_its_target(capsys, tmp_path, tiny_experiment):
    target = tmp_path / "store" / "exp.json"
    target.parent.mkdir()
    tiny_experiment.save(target)
    link = tmp_path / "exp.json"
    link.symlink_to(target)
    code, _, err = run(capsys, "lr-find", link, "--steps", "20", "--write")
    if "no suggestion" in err:
        pytest.skip("the sweep made no suggestion on this machine")
    assert code == 0, err
    assert link.is_symlink()
    assert json.loads(target.read_text())["optimizer"]["params"]["lr"] != 0.01


def test_evaluate_csv_dir_writes_through_symlinks_and_refuses_a_file(capsys, tmp_path,
                                                                     bundle, tiny_folder):
    out = tmp_path / "report"
    out.mkdir()
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n")
    (out / "predictions.csv").symlink_to(kept)
    code, _, err = run(capsys, "evaluate", bundle, tiny_folder, "--csv-dir", out)
    assert code == 0, err
    assert (out / "predictions.csv").is_symlink() and kept.read_text().startswith("path,")
    code, out_text, err = run(capsys, "evaluate", bundle, tiny_folder, "--csv-dir", kept)
    assert code == 2 and one_line(err) and out_text == ""
    assert f"--csv-dir {kept} is a file, not a folder" in err


# -- atomic_write for every other caller (run folders, checkpoints, the session) ----------
def test_atomic_write_replaces_a_regular_file_and_cleans_up_on_failure(tmp_path):
    path = tmp_path / "run.json"
    atomic_write_text(path, "one")
    assert path.read_text() == "one" and not path.is_symlink()

    def broken(f):
        f.write(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "one" and [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_atomic_write_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new" / "target.json")
    atomic_write_text(link, "hi")
    assert link.is_symlink() and (tmp_path / "new" / "target.json").read_text() == "hi"


def test_atomic_write_gives_a_stream_writer_a_seekable_file(tmp_path):
    """torch.save seeks; a FIFO cannot: the bytes are gathered first."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs (POSIX)")
    import torch

    fifo = make_fifo(tmp_path / "ckpt.pt")
    reader = FifoReader(fifo)
    atomic_write(fifo, lambda f: torch.save({"w": torch.ones(3)}, f))
    data = reader.finish()
    assert torch.equal(torch.load(io.BytesIO(data), weights_only=True)["w"], torch.ones(3))


# -- user mistakes: exit 2 and one line, not "a bug" -----------------------------------------
@pytest.mark.parametrize("section, field", [("training", "seed"), ("data", "seed")])
def test_a_seed_of_2_to_the_64_is_one_line(capsys, tmp_path, tiny_experiment, section, field):
    data = tiny_experiment.to_dict()
    data[section][field] = 2**64
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(json.dumps(data))
    code, out, err = run(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 2 and one_line(err), err
    assert f"{section}.{field}: {2**64} is above the maximum" in err


def test_the_largest_seed_trains(capsys, tmp_path, tiny_experiment):
    from workbench.core.experiment import MAX_SEED

    tiny_experiment.training.seed = tiny_experiment.data.seed = MAX_SEED
    tiny_experiment.training.epochs = 1
    exp_file = tmp_path / "exp.json"
    tiny_experiment.save(exp_file)
    code, _, err = run(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 0, err


def test_a_5000_digit_integer_is_one_line_naming_its_line(capsys, tmp_path, tiny_experiment):
    text = tiny_experiment.to_json()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if '"epochs"' in line)
    lines[at] = '    "epochs": ' + "9" * 5000 + ","
    exp_file = tmp_path / "exp.json"
    exp_file.write_text("\n".join(lines))
    code, out, err = run(capsys, "train", exp_file, "--out", tmp_path / "run")
    assert code == 2 and one_line(err), err[:300]
    assert f"{exp_file} holds a number too long to read (line {at + 1}, column 15" in err
    assert "5,000 digits" in err and len(err) < 400


# -- a plain pickle: torch's warning is not shown ------------------------------------------
def test_a_plain_pickle_gives_one_line_without_torchs_warning(tmp_path, image):
    """Through a real process: pytest would catch the warning before stderr."""
    import pickle

    fake = tmp_path / "model.pt"
    fake.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    proc = subprocess.run([sys.executable, "-m", "workbench", "predict", str(fake), str(image)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"workbench predict: error: {fake} is not a readable "
                                        f"bundle (truncated, damaged or not a PyTorch file)"]


# -- predict on paths that are not there --------------------------------------------------------
def test_predict_with_no_usable_path_is_a_user_error(capsys, tmp_path, bundle):
    missing = tmp_path / "nope.png"
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "predict", bundle, missing, empty, "--json")
    assert code == 2 and one_line(err) and out == ""
    assert f"{missing}: file not found" in err and f"{empty}: folder holds no images" in err


def test_predict_with_some_usable_paths_lists_the_others(capsys, tmp_path, bundle, image):
    missing = tmp_path / "nope.png"
    code, out, err = run(capsys, "predict", bundle, image, missing, "--json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["path"] for r in results] == [str(image), str(missing)]
    assert results[0]["top"] and "error" not in results[0]
    assert results[1] == {"path": str(missing), "top": [], "error": "file not found"}


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, bundle, image):
    # `workbench predict BUNDLE FOLDER | head -2` printed "unexpected BrokenPipeError ...
    # This is a bug in Workbench" and exited 1.
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(1500):  # far more output than a pipe holds (64 KiB)
        os.link(image, folder / f"image_with_a_long_name_{i:05d}.png")
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "predict", str(bundle),
                             str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "WORKBENCH_HOME": str(tmp_path / "home")})
    assert proc.stdout.readline()  # as `head -1` does, then it closes the pipe
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""
