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


def test_two_fixes_of_the_layer_list_are_also_given_as_one_that_silences_both():
    """Two fixes that each rewrite ``model.layers`` (insert a ReLU; remove the Softmax):
    pasted together the second replaced the first, so one mistake stayed. A last line gives
    them at once, and each fix sets only what it changes (no optimizer defaults)."""
    from workbench.cli.common import apply_sets
    from workbench.core.experiment import Experiment
    from workbench.core.model.doctor import starting_warnings
    from workbench.core.registry import Component

    exp = Experiment()
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 8}),
                        Component("Linear", {"out_features": 8}), Component("ReLU"),
                        Component("Linear"), Component("Softmax")]
    said = starting_warnings(exp, 3)
    assert len(said) == 3 and not any("optimizer." in w for w in said)
    relu, softmax, both = said
    assert "insert ReLU after layer 2" in relu and "remove layer 6 (Softmax)" in softmax
    assert both.startswith("The fixes above each set model.layers, so pasting two of them "
                           "keeps only the last. All of them at once: on the command line ")

    def options(line):
        return shlex.split(line.split("on the command line ", 1)[1].rstrip("."))[1::2]

    # The two pasted one after the other: the Softmax's layer list replaces the ReLU's.
    assert len(starting_warnings(apply_sets(exp, options(relu) + options(softmax)), 3)) == 1
    done = apply_sets(exp, options(both))
    assert [c.type for c in done.model.layers] == ["Flatten", "Linear", "ReLU", "Linear",
                                                   "ReLU", "Linear"]
    assert starting_warnings(done, 3) == []
