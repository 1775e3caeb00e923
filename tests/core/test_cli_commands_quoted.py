"""The commands the CLI suggests can be pasted into a shell as they are (walk-paths defect
6): a path with spaces, ``#`` or quotes is quoted (``shlex.quote``), so ``workbench resume
runs dir/run #2`` no longer splits at the space and ends at the ``#``. And ``export --code``
says what its ``build_model()`` does (defect 9): it builds the network; the bundle's weights
are loaded into it as the file's header shows."""

from __future__ import annotations

import json
import shlex

import pytest

from helpers import random_bundle, run_cli
from workbench.cli.common import UserError
from workbench.cli.run_folder import _claim_run_folder
from workbench.core.bundle import bundle_in_folder
from workbench.core.errors import BundleError
from workbench.core.train.doctor.fixes import diverged_fix

AWKWARD = "runs dir/run #2 it's ü"


def _pasted(text: str, command: str) -> list[str]:
    """The first three words a shell reads from ``command`` on in ``text`` (a ``#`` starts
    a comment, as it does in a shell)."""
    lexer = shlex.shlex(text[text.index(command):], posix=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    return [lexer.get_token() for _ in range(3)]


def _stopped_run(folder):
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "last.pt").write_bytes(b"x")
    (folder / "run.json").write_text(json.dumps({"status": "stopped", "epochs_done": 2}))
    return folder


def test_init_says_how_to_train_the_file_quoted(capsys, tmp_path):
    path = tmp_path / "exp dir #1" / "exp ü.json"
    path.parent.mkdir()
    code, _, err = run_cli(capsys, "init", "-o", path)
    assert code == 0, err
    assert f"workbench train {shlex.quote(str(path))} --out RUN_DIR" in err
    assert _pasted(err, "workbench train")[:3] == ["workbench", "train", str(path)]


def test_a_folder_holding_a_run_names_resume_and_a_fresh_folder_quoted(tmp_path):
    out = _stopped_run(tmp_path / AWKWARD)
    with pytest.raises(UserError) as e:
        _claim_run_folder(out, overwrite=False)
    text = str(e.value)
    assert f"workbench resume {shlex.quote(str(out))}, train" in text
    assert f"--out {shlex.quote(str(out) + '-2')})" in text


def test_a_run_folder_without_a_bundle_names_resume_quoted(tmp_path):
    out = _stopped_run(tmp_path / AWKWARD)
    with pytest.raises(BundleError) as e:
        bundle_in_folder(out)
    assert str(e.value).endswith(f"finish it first with: workbench resume "
                                 f"{shlex.quote(str(out))}")
    assert _pasted(str(e.value), "workbench resume")[:3] == ["workbench", "resume", str(out)]


def test_the_diverged_fix_names_resume_quoted():
    fix, _action = diverged_fix(0.01, 2, f"/tmp/{AWKWARD}")
    assert f"(workbench resume {shlex.quote('/tmp/' + AWKWARD)} --lr 0.01)" in fix


def test_export_names_itself_quoted_and_says_how_to_load_the_weights(capsys, tmp_path,
                                                                     tiny_experiment):
    (tmp_path / "b dir #1").mkdir()
    bundle, _ = random_bundle(tmp_path / "b dir #1" / "bundle.pt", tiny_experiment)
    code, _, err = run_cli(capsys, "export", bundle)
    assert code == 2 and f"workbench export {shlex.quote(str(bundle))} --code model.py" in err
    code, _, err = run_cli(capsys, "export", bundle, "--code", tmp_path / "m.py")
    assert code == 0, err
    assert err.strip() == (f"wrote {tmp_path / 'm.py'}: build_model() builds the network with "
                           f"random weights; load {bundle}'s state_dict into it as the file's "
                           f"header shows")
    header = (tmp_path / "m.py").read_text()
    assert "model.load_state_dict(state)" in header  # where the message points
