"""Names a user can tell apart, a network labelled "custom" once edited, the plan Continue
follows (the run's own settings, N more meaning N more), and the batch-size memory hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from workbench.core.experiment import Experiment, ModelConfig
from workbench.core.registry import Component
from workbench.core.model.presets import CUSTOM, network_label, preset_layers
from workbench.core.runs.names import dataset_label, free_run_name, suggest_run_name


def seed_cnn(folder: str) -> Experiment:
    exp = Experiment(name="experiment")
    exp.data.folder = folder
    exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    return exp


def test_run_names_say_dataset_and_network_and_count_up(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    exp = seed_cnn(str(tmp_path / "digits"))
    assert suggest_run_name(exp, root) == "digits-seed-cnn-1"
    (root / "2026-12-01_10-00-00-digits-seed-cnn-1").mkdir()
    (root / "2026-12-01_11-00-00-digits-seed-cnn-2").mkdir()
    (root / "2026-12-01_11-00-00-digits-seed-cnn-2-2").mkdir()  # same second: "-2" added
    (root / "2026-12-01_12-00-00-other-seed-cnn-9").mkdir()
    assert suggest_run_name(exp, root) == "digits-seed-cnn-3"
    exp.model.layers.append(Component("ReLU"))  # edited away from the preset
    assert suggest_run_name(exp, root) == "digits-custom-1"


def test_a_typed_name_another_run_has_gets_the_first_free_number(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    assert free_run_name("Flowers", root) == "Flowers"
    (root / "2026-12-01_10-00-00-flowers").mkdir()
    (root / "2026-12-01_10-00-00-flowers" / "run.json").write_text("{}")
    renamed = root / "2026-12-01_11-00-00-digits-seed-cnn-1"
    renamed.mkdir()
    (renamed / "run.json").write_text(json.dumps({"name": "Flowers-2"}))  # renamed on Runs
    assert free_run_name("Flowers", root) == "Flowers-3"  # case aside, run.json's name
    (renamed / "run.json").write_text(json.dumps({"name": "tulips"}))  # renamed again
    assert free_run_name("Flowers", root) == "Flowers-2"


def test_dataset_labels(tmp_path):
    assert dataset_label(str(tmp_path / "flowers")) == "flowers"
    assert dataset_label(str(tmp_path / "pets" / "train")) == "pets"  # generic: the parent
    assert dataset_label(str(tmp_path / "labels.csv")) == "labels"
    assert dataset_label("") == "demo"
    assert dataset_label(str(tmp_path / "my photos!")) == "my-photos"


def test_a_network_edited_away_from_its_preset_is_custom():
    layers = preset_layers("seed-cnn")
    assert network_label("seed-cnn", layers) == "seed-cnn"
    # Validation fills in defaults the preset does not set: still the preset.
    filled = Experiment(model=ModelConfig(layers=preset_layers("seed-cnn"))).validate()
    assert "dilation" in filled.model.layers[0].params
    assert network_label("seed-cnn", filled.model.layers) == "seed-cnn"
    wider = preset_layers("seed-cnn")
    wider[0].params["out_channels"] = 48
    assert network_label("seed-cnn", wider) == CUSTOM
    assert network_label("seed-cnn", layers[:-1]) == CUSTOM
    assert network_label(None, layers) == CUSTOM
    assert network_label("seed-cnn", [c.to_dict() for c in layers]) == "seed-cnn"  # as JSON


def test_runs_table_and_code_export_call_an_edited_network_custom(tmp_path):
    from workbench.core.model.codegen import network_code
    from workbench.core.runs.record import read_record

    exp = seed_cnn("")
    exp.model.layers[3].params["out_channels"] = 16
    exp = exp.copy().validate()
    run = tmp_path / "run"
    run.mkdir()
    exp.save(run / "experiment.json")
    (run / "metrics.json").write_text(json.dumps({"epochs": []}))
    assert read_record(run).preset == CUSTOM
    code = network_code(exp, num_classes=4)
    assert "a custom network" in code and 'preset "seed-cnn"' not in code
    exp.model.layers = preset_layers("seed-cnn")
    assert 'preset "seed-cnn"' in network_code(exp.copy().validate(), num_classes=4)


# -- Continue ----------------------------------------------------------------------------
def save_checkpoint_head(run: Path, exp: Experiment, epoch: int) -> None:
    """What the plan reads of a checkpoint: its experiment, classes and epoch."""
    torch.save({"kind": "workbench-checkpoint", "format_version": 1,
                "experiment": exp.to_dict(), "classes": ["a", "b"], "epoch": epoch},
               run / "checkpoints" / "last.pt")


@pytest.fixture
def stopped_run(tmp_path) -> Path:
    """A run folder as a run stopped after 3 of 10 epochs leaves it (no training needed)."""
    from workbench.core.runs.store import write_run_info

    exp = seed_cnn("")
    exp.optimizer = Component("Adam", {"lr": 0.000674})
    exp.scheduler = Component("CosineAnnealingLR", {})
    exp.training.epochs = 10
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    exp.validate().save(run / "experiment.json")
    save_checkpoint_head(run, exp, 3)
    epochs = [{"epoch": i, "val_acc": 0.5, "lr": 0.000674 * (1 - i / 20)} for i in (1, 2, 3)]
    (run / "metrics.json").write_text(json.dumps({"epochs": epochs}))
    write_run_info(run, {"name": "digits-seed-cnn-3", "status": "stopped", "epochs_done": 3,
                         "epochs_planned": 10})
    return run


def test_continue_plan_shows_the_runs_own_settings(stopped_run):
    from workbench.core.runs.plan import continue_plan

    plan = continue_plan(stopped_run)
    assert (plan.name, plan.status, plan.done, plan.planned) == ("digits-seed-cnn-3",
                                                                 "stopped", 3, 10)
    assert (plan.optimizer, plan.lr, plan.scheduler) == ("Adam", 0.000674, "CosineAnnealingLR")
    text = plan.settings_text()
    assert "Adam" in text and "0.000674" in text and "CosineAnnealingLR schedule over 10 epochs" in text
    assert "at epoch 3" in text  # the rate the schedule had reached
    # A stopped run is offered to finish its plan first.
    assert plan.mode == "finish" and plan.target == 10
    exp = plan.experiment()
    assert exp.training.epochs == 10 and exp.optimizer.params["lr"] == 0.000674


def test_n_more_means_n_more_even_on_an_unfinished_run(stopped_run):
    from workbench.core.runs.plan import continue_plan

    plan = continue_plan(stopped_run).choose("more", 5)
    assert plan.target == 8  # 3 done + 5, not the 10 planned
    assert plan.experiment().training.epochs == 8
    assert "epochs 4–8" in plan.summary()


def test_a_new_learning_rate_only_when_chosen(stopped_run):
    from workbench.core.runs.plan import continue_plan

    plan = continue_plan(stopped_run)
    assert not plan.lr_changed and "→" not in plan.summary()
    plan.choose("finish", lr=0.0001)
    assert plan.lr_changed and plan.experiment().optimizer.params["lr"] == 0.0001
    assert "0.000674 → 0.0001" in plan.summary()


def test_a_finished_run_can_only_go_further(stopped_run):
    from workbench.core.runs.plan import continue_plan
    from workbench.core.runs.store import update_run_info

    update_run_info(stopped_run, status="finished", epochs_done=10)
    save_checkpoint_head(stopped_run, Experiment.load(stopped_run / "experiment.json"), 10)
    plan = continue_plan(stopped_run)
    assert not plan.can_finish and plan.mode == "more" and plan.target == 15
    assert plan.choose("finish").mode == "more"  # nothing left to finish


def test_continue_needs_a_checkpoint(stopped_run):
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.plan import continue_plan

    (stopped_run / "checkpoints" / "last.pt").unlink()
    with pytest.raises(WorkbenchError, match="no checkpoint to continue from"):
        continue_plan(stopped_run)


# -- memory ------------------------------------------------------------------------------
def test_memory_estimate_grows_with_the_batch_and_the_optimizer_state():
    from workbench.core.model.builder import infer_shapes
    from workbench.core.train.memory import estimate

    summary = infer_shapes(preset_layers("seed-cnn"), (3, 32, 32), 10)
    adam, sgd = estimate(summary, "Adam"), estimate(summary, "SGD", momentum=0.0)
    params = summary.total_params
    assert adam.fixed == 4 * params * 4  # weights, gradients and Adam's two moments
    assert sgd.fixed == 4 * params * 2
    # Per image: at least the input and every layer's output, as float32.
    outputs = sum(int(__import__("math").prod(i.output_shape)) for i in summary.layers)
    assert adam.per_image >= 4 * (3 * 32 * 32 + outputs)
    assert adam.total(64) - adam.total(32) == pytest.approx(32 * adam.per_image)
    budget = adam.total(100)
    assert adam.largest_batch(budget) == 100
    assert adam.largest_batch(adam.fixed / 2) == 0
