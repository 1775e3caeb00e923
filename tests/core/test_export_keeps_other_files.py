"""``workbench export`` never destroys a file that is not an earlier export: the README's own
flow (``init -o flowers.json``, then ``export --onnx flowers.onnx``, whose preprocessing is
``flowers.json``) is refused before any work, naming the file and what to do, unless
``--overwrite``; a run folder's own files are never written, even with ``--overwrite``."""

from __future__ import annotations

import json

import pytest

from helpers import random_bundle, refused, run_cli


@pytest.fixture
def bundle(tmp_path, tiny_experiment):
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


@pytest.mark.parametrize("int8", [[], ["--int8"]])
def test_an_experiment_named_like_the_onnx_preprocessing_is_refused(capsys, tmp_path, bundle,
                                                                     tiny_experiment, int8):
    experiment = tmp_path / "flowers.json"
    tiny_experiment.save(experiment)
    before = experiment.read_bytes()
    refused(run_cli(capsys, "export", bundle, "--onnx", tmp_path / "flowers.onnx", *int8),
            f"{experiment} exists and is a Workbench experiment, not an earlier ONNX export's "
            f"preprocessing file", "give --onnx another name", "--overwrite")
    assert experiment.read_bytes() == before and not (tmp_path / "flowers.onnx").exists()


def test_overwrite_replaces_it_and_an_earlier_export_needs_no_overwrite(capsys, tmp_path,
                                                                        bundle):
    sidecar = tmp_path / "m.json"
    sidecar.write_text("my notes\n")
    refused(run_cli(capsys, "export", bundle, "--onnx", tmp_path / "m.onnx"),
            f"{sidecar} exists and is not an earlier ONNX export's preprocessing file")
    assert sidecar.read_text() == "my notes\n"
    code, _, err = run_cli(capsys, "export", bundle, "--onnx", tmp_path / "m.onnx",
                           "--overwrite")
    assert code == 0, err
    assert json.loads(sidecar.read_text())["format"] == "workbench-onnx-preprocessing"
    code, _, err = run_cli(capsys, "export", bundle, "--onnx", tmp_path / "m.onnx")
    assert code == 0, err  # its own earlier export: replaced, as running it again does


def test_a_file_beside_the_safetensors_that_is_no_description_is_refused(capsys, tmp_path,
                                                                        bundle):
    onnx_doc = tmp_path / "w.safetensors.json"  # another export's JSON is not this one's
    onnx_doc.write_text(json.dumps({"format": "workbench-onnx-preprocessing"}))
    refused(run_cli(capsys, "export", bundle, "--safetensors", tmp_path / "w.safetensors"),
            f"{onnx_doc} exists and is an ONNX export's preprocessing file, not an earlier "
            f"safetensors export's description", "give --safetensors another name")
    assert not (tmp_path / "w.safetensors").exists()
    code, _, err = run_cli(capsys, "export", bundle, "--safetensors", tmp_path / "w.safetensors",
                           "--overwrite")
    assert code == 0, err
    assert json.loads(onnx_doc.read_text())["format"] == "workbench-safetensors"


@pytest.mark.parametrize("option, name, written", [
    ("--onnx", "experiment.onnx", "experiment.json"),
    ("--onnx", "split.onnx", "split.json"),
    ("--code", "checkpoints/m", "checkpoints/m.py"),  # --code metrics.json: metrics.json.py
    ("--code", "checkpoints/last.pt", "checkpoints/last.pt"),
])
def test_a_run_folders_own_files_are_never_written(capsys, tmp_path, tiny_experiment, option,
                                                   name, written):
    run = tmp_path / "runs" / "experiment"
    (run / "checkpoints").mkdir(parents=True)
    bundle = random_bundle(run / "bundle.pt", tiny_experiment)[0]
    tiny_experiment.save(run / "experiment.json")
    for own in ("run.json", "metrics.json", "split.json", "checkpoints/last.pt"):
        (run / own).write_text("{}")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    refused(run_cli(capsys, "export", bundle, option, run / name, "--overwrite"),
            f"would write {run / written}", "a run's own files", f"give {option} another name")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_the_run_files_are_those_a_run_writes():
    from workbench.core.export.outputs import RUN_FILES
    from workbench.core.runs.clearing import _TOP_LEVEL

    assert set(RUN_FILES) == set(_TOP_LEVEL)
