"""What a learner who makes the classic mistakes is told (walk-learner report, 3, 4, 6, 8).

- A batch size larger than the training set (demo: 800 training images, batch 1000) makes
  each epoch one step: ``train`` and ``check --experiment`` warn before the run, with the
  fix, and the training doctor names it as the cause of a run that does not learn, not
  the labels or the rate (one rule: ``causes.steps_cause``).
- A frozen backbone without its pretrained weights is named by the training doctor as
  the cause, with its fine_tune fix, not the LR finder.
- The Softmax-before-CrossEntropy warning says what is true: the loss has a floor and
  learning is slower; the accuracy may still rise (a run reached 96.5 %).
- ``check --experiment`` says what ``train`` would of the network: its refusal (a Linear
  whose in_features does not fit) and the Model doctor's warnings (a zero init).
"""

from __future__ import annotations

import pytest

from helpers import make_image_folder, run_cli
from workbench.cli.common import EXIT_FINDINGS
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.causes import MIN_STEPS, model_causes, steps_cause

FLAT = [{"epoch": i + 1, "train_loss": 1.386, "val_loss": 1.386, "train_acc": 0.25,
         "val_acc": 0.25} for i in range(3)]


def _view(causes, history=FLAT):
    return C.RunView(classes=["a", "b", "c", "d"], history=history, chance=0.25, lr=1e-3,
                     default_lr=1e-3, first_loss=1.386, causes=causes)


# -- 3. the batch size: one rule ------------------------------------------------------------
def test_a_batch_larger_than_the_training_set_is_one_step_an_epoch_and_32_the_fix():
    cause = steps_cause(1000, 800)
    assert cause.why == ("the batch size (1000) is larger than the 800 training images, so "
                         "each epoch is a single step (the weights change once an epoch) "
                         "and the network barely learns")
    assert cause.action["set"] == {"data.batch_size": 32}
    assert cause.action["label"] == "Set the batch size to 32"
    assert cause.fix == "set the batch size to 32 (25 steps an epoch; --set data.batch_size=32)"
    assert "as large as the 800" in steps_cause(800, 800).why
    assert "into only 3 batches" in steps_cause(300, 800).why


def test_enough_steps_or_the_usual_batch_size_say_nothing():
    assert MIN_STEPS == 4
    assert steps_cause(200, 800) is None  # 4 steps an epoch
    assert steps_cause(32, 10) is None  # a small dataset, not a large batch
    assert steps_cause(1000, 0) is None and steps_cause(None, 800) is None  # not known


def test_on_a_tiny_set_the_fix_is_a_size_that_gives_steps_enough_but_bn_can_use():
    # tiny2: 48 training images at batch 512; 32 would still be 2 steps an epoch.
    cause = steps_cause(512, 48)
    assert cause.action["set"] == {"data.batch_size": 8} and "(6 steps an epoch" in cause.fix
    assert steps_cause(512, 10).action["set"] == {"data.batch_size": 8}  # never under 8


def test_accumulated_gradients_count_weight_updates_not_batches():
    """training.accumulate: the weights change once every N batches (and at the epoch's
    end), so batch 100 over 4 batches on 800 images is 2 updates an epoch, not 8."""
    assert steps_cause(64, 800, 4) is None  # 13 batches: steps at 4, 8, 12 and 13
    cause = steps_cause(100, 800, 4)
    assert cause.why == ("the batch size (100) cuts the 800 training images into 8 batches, "
                         "and with gradients accumulated over 4 batches (training."
                         "accumulate) the weights change only 2 times an epoch, so the "
                         "network learns slowly")
    assert cause.fix == ("set the batch size to 32 (7 steps an epoch, gradients still "
                         "accumulated over 4 batches; --set data.batch_size=32)")
    assert cause.action["set"] == {"data.batch_size": 32}
    assert "the weights change once an epoch" in steps_cause(64, 800, 13).why


def test_where_no_batch_size_gives_steps_enough_the_accumulation_is_lowered_too():
    cause = steps_cause(64, 800, 64)  # even batch 8 is 100 batches: 2 updates
    assert cause.action["set"] == {"data.batch_size": 32, "training.accumulate": 8}
    assert cause.action["label"] == "Set the batch size to 32 and accumulate over 8 batches"
    assert cause.fix == ("set the batch size to 32 and accumulate gradients over 8 batches, "
                         "not 64 (4 steps an epoch; --set data.batch_size=32 --set "
                         "training.accumulate=8)")
    assert steps_cause(512, 48, 2).action["set"] == {"data.batch_size": 8,
                                                     "training.accumulate": 1}
    exp = Experiment()
    exp.data.batch_size, exp.training.accumulate = 100, 4
    assert [c.code for c in model_causes(exp, 4, train_images=800)] == ["few-steps"]


def test_not_learning_and_underfitting_name_the_batch_size_not_the_labels_or_the_rate():
    cause = steps_cause(512, 48)
    f = C.not_learning(_view([cause]))
    assert "The likely cause: the batch size (512) is larger than the 48 training images" \
        in f.message
    assert "The usual causes" not in f.message and "network itself" not in f.message
    assert f.action["set"] == {"data.batch_size": 8} and "lr-find" not in f.fix
    high = [{"epoch": i + 1, "train_loss": 1.2, "val_loss": 1.2, "train_acc": 0.45,
             "val_acc": 0.45} for i in range(C.UNDERFIT_EPOCHS)]
    u = C.underfitting(_view([cause], high))
    assert "The likely cause: the batch size (512)" in u.message
    assert u.action["set"] == {"data.batch_size": 8}


def test_model_causes_add_the_batch_size_when_the_training_images_are_known():
    exp = Experiment()
    exp.data.batch_size = 1000
    assert [c.code for c in model_causes(exp, 4, train_images=800)] == ["few-steps"]
    assert model_causes(exp, 4) == []  # not known: nothing said


@pytest.fixture
def big_batch(tmp_path, tiny_experiment):
    """tiny_experiment on 3 x 60 images (126 for training) at batch size 200."""
    tiny_experiment.data.folder = make_image_folder(tmp_path / "sixty", per_class=60)
    tiny_experiment.data.batch_size = 200
    path = tmp_path / "big.json"
    tiny_experiment.save(path)
    return path


WARNING = ("warning: The batch size (200) is larger than the 126 training images, so each "
           "epoch is a single step (the weights change once an epoch) and the network barely "
           "learns. Fix: set the batch size to 32 (4 steps an epoch; --set "
           "data.batch_size=32).")


def test_train_warns_of_the_batch_size_before_the_run(capsys, tmp_path, big_batch):
    code, _, err = run_cli(capsys, "train", big_batch, "--epochs", 1,
                           "--out", tmp_path / "run")
    assert code == 0, err
    assert WARNING in err.splitlines()
    code, _, err = run_cli(capsys, "train", big_batch, "--epochs", 1, "--batch-size", 32,
                           "--out", tmp_path / "run32")
    assert code == 0 and "batch size" not in err.lower(), err


def test_a_runs_doctor_knows_the_training_images_so_it_can_name_the_batch_size(
        capsys, tmp_path, big_batch, monkeypatch):
    """The training doctor is given the run's training images, without which it never
    names the batch size as a cause."""
    import workbench.core.train.callbacks.doctor as doctor

    asked = []
    real = doctor.model_causes
    monkeypatch.setattr(doctor, "model_causes",
                        lambda *a, **k: (asked.append(k), real(*a, **k))[1])
    code, _, err = run_cli(capsys, "train", big_batch, "--epochs", 1, "--out", tmp_path / "r")
    assert code == 0, err
    assert asked and asked[0].get("train_images") == 126
    assert any(c.code == "few-steps" for c in real(Experiment.load(big_batch), 3,
                                                      train_images=126))


def test_check_experiment_warns_of_the_batch_size_too(capsys, big_batch):
    code, _, err = run_cli(capsys, "check", "--experiment", big_batch)
    assert code == 0, err
    assert WARNING in err.splitlines()


def test_train_counts_the_accumulation_in_its_warning(capsys, tmp_path, big_batch):
    exp = Experiment.load(big_batch)
    exp.data.batch_size, exp.training.accumulate = 40, 2  # 4 batches: 2 weight updates
    exp.save(big_batch)
    code, _, err = run_cli(capsys, "check", "--experiment", big_batch)
    assert code == 0, err
    assert ("warning: The batch size (40) cuts the 126 training images into 4 batches, and "
            "with gradients accumulated over 2 batches (training.accumulate) the weights "
            "change only 2 times an epoch, so the network learns slowly. Fix: set the batch "
            "size to 16 (4 steps an epoch, gradients still accumulated over 2 batches; "
            "--set data.batch_size=16).") in err.splitlines()


# -- 4. a frozen backbone on random weights ------------------------------------------------
def test_a_frozen_random_backbone_is_the_cause_with_its_fine_tune_fix():
    from workbench.core.model.layers import LAYERS

    if "Backbone" not in LAYERS:
        pytest.skip("no Backbone layer")
    exp = Experiment()
    exp.model.layers = [Component("Backbone", {"arch": "resnet18", "weights": "random",
                                               "mode": "feature_extraction"}),
                        Component("Linear")]
    (cause,) = model_causes(exp, 4)
    assert cause.code == "frozen-random-backbone" and cause.stops
    assert cause.action["set"] == {"model.layers[0].params.mode": "fine_tune"}
    f = C.not_learning(_view([cause]))
    assert "The network itself is the cause: layer 1 (Backbone) is frozen but has no " \
           "pretrained weights" in f.message
    assert "lr-find" not in f.fix and "fine_tune" in f.fix
    assert f.action["set"] == {"model.layers[0].params.mode": "fine_tune"}


# -- 6. the Softmax warning says what is true ----------------------------------------------
def test_the_softmax_warning_gives_the_loss_floor_and_no_stall():
    from workbench.core.model.doctor import starting_warnings
    from workbench.core.model.presets import preset_layers

    exp = Experiment()
    exp.model.layers = preset_layers("seed-cnn") + [Component("Softmax")]
    (line,) = [w for w in starting_warnings(exp, 4) if "Softmax" in w.split(".")[0]]
    assert "stalls" not in line and "poor accuracy" not in line
    assert "can never fall below 0.74 (with 4 classes)" in line
    assert "learns more slowly" in line and "accuracy may still rise" in line


# -- 8. check --experiment checks the network as train does --------------------------------
def test_check_experiment_says_train_refuses_a_linear_that_does_not_fit(capsys, tmp_path,
                                                                         tiny_experiment):
    tiny_experiment.model.layers[1].params["in_features"] = 1000  # the input gives 192
    path = tmp_path / "shape.json"
    tiny_experiment.save(path)
    code, _, train_err = run_cli(capsys, "train", path, "--out", tmp_path / "run")
    refusal = train_err.strip().splitlines()[-1].split("error: ", 1)[1]
    assert code != 0 and "layer 2 (Linear) expects 1000 input features" in refusal
    code, out, err = run_cli(capsys, "check", "--experiment", path)
    assert code == 0, err
    assert f"error: workbench train would refuse the network: {refusal}" in err.splitlines()
    code, _, err = run_cli(capsys, "check", "--experiment", path, "--strict")
    assert code == EXIT_FINDINGS and "training would refuse this network" in err


def test_check_experiment_prints_the_model_doctors_warnings_as_train_does(capsys, tmp_path,
                                                                          tiny_experiment):
    from workbench.cli.run_warnings import run_warnings

    tiny_experiment.init = Component("zeros")
    path = tmp_path / "zero.json"
    tiny_experiment.save(path)
    said = run_warnings(Experiment.load(path))  # what train prints before epoch 1
    assert any("zeros initialisation" in w for w in said)
    code, _, err = run_cli(capsys, "check", "--experiment", path)
    assert code == 0, err
    for w in said:
        assert f"warning: {w}" in err.splitlines()
