"""The row-wise recurrent layers: what they read, what they output, how they save, and
that each class stands alone (code export copies its source into the exported file)."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from workbench.core.registry import Component as C
from workbench.core.model import recurrent
from workbench.core.model.builder import build_network
from workbench.core.model.layers import LAYERS

CLASSES = {"RowRNN": nn.RNN, "RowLSTM": nn.LSTM, "RowGRU": nn.GRU}


def _final_state(inner: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run ``inner`` step by step over the rows, by hand, and return its final output."""
    b, c, h, w = x.shape
    rows = torch.stack([x[:, :, t, :].reshape(b, c * w) for t in range(h)], dim=1)
    out, _ = inner(rows)
    hidden = inner.hidden_size
    forward = out[:, -1, :hidden]  # the forward direction after the bottom row
    if not inner.bidirectional:
        return forward
    return torch.cat([forward, out[:, 0, hidden:]], dim=1)  # backward: after the top row


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_reads_rows_top_to_bottom_and_returns_the_final_state(name, bidirectional):
    torch.manual_seed(0)
    module = getattr(recurrent, name)(input_size=3 * 5, hidden_size=4, num_layers=2,
                                      bidirectional=bidirectional)
    assert isinstance(module.rnn, CLASSES[name])
    x = torch.randn(2, 3, 6, 5)
    y = module(x)
    assert y.shape == (2, 4 * (2 if bidirectional else 1))
    torch.testing.assert_close(y, _final_state(module.rnn, x))
    # The order of the rows matters: it is a sequence, not a bag of rows.
    assert not torch.allclose(module(x.flip(2)), y)


def test_state_dict_keys_are_pytorchs_own_under_rnn():
    model, _ = build_network([C("Conv2d", {"out_channels": 2}),
                              C("RowLSTM", {"hidden_size": 4, "bidirectional": True}),
                              C("Linear")], (1, 6, 6), 3)
    keys = [k for k in model.state_dict() if k.startswith("1.")]
    assert keys == ["1.rnn.weight_ih_l0", "1.rnn.weight_hh_l0", "1.rnn.bias_ih_l0",
                    "1.rnn.bias_hh_l0", "1.rnn.weight_ih_l0_reverse",
                    "1.rnn.weight_hh_l0_reverse", "1.rnn.bias_ih_l0_reverse",
                    "1.rnn.bias_hh_l0_reverse"]
    assert model[1].rnn.input_size == 2 * 6  # auto: channels x width


def test_rnn_nonlinearity_is_passed_on():
    model, summary = build_network([C("RowRNN", {"hidden_size": 3, "nonlinearity": "relu"}),
                                    C("Linear")], (1, 4, 4), 2)
    assert model[0].rnn.nonlinearity == "relu"
    assert summary.layers[0].params["nonlinearity"] == "relu"
    assert "nonlinearity" not in LAYERS["RowLSTM"].defaults()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_each_class_runs_from_its_own_source_alone(name):
    # What code export does: paste the class's source under torch imports only.
    namespace: dict = {}
    exec("import torch\nfrom torch import nn\n" + inspect.getsource(getattr(recurrent, name)),
         namespace)
    copy = namespace[name](input_size=4, hidden_size=3)
    original = getattr(recurrent, name)(input_size=4, hidden_size=3)
    copy.load_state_dict(original.state_dict())
    x = torch.randn(2, 1, 5, 4)
    torch.testing.assert_close(copy(x), original(x))


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_registry_entries_point_at_the_classes(name):
    entry = LAYERS[name]
    assert entry.builder is getattr(recurrent, name)
    assert entry.meta["torch"] == f"workbench.core.model.recurrent.{name}"
    assert entry.group == "recurrent"
    assert entry.meta["input"] == "image"
    assert entry.meta["auto"] == {"input_size": "row"}
