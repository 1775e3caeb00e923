"""``workbench export``'s files beside the model: the ONNX preprocessing (``m.json``) and
the safetensors description (``m.safetensors.json``) never overwrite each other, two
outputs of one command that are the same file are refused before anything is written, and
a write that fails names the file asked for, not our temporary file."""

from __future__ import annotations

import errno
import json
import os

import pytest

from helpers import random_bundle, refused, run_cli


@pytest.fixture
def bundle(tmp_path, tiny_experiment):
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


def test_onnx_and_safetensors_of_one_name_keep_both_descriptions(capsys, tmp_path, bundle):
    out = tmp_path / "out"
    out.mkdir()  # a file output's folder is not made (a mistyped one is refused)
    code, _, err = run_cli(capsys, "export", bundle, "--onnx", out / "m.onnx",
                           "--safetensors", out / "m.safetensors")
    assert code == 0, err
    preprocessing = json.loads((out / "m.json").read_text())
    description = json.loads((out / "m.safetensors.json").read_text())
    # Each file is what its reader expects: the ONNX one the preprocessing, the other the
    # experiment the weights belong to.
    assert preprocessing["model"] == "m.onnx" and "steps" in preprocessing
    assert description["format"] == "workbench-safetensors"
    assert description["weights"] == "m.safetensors" and description["experiment"]["data"]
    assert f"{out / 'm.json'}" in err and f"{out / 'm.safetensors.json'}" in err


def test_separate_exports_of_one_name_keep_both_descriptions(capsys, tmp_path, bundle):
    assert run_cli(capsys, "export", bundle, "--onnx", tmp_path / "m.onnx")[0] == 0
    assert run_cli(capsys, "export", bundle, "--safetensors", tmp_path / "m.safetensors")[0] == 0
    assert "steps" in json.loads((tmp_path / "m.json").read_text())  # not overwritten


@pytest.mark.parametrize("argv, words", [
    # Each output's own suffix is added (--code m.json writes m.json.py): only the two JSON
    # files beside outputs can still be one.
    (["--onnx", "m.safetensors.onnx", "--safetensors", "m.safetensors"],
     ["--onnx's preprocessing", "--safetensors' description"]),
    (["--onnx", "m.safetensors", "--safetensors", "m"],
     ["--onnx's preprocessing", "--safetensors' description"]),
])
def test_two_outputs_of_one_export_that_are_one_file_are_refused(capsys, tmp_path, bundle,
                                                                 monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    refused(run_cli(capsys, "export", bundle, *argv), "would both write",
            "different file names", *words)
    assert not list(tmp_path.glob("m*"))  # nothing written


def _read_only_place(monkeypatch):
    """Creating a file fails with EACCES, as in a read-only folder (chmod stops no root)."""
    real = os.open

    def refusing(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)


def test_safetensors_to_a_read_only_place_names_the_file_not_a_temporary(
        capsys, tmp_path, bundle, monkeypatch):
    target = tmp_path / "m.safetensors"
    _read_only_place(monkeypatch)
    line = refused(run_cli(capsys, "export", bundle, "--safetensors", target),
                   f"cannot write {target}: Permission denied")
    assert ".tmp" not in line


def test_atomic_write_names_the_target_when_its_temporary_cannot_be_made(tmp_path,
                                                                        monkeypatch):
    from workbench.core.io import atomic_write_text

    _read_only_place(monkeypatch)
    with pytest.raises(PermissionError) as e:
        atomic_write_text(tmp_path / "out.txt", "text")
    assert e.value.filename == str(tmp_path / "out.txt")
    assert e.value.errno == errno.EACCES


def test_atomic_write_names_the_target_when_the_data_cannot_be_written(tmp_path):
    from workbench.core.io import atomic_write

    def full(f):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError) as e:
        atomic_write(tmp_path / "out.bin", full)
    assert e.value.filename == str(tmp_path / "out.bin") and e.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # and the temporary file is gone
