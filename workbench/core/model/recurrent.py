"""Recurrent layers that read an image row by row.

A (batch, channels, height, width) image becomes a sequence of ``height`` steps, each step
one row of ``channels * width`` features, top to bottom. The layer returns one flat vector
per image (the final hidden state), so a Linear layer can follow it directly:

* ``RowRNN``, ``RowLSTM``, ``RowGRU`` wrap ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.
* The inner module is the attribute ``rnn``, so state_dict keys are PyTorch's own under
  ``rnn.``: ``"3.rnn.weight_ih_l0"``, ``"3.rnn.bias_hh_l0_reverse"``...

Code export copies these classes' source into the exported file, so each class stands
alone: it imports nothing but torch and shares no helper with the others (the small repeat
of ``forward`` is the price of that).

Output: the final hidden state of the last layer. One-way, that is the output of the last
step (the bottom row, having seen every row above it). Bidirectional, the backward direction
is concatenated too, taken at its own final step (the top row) where it has also seen every
row; the backward output *at* the bottom row would have seen only that one row.
"""

from __future__ import annotations

import torch
from torch import nn


class RowRNN(nn.Module):
    """Simple (Elman) recurrent network over the rows of an image.

    Parameters
    ----------
    input_size
        Features of one row: channels * width of the incoming image.
    hidden_size
        Size of the hidden state (and of each direction's output).
    num_layers
        Stacked recurrent layers.
    bidirectional
        Also read the rows bottom to top; doubles the output size.
    nonlinearity
        ``"tanh"`` or ``"relu"``.
    """

    def __init__(self, input_size: int, hidden_size: int = 128, num_layers: int = 1,
                 bidirectional: bool = False, nonlinearity: str = "tanh"):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers, nonlinearity=nonlinearity,
                          batch_first=True, bidirectional=bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        rows = x.permute(0, 2, 1, 3).reshape(b, h, c * w)  # step t = row t, all channels
        _, h_n = self.rnn(rows)
        directions = 2 if self.rnn.bidirectional else 1
        return torch.cat(list(h_n[-directions:]), dim=1)


class RowLSTM(nn.Module):
    """Long short-term memory network over the rows of an image.

    Parameters
    ----------
    input_size
        Features of one row: channels * width of the incoming image.
    hidden_size
        Size of the hidden state (and of each direction's output).
    num_layers
        Stacked LSTM layers.
    bidirectional
        Also read the rows bottom to top; doubles the output size.
    """

    def __init__(self, input_size: int, hidden_size: int = 128, num_layers: int = 1,
                 bidirectional: bool = False):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                           bidirectional=bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        rows = x.permute(0, 2, 1, 3).reshape(b, h, c * w)  # step t = row t, all channels
        _, (h_n, _) = self.rnn(rows)
        directions = 2 if self.rnn.bidirectional else 1
        return torch.cat(list(h_n[-directions:]), dim=1)


class RowGRU(nn.Module):
    """Gated recurrent unit network over the rows of an image.

    Parameters
    ----------
    input_size
        Features of one row: channels * width of the incoming image.
    hidden_size
        Size of the hidden state (and of each direction's output).
    num_layers
        Stacked GRU layers.
    bidirectional
        Also read the rows bottom to top; doubles the output size.
    """

    def __init__(self, input_size: int, hidden_size: int = 128, num_layers: int = 1,
                 bidirectional: bool = False):
        super().__init__()
        self.rnn = nn.GRU(input_size, hidden_size, num_layers, batch_first=True,
                          bidirectional=bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        rows = x.permute(0, 2, 1, 3).reshape(b, h, c * w)  # step t = row t, all channels
        _, h_n = self.rnn(rows)
        directions = 2 if self.rnn.bidirectional else 1
        return torch.cat(list(h_n[-directions:]), dim=1)


__all__ = ["RowRNN", "RowLSTM", "RowGRU"]
