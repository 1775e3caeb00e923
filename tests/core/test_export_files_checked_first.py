"""``workbench export``: a JSON beside an output (the ONNX preprocessing ``m.json``, the
safetensors description ``m.safetensors.json``) that cannot be written is refused before
any format is exported, naming the option to rename; and a name typed without its suffix
gets it (``--safetensors mymodel`` writes ``mymodel.safetensors``), as the Export dialog
names its files."""

from __future__ import annotations

import pytest

from helpers import random_bundle, refused, run_cli


@pytest.fixture
def bundle(tmp_path, tiny_experiment):
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


@pytest.mark.parametrize("argv, in_the_way, words", [
    (["--onnx", "m.onnx", "--code", "c.py", "--safetensors", "w.safetensors"], "m.json",
     ["where --onnx's preprocessing goes", "give --onnx another name",
      "its preprocessing goes to NAME.json"]),
    (["--code", "c.py", "--safetensors", "w.safetensors"], "w.safetensors.json",
     ["where --safetensors' description goes", "give --safetensors another name"]),
])
def test_a_folder_where_an_outputs_json_goes_is_refused_before_anything_is_written(
        capsys, tmp_path, bundle, monkeypatch, argv, in_the_way, words):
    out = tmp_path / "out"
    (out / in_the_way).mkdir(parents=True)
    monkeypatch.chdir(out)
    line = refused(run_cli(capsys, "export", bundle, *argv),
                   f"cannot write {in_the_way}", "it is a folder, not a file", *words)
    assert "the name of a file to write" not in line  # a name they never typed
    assert sorted(p.name for p in out.iterdir()) == [in_the_way]  # no half export


def test_names_without_a_suffix_get_the_dialogs_suffixes(capsys, tmp_path, bundle):
    out = tmp_path / "out"
    out.mkdir()  # a file output's folder is not made (a mistyped one is refused)
    code, _, err = run_cli(capsys, "export", bundle, "--safetensors", out / "mymodel",
                           "--code", out / "code")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "code.py", "mymodel.safetensors", "mymodel.safetensors.json"]
    assert f"wrote {out / 'mymodel.safetensors'} " in err and f"wrote {out / 'code.py'}" in err


def test_the_suffix_rule_keeps_streams_folders_and_names_that_have_it(tmp_path):
    from workbench.core.export.targets import with_suffix

    assert with_suffix("net", ".onnx") == "net.onnx"
    assert with_suffix("net.json", ".onnx") == "net.json.onnx"  # as the dialog adds it
    assert with_suffix("NET.ONNX", ".onnx") == "NET.ONNX"
    for kept in ("-", "/dev/stdout", str(tmp_path), "", None):
        assert with_suffix(kept, ".py") == kept


@pytest.mark.parametrize("option", ["--code", "--onnx"])
def test_a_name_ending_in_a_slash_is_refused_not_a_hidden_file(capsys, tmp_path, bundle,
                                                              monkeypatch, option):
    # "--code newdir/" made the folder and wrote an invisible newdir/.py (review-core 3).
    monkeypatch.chdir(tmp_path)
    refused(run_cli(capsys, "export", bundle, option, "newdir/"),
            "cannot write newdir/", "it names a folder (it ends in /), not a file",
            f"give {option} the name of a file to write")
    assert not (tmp_path / "newdir").exists()
