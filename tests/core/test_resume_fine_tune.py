"""The second stage of transfer learning: a head trained on a frozen backbone, continued
with the backbone unfrozen (mode fine_tune), from the trained head. The tester's
`workbench resume RUN --set 'model.layers[0].params.mode=fine_tune'` was refused ("the
network or input size differs"), and the app's Continue… said the Model tab's Backbone
change would not be used."""

from __future__ import annotations

import json

import pytest
import torch

from helpers import frozen_backbone, run_cli, stop_after
from workbench.core.registry import Component as C
from workbench.core.train.checkpoint import load_checkpoint
from workbench.core.train.trainer import Callback, Trainer

HEAD = "network"
BACKBONE = "layer 1 (Backbone)"


class AtStart(Callback):
    """The run as it starts: its weights, its optimizer's groups and state, its info."""

    def on_fit_start(self, trainer, info):
        self.info = info
        self.weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        opt = trainer.optimizer
        self.groups = [(g["name"], float(g["lr"])) for g in opt.param_groups]
        self.state = {name: {k: v.clone() for k, v in opt.state[p].items()}
                      for name, p in trainer.model.named_parameters() if p in opt.state}
        self.features = trainer.features


@pytest.fixture
def frozen_run(tiny_experiment, tmp_path, monkeypatch, capsys):
    """`workbench train` of a frozen resnet18 (random weights: nothing to download) and a
    Linear head, 2 epochs; returns ``(run folder, its experiment)``."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    exp = frozen_backbone(tiny_experiment)
    exp.save(tmp_path / "exp.json")
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", run)
    assert code == 0, err
    return run, exp


def _fine_tune(exp, **params):
    exp = exp.copy()
    exp.model.layers[0].params.update({"mode": "fine_tune", **params})
    return exp


def _split(weights):
    backbone = {k: v for k, v in weights.items() if k.startswith("0.")}
    return backbone, {k: v for k, v in weights.items() if not k.startswith("0.")}


def test_resume_fine_tunes_the_backbone_from_the_trained_head(frozen_run, capsys):
    run, _ = frozen_run
    before = load_checkpoint(run / "checkpoints" / "last.pt")
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1,
                             "--set", "model.layers[0].params.mode=fine_tune")
    assert code == 0, err
    assert "network or input size differs" not in err
    after = load_checkpoint(run / "checkpoints" / "last.pt")
    assert after.epoch == 3
    assert after.experiment.model.layers[0].params["mode"] == "fine_tune"
    moved = [k for k, v in _split(before.model)[0].items()
             if v.is_floating_point() and not torch.equal(v, after.model[k])]
    assert any(k.endswith("conv1.weight") for k in moved)  # the backbone trained
    # Its optimizer state: the backbone's group, at lr × 0.1, beside the head's.
    groups = {g["name"]: g for g in after.optimizer["param_groups"]}
    assert set(groups) == {HEAD, BACKBONE}
    assert groups[BACKBONE]["set_lr"] == pytest.approx(groups[HEAD]["set_lr"] * 0.1)
    info = json.loads((run / "run.json").read_text())
    said = [n for n in info["start_notes"] if "is now trained too (mode fine_tune)" in n]
    assert said and "lr × 0.1" in said[0] and "optimizer state starts fresh" in said[0]
    assert said[0] in out + err  # the CLI said it as the run started
    assert info["feature_mode"] == ""  # its features no longer cached


def test_the_continued_run_starts_from_the_checkpoint_and_keeps_the_heads_state(frozen_run):
    run, exp = frozen_run
    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    # As saved (the restored optimizer trains the checkpoint's own tensors on).
    saved = {i: {k: v.clone() for k, v in state.items()}
             for i, state in ckpt.optimizer["state"].items()}
    weights = {k: v.clone() for k, v in ckpt.model.items()}
    start = AtStart()
    ft = _fine_tune(exp)
    ft.training.epochs = ckpt.epoch + 1
    result = Trainer(ft, [start], checkpoint=ckpt).fit()
    assert result.error is None and len(result.history) == 3
    # The weights it starts from are the checkpoint's: the trained head, not a random one.
    for k, v in weights.items():
        assert torch.equal(start.weights[k], v), k
    assert start.features is None  # the backbone trains: no feature cache
    assert start.info["features"] == "" and start.info["feature_mode"] == ""
    lr = float(exp.optimizer.params["lr"])
    assert start.groups == [(HEAD, pytest.approx(lr)), (BACKBONE, pytest.approx(lr * 0.1))]
    # The head's Adam moments are the checkpoint's; the backbone's start fresh.
    head = [n for n, _ in result.model.named_parameters() if not n.startswith("0.")]
    assert sorted(start.state) == sorted(head)
    for i, name in enumerate(head):  # the frozen run's only group: the head, in order
        assert torch.equal(start.state[name]["exp_avg"], saved[i]["exp_avg"]), name
    backbone_end, _ = _split(result.model.state_dict())
    assert any(not torch.equal(v, weights[k]) for k, v in backbone_end.items()
               if k.endswith(".weight"))


@pytest.mark.parametrize("schedule", [C("CosineAnnealingLR", {"warmup_epochs": 1}),
                                      C("OneCycleLR"), C("ReduceLROnPlateau")])
def test_the_backbones_new_group_follows_the_schedule_at_its_scale(frozen_run, schedule,
                                                                  tmp_path):
    from workbench.core.train.run import run_training

    _, exp = frozen_run
    exp = exp.copy()
    exp.scheduler, exp.training.epochs = schedule, 3
    exp.optimizer = C("Adam", {"lr": 1e-4})  # OneCycleLR's peak of 0.1 wrecks resnet18 here
    outcome = run_training(exp, tmp_path / "sched", [stop_after(1)], name="sched")
    assert outcome.epochs_done == 1
    ckpt = load_checkpoint(tmp_path / "sched" / "checkpoints" / "last.pt")
    start = AtStart()
    trainer = Trainer(_fine_tune(ckpt.experiment, backbone_lr_scale=0.25), [start],
                      checkpoint=ckpt)
    result = trainer.fit()
    assert result.error is None and len(result.history) == 3
    (_, lr), (_, backbone_lr) = start.groups
    assert backbone_lr == pytest.approx(lr * 0.25)  # where the schedule had brought it
    lrs = trainer.schedule.lrs()
    assert lrs[1] == pytest.approx(lrs[0] * 0.25)  # and on, two epochs of it later
    # What the schedule keeps per group has the backbone's too (ReduceLROnPlateau's floor).
    outer = trainer.schedule.scheduler
    for scheduler in [outer, *getattr(outer, "_schedulers", [])]:
        for name in ("base_lrs", "_last_lr", "min_lrs"):
            if hasattr(scheduler, name):
                assert len(getattr(scheduler, name)) == 2, (scheduler, name)


def test_back_to_frozen_and_another_scale_are_accepted_and_said(frozen_run, capsys):
    run, _ = frozen_run
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1,
                           "--set", "model.layers[0].params.mode=fine_tune")
    assert code == 0, err
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1,
                           "--set", "model.layers[0].params.backbone_lr_scale=0.5")
    assert code == 0, err
    assert "now trains at lr × 0.5 (backbone_lr_scale; it was × 0.1)" in out + err
    assert "learning rate changed" not in out + err  # the optimizer's own rate did not
    frozen = load_checkpoint(run / "checkpoints" / "last.pt")
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1,
                           "--set", "model.layers[0].params.mode=feature_extraction")
    assert code == 0, err
    assert "is frozen now (mode feature_extraction)" in out + err
    assert "Backbone features cached" in out + err  # frozen again: its features are cached
    after = load_checkpoint(run / "checkpoints" / "last.pt")
    backbone, _ = _split(frozen.model)
    assert all(torch.equal(v, after.model[k]) for k, v in backbone.items()
               if "running" not in k and "num_batches" not in k)
    assert [g["name"] for g in after.optimizer["param_groups"]] == [HEAD]


def test_another_layer_change_is_still_refused(frozen_run, capsys):
    run, _ = frozen_run
    for change in ("model.layers[1].params.p=0.5", "model.layers[0].params.arch=resnet50"):
        code, _, err = run_cli(capsys, "resume", run, "--epochs", 1, "--set", change)
        assert code == 2, change
        assert "the network or input size differs from the checkpoint's" in err
        assert "only a Backbone's mode and backbone_lr_scale may change" in err


def test_continue_takes_the_model_tabs_backbone_mode(frozen_run):
    from workbench.core.runs.plan import continue_plan

    run, exp = frozen_run
    now = _fine_tune(exp)
    plan = continue_plan(run, current=now)
    [note] = plan.notes
    assert note.startswith("the Model tab's Backbone mode fine_tune (the run's "
                           "feature_extraction) is used: the Backbone (layer 1) is now "
                           "trained too (mode fine_tune), at lr × 0.1")
    assert plan.experiment().model.layers[0].params["mode"] == "fine_tune"
    # Another change of the network beside it is still not used, and said so.
    now.model.layers[1].params["p"] = 0.5
    plan = continue_plan(run, current=now)
    assert plan.experiment().model.layers[0].params["mode"] == "fine_tune"
    assert plan.experiment().model.layers[1].params["p"] == 0.2
    assert "Model tab: the network (Dropout changed)" in plan.notes[-1]
