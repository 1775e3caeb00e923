"""The Train tab's ETA comes from the epochs' own wall time: validation, the checkpoint and
run.json included, pauses not, and kept across Pause and Resume (walk-longrun defect 1).

Measured before: with 10 batches of 0.03 s and 0.12 s of epoch-end work an epoch, at epoch
60 of 170 the status said "ETA 36 s" for 46 s of work (the epoch end averaged in as one
slow chunk's rate among many fast ones); straight after a Resume on a loaded machine
"ETA 6 min 37 s" for about 23 min (one batch's rate, the epoch ends left out).

The bridge is fed the trainer's hooks on a fake clock and its chunks go to the Train panel
as the worker's signals would.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

EPOCHS, BATCHES = 170, 10


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def run(monkeypatch, train_panel):
    """``(hooks, clock, panel, shown)``: the bridge on a fake clock, whose news reaches the
    Train panel; ``shown`` gets ``(epoch, batch, status line)`` for each chunk."""
    from workbench.qt.workers import bridge

    clock = Clock()
    monkeypatch.setattr(bridge, "time", clock)
    panel = train_panel()
    panel.info = {"epochs": EPOCHS, "batch_size": 32}
    shown = []

    def send(news):
        name, args = news
        if name == "batches_finished":
            panel._on_batches_finished(*args)
            if args[0]["steps"]:
                shown.append((args[0]["epoch"], args[0]["batch"], panel.status.text()))
        elif name in ("paused", "resumed"):
            getattr(panel, f"_on_{name}")(*args)

    worker = SimpleNamespace(state=SimpleNamespace(send=send), emit_interval=0.05)
    hooks = bridge._BridgeHooks(worker)
    hooks.trainer = SimpleNamespace(device=None, tracker=None)
    return hooks, clock, panel, shown


def train(hooks, clock, epochs, batch_s, end_s, pause=None):
    """Train ``epochs`` of 10 batches of ``batch_s`` seconds each, with ``end_s`` of
    validation and checkpoint at each epoch's end; ``pause``: ``(epoch, batch, seconds)``,
    paused before that batch."""
    for epoch in epochs:
        hooks.on_epoch_start(hooks.trainer, epoch)
        for batch in range(1, BATCHES + 1):
            if pause and pause[:2] == (epoch, batch):
                hooks.on_paused(hooks.trainer, epoch, batch)
                clock.now += pause[2]
                hooks.on_resumed(hooks.trainer)
            clock.now += batch_s
            hooks.on_batch_end(hooks.trainer, epoch, batch, BATCHES, 0.1)
        clock.now += end_s / 2  # validation
        hooks.on_epoch_end(hooks.trainer, epoch, {"epoch": epoch})
        clock.now += end_s / 2  # the checkpoint and run.json, written after it


def eta(text: str) -> float:
    minutes, seconds = re.search(r"ETA (?:(\d+) min )?(\d+) s", text).groups()
    return 60 * int(minutes or 0) + int(seconds)


def truth(epoch: int, batch: int, batch_s: float, end_s: float) -> float:
    return (BATCHES - batch) * batch_s + end_s + (EPOCHS - epoch) * (BATCHES * batch_s + end_s)


def test_the_eta_counts_the_epoch_ends_in_steady_running(run):
    hooks, clock, panel, shown = run
    train(hooks, clock, range(41, 61), 0.03, 0.12)  # a continued run: from epoch 41
    later = [(e, b, text) for e, b, text in shown if e > 41]  # once an epoch was timed
    assert later
    for epoch, batch, text in later:
        assert eta(text) == pytest.approx(truth(epoch, batch, 0.03, 0.12), rel=0.1), text
    epoch, batch, text = shown[-1]
    assert text.startswith("Epoch 60/170 · batch 10/10 ·") and " · ETA 46 s" in text


def test_after_resume_the_eta_still_counts_whole_epochs_and_not_the_pause(run):
    # A loaded machine: 10 batches of 0.3 s, and 8 s of validation and checkpoint.
    hooks, clock, panel, shown = run
    train(hooks, clock, range(30, 35), 0.3, 8.0, pause=(34, 4, 600.0))
    after = [(e, b, text) for e, b, text in shown if (e, b) >= (34, 4)]
    epoch, batch, text = after[0]  # the first line after Resume
    assert panel.pause_button.text() == "Pause"
    # 136 epochs of 11 s left: about 25 min, not 136 times 10 batches (7 min).
    assert eta(text) == pytest.approx(truth(epoch, batch, 0.3, 8.0), rel=0.1), text
    assert "ETA 25 min" in text
