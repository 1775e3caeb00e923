"""The device list a device chooser shows: the CPU first, every CUDA GPU by name and memory,
MPS when present, and no failure on a machine without a GPU."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from workbench.core.train import device as device_mod
from workbench.core.train.device import DeviceInfo, list_devices, resolve_device


def _no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)


def _fake_cuda(monkeypatch, gpus):
    """Pretend this machine has ``gpus``: (name, total_memory) pairs, or an exception to
    raise when that GPU's properties are read."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(gpus))

    def props(i):
        if isinstance(gpus[i], Exception):
            raise gpus[i]
        name, memory = gpus[i]
        return SimpleNamespace(name=name, total_memory=memory)

    monkeypatch.setattr(torch.cuda, "get_device_properties", props)


def test_cpu_alone_on_a_machine_without_gpu(monkeypatch):
    _no_gpu(monkeypatch)
    devices = list_devices()
    assert [d.name for d in devices] == ["cpu"]
    cpu = devices[0]
    assert cpu.kind == "cpu"
    assert cpu.label.startswith("CPU (")
    assert "core" in cpu.label
    if cpu.memory_bytes is not None:  # Linux, macOS: RAM is read and shown
        assert cpu.memory_bytes > 2**20
        assert f"{cpu.memory_bytes / 2**30:.1f} GB RAM" in cpu.label
    resolve_device(cpu.name)  # every listed name is one the trainer accepts


def test_ram_from_proc_meminfo(monkeypatch, tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32768000 kB\nMemFree:         1000 kB\n")
    real_open = open
    monkeypatch.setattr(device_mod, "open", lambda path, *a, **k: real_open(
        meminfo if path == "/proc/meminfo" else path, *a, **k), raising=False)
    monkeypatch.setattr(device_mod.os, "cpu_count", lambda: 16)
    _no_gpu(monkeypatch)
    cpu = list_devices()[0]
    assert cpu.memory_bytes == 32768000 * 1024
    assert cpu.label == "CPU (16 cores, 31.2 GB RAM)"


def test_ram_unknown_is_none_not_an_error(monkeypatch):
    def no_file(*a, **k):
        raise OSError("no /proc here")

    monkeypatch.setattr(device_mod, "open", no_file, raising=False)
    monkeypatch.delattr(device_mod.os, "sysconf", raising=False)  # as on Windows
    monkeypatch.setattr(device_mod.os, "cpu_count", lambda: 1)
    _no_gpu(monkeypatch)
    cpu = list_devices()[0]
    assert cpu.memory_bytes is None
    assert cpu.label == "CPU (1 core)"


def test_each_cuda_gpu_is_listed_after_the_cpu(monkeypatch):
    _fake_cuda(monkeypatch, [("NVIDIA H200", int(139.8 * 2**30)),
                             ("NVIDIA GeForce RTX 4090", 24 * 2**30)])
    devices = list_devices()
    assert [d.name for d in devices][:3] == ["cpu", "cuda:0", "cuda:1"]
    assert devices[1] == DeviceInfo("cuda:0", "cuda:0 — NVIDIA H200 (139.8 GB)", "cuda",
                                    int(139.8 * 2**30))
    assert devices[2].label == "cuda:1 — NVIDIA GeForce RTX 4090 (24.0 GB)"
    assert devices[2].memory_bytes == 24 * 2**30


def test_a_gpu_that_cannot_be_queried_is_still_listed(monkeypatch):
    _fake_cuda(monkeypatch, [RuntimeError("CUDA error: unknown error"), ("Tesla T4", 2**34)])
    devices = list_devices()
    assert [d.name for d in devices][:3] == ["cpu", "cuda:0", "cuda:1"]
    assert "cannot be queried" in devices[1].label and devices[1].memory_bytes is None
    assert devices[2].label == "cuda:1 — Tesla T4 (16.0 GB)"


@pytest.mark.skipif(getattr(torch.backends, "mps", None) is None,
                    reason="this torch build has no MPS module")
def test_mps_is_listed_last_when_available(monkeypatch):
    _fake_cuda(monkeypatch, [])
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    devices = list_devices()
    assert [d.name for d in devices] == ["cpu", "mps"]
    assert devices[-1].label == "Apple GPU (MPS)" and devices[-1].kind == "mps"
