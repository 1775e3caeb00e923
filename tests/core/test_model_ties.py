"""Weight sharing: a tied layer uses its source's Parameter through build, init, training,
saving and loading; a tie that does not fit is explained, never a crash."""

from __future__ import annotations

import json

import pytest
import torch

from workbench.core.bundle import load_bundle, save_bundle
from workbench.core.errors import ShapeError, SpecError
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.builder import build_network, infer_shapes
from workbench.core.model.init import apply_init
from workbench.core.model.ties import apply_ties, check_ties, remap_shares
from workbench.core.train.trainer import Callback, Trainer

INPUT = (3, 8, 8)


def _mlp(share: int | None = 3, **tied_params) -> list[Component]:
    """Layers 3 and 5 are both Linear(64 -> 64); layer 5 shares layer 3 by default."""
    return [Component("Flatten"), Component("Linear", {"out_features": 64}),
            Component("ReLU"), Component("Linear", {"out_features": 64}), Component("ReLU"),
            Component("Linear", {"out_features": 64, **tied_params}, share=share),
            Component("ReLU"), Component("Linear")]


def test_a_tie_is_one_parameter_counted_once():
    untied = infer_shapes(_mlp(share=None), INPUT, 3)
    tied = infer_shapes(_mlp(), INPUT, 3)
    assert tied.ok, tied.error
    shared = 64 * 64 + 64
    assert tied.total_params == untied.total_params - shared
    assert tied.trainable_params == untied.trainable_params - shared
    info = tied.layers[5]
    assert (info.shared_with, info.shared_params, info.num_params) == (3, shared, 0)
    assert tied.layers[3].shared_with is None and tied.layers[3].num_params == shared

    model, _ = build_network(_mlp(), INPUT, 3)
    assert model[5].weight is model[3].weight and model[5].bias is model[3].bias
    assert sum(p.numel() for p in model.parameters()) == tied.total_params
    assert model(torch.randn(2, *INPUT)).shape == (2, 3)


def test_a_shape_mismatch_names_both_layers_and_the_fix():
    layers = _mlp()
    layers[5].share = 1  # layer 2's weight is 64x192 (3*8*8 inputs), layer 6's is 64x64
    summary = infer_shapes(layers, INPUT, 3)
    expected = ("layer 6 (Linear) shares layer 2's weight but its weight is 64x64 where layer "
                "2's is 64x192: make their in/out features equal or remove the tie")
    assert summary.error == expected and summary.layers[5].error == expected
    assert summary.error_index == 5
    assert check_ties(layers, summary) == [expected]
    with pytest.raises(ShapeError) as info:
        build_network(layers, INPUT, 3)
    assert info.value.index == 5 and str(info.value) == expected


def test_bias_presence_must_match():
    summary = infer_shapes(_mlp(bias=False), INPUT, 3)
    assert summary.error_index == 5
    assert "layer 4 has a bias and layer 6 (Linear) has none" in summary.error
    assert "set bias the same on both or remove the tie" in summary.error


def test_conv_ties_and_their_mismatch():
    layers = [Component("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
              Component("ReLU"),
              Component("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
              Component("ReLU"),
              Component("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, share=2),
              Component("Flatten"), Component("Linear")]
    model, summary = build_network(layers, INPUT, 3)
    assert model[4].weight is model[2].weight and summary.layers[4].shared_with == 2
    layers[4].params["kernel_size"] = 5
    summary = infer_shapes(layers, INPUT, 3)
    assert "its weight is 8x8x5x5 where layer 3's is 8x8x3x3" in summary.error
    assert "same in/out channels and kernel size" in summary.error


@pytest.mark.parametrize("share, words", [
    (5, "only with an earlier layer: share 5 names layer 6 (share counts from 0) and it "
        "can share with layer 4, i.e. share 3; pick it or remove the tie"),
    (9, "only with an earlier layer: share 9 names layer 10 (share counts from 0)"),
    (-1, "share -1 names no layer"),
    (0, "cannot share weights with layer 1 (Flatten)"),
    ("3", "give the 0-based index of an earlier layer"),
    (1.5, "give the 0-based index"),
])
def test_invalid_indices_are_reported_not_raised(share, words):
    layers = _mlp(share=share)
    summary = infer_shapes(layers, INPUT, 3)  # must not raise
    assert summary.error_index == 5 and words in summary.error
    assert summary.error.startswith("layer 6 (Linear)")
    assert len(check_ties(layers, summary)) == 1


def test_layers_without_weights_cannot_be_tied_and_odd_inputs_do_not_crash():
    layers = _mlp(share=None)
    layers[4].share = 2  # ReLU shares ReLU: same type, nothing to share
    summary = infer_shapes(layers, INPUT, 3)
    assert summary.error == "layer 5 (ReLU) has no weights to share: remove the tie"
    # a tie after a misfit (unknown shapes) is judged on index and type only
    layers = _mlp(share=9)
    layers[1].params["out_features"] = -4
    summary = infer_shapes(layers, INPUT, 3)
    assert summary.error_index == 1
    assert len(check_ties(layers, summary)) == 1
    # an unknown type as the tie's source
    layers = _mlp()
    layers[3].type = "Nope"
    assert infer_shapes(layers, INPUT, 3).error_index == 3


def test_a_chain_of_ties_ends_on_one_parameter():
    layers = _mlp()
    layers.insert(6, Component("Linear", {"out_features": 64}, share=5))
    model, summary = build_network(layers, INPUT, 3)
    assert model[6].weight is model[5].weight is model[3].weight
    assert sum(p.numel() for p in model.parameters()) == summary.total_params


def test_gradients_of_both_uses_reach_the_shared_weight():
    torch.manual_seed(0)
    tied, _ = build_network(_mlp(), INPUT, 3)
    untied, _ = build_network(_mlp(share=None), INPUT, 3)
    untied.load_state_dict(tied.state_dict())  # same values, two separate Parameters
    x, y = torch.randn(4, *INPUT), torch.tensor([0, 1, 2, 0])
    for model in (tied, untied):
        torch.nn.functional.cross_entropy(model(x), y).backward()
    torch.testing.assert_close(tied[3].weight.grad, untied[3].weight.grad + untied[5].weight.grad)
    # an optimizer sees the shared Parameter once, and one step moves both layers
    opt = torch.optim.SGD(tied.parameters(), lr=0.1)
    assert sum(p is tied[3].weight for g in opt.param_groups for p in g["params"]) == 1
    before = tied[5].weight.detach().clone()
    opt.step()
    assert not torch.equal(tied[5].weight, before) and tied[5].weight is tied[3].weight


def test_init_reaches_a_shared_weight_once_through_its_owner():
    layers = _mlp()
    layers[3].init = {"weight": {"type": "constant", "params": {"val": 0.5}}}
    model, _ = build_network(layers, INPUT, 3)
    # layer 6 takes the global scheme otherwise: it must not overwrite its owner's init
    apply_init(model, Component("kaiming_normal"), torch.Generator().manual_seed(0), layers)
    assert torch.all(model[5].weight == 0.5) and model[5].weight is model[3].weight
    assert torch.all(model[5].bias == 0)
    assert not torch.all(model[1].weight == 0.5)


def test_apply_ties_refuses_a_mismatch():
    model, _ = build_network(_mlp(share=None), INPUT, 3)
    layers = _mlp(share=1)
    with pytest.raises(ShapeError, match="layer 6 .* cannot share layer 2's weights"):
        apply_ties(model, layers)


def test_experiment_validation_names_the_field():
    exp = Experiment()
    exp.model.layers = _mlp(share=7)
    with pytest.raises(SpecError) as info:
        exp.validate()
    assert info.value.field == "model.layers[5].share"
    # The earlier Linears: their in_features are auto, so their shapes are not known yet.
    assert "layer 6 (Linear) can share weights only with an earlier layer: share 7 names layer " \
           "8 (share counts from 0) and it can share with layers 2 and 4, i.e. share 1 or 3; " \
           "pick one of them or remove the tie" in str(info.value)
    exp.model.layers = _mlp(share=2)
    with pytest.raises(SpecError, match="a tie needs two layers of the same type"):
        exp.validate()
    exp.model.layers = _mlp()
    exp.model.layers[5].init = {"weight": "normal"}
    with pytest.raises(SpecError) as info:
        exp.validate()
    assert info.value.field == "model.layers[5].init"
    assert "set init on layer 4 instead" in str(info.value)


def test_json_round_trip_writes_the_new_keys_only_when_set():
    text = Experiment().validate().to_json()
    assert '"share"' not in text
    for layer in json.loads(text)["model"]["layers"]:
        assert set(layer) == {"type", "params"}
    assert Experiment.from_json(text).to_json() == text

    exp = Experiment()
    exp.model.layers = _mlp()
    exp.model.layers[3].init = {"weight": "xavier_normal", "bias": {"type": "constant",
                                                                   "params": {"val": 0.1}}}
    exp.validate()
    data = json.loads(exp.to_json())
    assert data["model"]["layers"][5]["share"] == 3
    assert data["model"]["layers"][3]["init"] == {
        "weight": {"type": "xavier_normal", "params": {"gain": 1.0}},
        "bias": {"type": "constant", "params": {"val": 0.1}}}
    back = Experiment.from_json(exp.to_json())
    assert back == exp and back.model.layers[5].share == 3


@pytest.mark.parametrize("patch, field", [
    ({"share": "first"}, "model.layers[5].share"),
    ({"share": True}, "model.layers[5].share"),
    ({"init": "kaiming_normal"}, "model.layers[5].init"),
    ({"shared": 3}, "model.layers[5].shared"),
])
def test_bad_json_values_are_spec_errors(patch, field):
    data = Experiment().to_dict()
    data["model"]["layers"] = [c.to_dict() for c in _mlp(share=None)]
    data["model"]["layers"][5].update(patch)
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    assert info.value.field == field


def test_only_layers_take_share_or_init():
    data = Experiment().to_dict()
    data["augment"]["transforms"][0]["share"] = 0
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    assert info.value.field == "augment.transforms[0].share"
    exp = Experiment()
    exp.optimizer.share = 1
    with pytest.raises(SpecError, match="only layers"):
        exp.validate()


def test_a_bundle_keeps_the_tie(tmp_path):
    exp = Experiment()
    exp.data.input_size, exp.model.layers = [8, 8], _mlp()
    exp.validate()
    model, _ = build_network(exp.model.layers, INPUT, 3)
    with torch.no_grad():
        model[3].weight.add_(1.0)  # "trained" values, unlike any fresh initialisation
    path = save_bundle(tmp_path / "b.pt", exp, ["a", "b", "c"], model.state_dict())
    loaded = load_bundle(path).build_model()
    assert loaded[5].weight is loaded[3].weight and loaded[5].bias is loaded[3].bias
    torch.testing.assert_close(loaded[3].weight, model[3].weight)
    x = torch.randn(2, *INPUT)
    torch.testing.assert_close(loaded(x), model.eval()(x))


class _Snapshot(Callback):
    def on_fit_start(self, trainer, info):
        self.initial = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def test_training_with_a_tie_updates_both_layers_and_saves_them(tiny_experiment, tmp_path):
    exp = tiny_experiment
    exp.model.layers = _mlp()
    exp.training.epochs = 1
    snap = _Snapshot()
    result = Trainer(exp, [snap]).fit()
    assert result.error is None and not result.stopped
    model = result.model
    assert model[5].weight is model[3].weight
    assert not torch.equal(model[3].weight.detach().cpu(), snap.initial["3.weight"])
    # reloaded from its bundle, the network still ties the two layers
    loaded = load_bundle(result.save_bundle(tmp_path / "tied.pt")).build_model()
    assert loaded[5].weight is loaded[3].weight
    torch.testing.assert_close(loaded[5].weight, model[3].weight.detach().cpu())


def test_remap_shares_follows_moves_and_drops_broken_ties():
    layers = _mlp()
    # delete layer index 2 (the first ReLU): 3 -> 2, 5 -> 4
    moved = {0: 0, 1: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}
    edited = [c for k, c in enumerate(layers) if k != 2]
    assert remap_shares(edited, moved) == [] and edited[4].share == 2
    # delete the source layer: the tie goes
    edited2 = [c for k, c in enumerate(edited) if k != 2]
    assert remap_shares(edited2, {0: 0, 1: 1, 3: 2, 4: 3, 5: 4, 6: 5}) == [3]
    assert edited2[3].share is None


def test_a_recurrent_tie_shares_every_weight_and_runs():
    # nn.LSTM keeps a flat list of its weights for cuDNN: the tie must reach it too.
    from workbench.core.model.recurrent import RowLSTM

    torch.manual_seed(0)
    model = torch.nn.Sequential(RowLSTM(3 * 8, 16), RowLSTM(3 * 8, 16))
    apply_ties(model, [Component("RowLSTM"), Component("RowLSTM", share=0)])
    names = [n for n, _ in model[0].named_parameters()]
    assert len(names) == 4  # weight_ih, weight_hh, bias_ih, bias_hh
    for name in names:
        assert model[1].get_parameter(name) is model[0].get_parameter(name)
    x = torch.randn(2, *INPUT)
    torch.testing.assert_close(model[1](x), model[0](x))
