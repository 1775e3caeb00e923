"""``workbench train`` says what the Model doctor warns about the network as the run
starts, with the ``--set`` that fixes it (the resnet18 preset offline: a frozen backbone
on random weights learns little better than guessing)."""

from __future__ import annotations

import shlex

from helpers import make_image_folder, run_cli


def test_train_warns_about_a_frozen_backbone_without_pretrained_weights(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no weights on this machine
    data = make_image_folder(tmp_path / "data", per_class=6, size=32)
    exp = tmp_path / "r18.json"
    code, _, err = run_cli(capsys, "init", "--preset", "resnet18", "--data", data, "-o", exp)
    assert code == 0, err
    code, out, err = run_cli(capsys, "train", exp, "--epochs", "1", "--device", "cpu",
                             "--out", tmp_path / "run")
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning: ")]
    assert any("is frozen but has no pretrained weights" in ln and
               "expect little better than guessing" in ln and
               "--set 'model.layers[0].params.mode=fine_tune'" in ln for ln in lines), err


def test_the_doctors_fix_is_the_set_that_silences_it(tmp_path):
    from workbench.core.experiment import Experiment
    from workbench.core.model.doctor import starting_warnings
    from workbench.core.registry import Component
    from workbench.cli.common import apply_sets

    exp = Experiment()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 8}),
                        Component("ReLU"), Component("Linear"), Component("Softmax")]
    said = starting_warnings(exp, 3)
    assert said and "--set " in said[0]
    option = said[0].split("on the command line ", 1)[1].rstrip(".")
    # Pasted into a shell as printed (the learner's report: the layer list was printed
    # unquoted, and the shell split it into "unrecognized arguments").
    args = shlex.split(option)
    assert args[0::2] == ["--set"] * (len(args) // 2) and len(args) % 2 == 0, option
    sets = args[1::2]
    assert not [w for w in starting_warnings(apply_sets(exp, sets), 3)
                if w.startswith(said[0].split(".")[0])]
