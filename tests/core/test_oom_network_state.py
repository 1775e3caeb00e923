"""Out of memory at a run's first step while the network's own state (weights, gradients,
optimizer state) is more than the device can hold: the network is to blame, not the batch,
so no half-batch retry is offered (walk-crash defect 3)."""

from __future__ import annotations

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.runs.recorder import RunRecorder
from workbench.core.runs.store import read_run_info
from workbench.core.train import memory
from workbench.core.train.trainer import Trainer, TrainingOutOfMemory

_CPU_OOM = ("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 4294967296 bytes. Error code 12 (Cannot allocate memory)")


def _hungry(trainer, monkeypatch, when):
    real = trainer.forward_loss

    def forward(x, target):
        if when(trainer):
            raise RuntimeError(_CPU_OOM)
        return real(x, target)

    monkeypatch.setattr(trainer, "forward_loss", forward)


def _room(monkeypatch, limit):
    monkeypatch.setattr(memory, "room", lambda device: (
        limit, "this process's address-space limit (ulimit -v)"), raising=False)


def test_a_network_whose_state_exceeds_the_memory_says_so_and_offers_no_smaller_batch(
        tiny_experiment, tmp_path, monkeypatch):
    # The tiny MLP's state with Adam: (3*8*8*16 + 16*16+... ) parameters x 16 bytes, a few
    # kilobytes: more than a 1 KB limit, as seed-cnn's 16 GB is more than 8 GB.
    _room(monkeypatch, 1024)
    run = tmp_path / "run"
    trainer = Trainer(tiny_experiment, [RunRecorder(run)])
    _hungry(trainer, monkeypatch, lambda t: True)
    with pytest.raises(WorkbenchError) as info:
        trainer.fit()
    text = str(info.value)
    assert not isinstance(info.value, TrainingOutOfMemory)
    assert "network does not fit" in text and "no batch size fits" in text
    assert "Try batch size" not in text
    assert "Adam optimizer's state" in text and "ulimit -v" in text
    # Its biggest layer, by number: Linear(192 -> 16) has 3,088 parameters.
    assert "layer 2 (Linear) alone has 3,088 of its" in text
    assert not (run / "run.json").exists() or read_run_info(run)["status"] != "out_of_memory"


def test_the_batch_is_blamed_when_the_network_state_fits(tiny_experiment, monkeypatch):
    _room(monkeypatch, 64 * 2**30)
    trainer = Trainer(tiny_experiment)
    _hungry(trainer, monkeypatch, lambda t: True)
    with pytest.raises(TrainingOutOfMemory, match="batch size 8.*Try batch size 4"):
        trainer.fit()


def test_the_batch_is_blamed_after_the_first_epoch(tiny_experiment, tmp_path, monkeypatch):
    # The optimizer's state exists by then: a later failure is the batch's (or the data's).
    _room(monkeypatch, 1024)
    trainer = Trainer(tiny_experiment, [RunRecorder(tmp_path / "run")])
    _hungry(trainer, monkeypatch, lambda t: t.epochs_done == 1)
    with pytest.raises(TrainingOutOfMemory, match="Try batch size 4"):
        trainer.fit()


def test_the_network_message_names_its_biggest_layer_when_it_cannot_be_built(
        tiny_experiment, monkeypatch):
    import workbench.core.model.builder as builder

    def too_big(*a, **k):
        raise RuntimeError(_CPU_OOM)

    monkeypatch.setattr(builder, "build_network", too_big)
    with pytest.raises(WorkbenchError, match="network does not fit") as info:
        Trainer(tiny_experiment).fit()
    assert "layer 2 (Linear) alone has 3,088" in str(info.value)
    assert "batch size" not in str(info.value)


def test_room_is_the_lowest_of_ram_and_this_process_limits(monkeypatch):
    import workbench.core.train.device as device

    monkeypatch.setattr(device, "_ram_bytes", lambda: 32 * 2**30)
    monkeypatch.setattr(memory, "_cgroup_limit", lambda: None)
    monkeypatch.setattr(memory, "_address_space_limit", lambda: 8 * 2**30)
    assert memory.room(None) == (8 * 2**30, "this process's address-space limit (ulimit -v)")
    monkeypatch.setattr(memory, "_address_space_limit", lambda: None)
    assert memory.room(None) == (32 * 2**30, "this machine's RAM")
    monkeypatch.setattr(device, "_ram_bytes", lambda: None)
    assert memory.room(None) == (None, "")


def test_room_on_a_gpu_is_its_free_memory_and_what_this_process_holds(monkeypatch):
    import torch

    device = torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda d: (10 * 2**30, 80 * 2**30))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda d: 6 * 2**30)
    assert memory.room(device) == (16 * 2**30, "what the GPU cuda:0 has free")

    def no_driver(d):
        raise RuntimeError("no CUDA driver")

    monkeypatch.setattr(torch.cuda, "mem_get_info", no_driver)
    assert memory.room(device) == (None, "")
