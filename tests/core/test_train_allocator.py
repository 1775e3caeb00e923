"""The host allocator settings the Trainer applies (glibc's mallopt on Linux)."""

from __future__ import annotations

import platform
import sys

import pytest

from workbench.core.train import allocator


class FakeLibc:
    """Stands in for ctypes.CDLL("libc.so.6"): records mallopt calls."""

    def __init__(self, result=1):
        self.calls = []
        self.result = result
        libc = self

        class Mallopt:  # a ctypes function accepts argtypes/restype attributes
            def __call__(self, param, value):
                libc.calls.append((param, value))
                return libc.result

        self.mallopt = Mallopt()


@pytest.fixture
def fake_libc(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator.sys, "platform", "linux")
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv(allocator.ENV, raising=False)
    return libc


def test_large_blocks_stay_in_the_heap_once_per_process(fake_libc):
    assert allocator.tune_host_allocator() is True
    assert allocator.tune_host_allocator() is True
    assert fake_libc.calls == [(allocator.M_MMAP_THRESHOLD, 32 << 20),
                               (allocator.M_TRIM_THRESHOLD, 256 << 20)]


def test_the_environment_can_keep_the_defaults(fake_libc, monkeypatch):
    monkeypatch.setenv(allocator.ENV, "0")
    assert allocator.tune_host_allocator() is False
    assert fake_libc.calls == []


def test_a_refused_setting_is_reported(fake_libc):
    fake_libc.result = 0
    assert allocator.tune_host_allocator() is False


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator.sys, "platform", "linux")

    def no_glibc(name):
        raise OSError("libc.so.6: cannot open shared object file")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_glibc)
    assert allocator.tune_host_allocator() is False


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc only")
def test_glibc_accepts_the_settings(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.delenv(allocator.ENV, raising=False)
    assert allocator.tune_host_allocator() is True


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="glibc only")
def test_memory_freed_after_a_run_goes_back_to_the_system():
    # In a fresh process: 200 MB allocated and freed by a worker thread (as a training
    # thread does) stays with the tuned heap until release_free_memory gives it back.
    import subprocess
    import textwrap

    code = textwrap.dedent("""
        import threading
        from workbench.core.train import allocator

        def rss_mb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096 / 2**20

        assert allocator.tune_host_allocator()
        kept_alive = []
        def work():
            blocks = [bytearray(64 << 10) for _ in range(3200)]  # 200 MB, touched
            kept_alive.extend(blocks[::32])  # what outlives a run pins the heap...
            del blocks  # ...so the free memory between stays mapped
        t = threading.Thread(target=work)
        t.start()
        t.join()
        kept = rss_mb()
        assert allocator.release_free_memory()
        print(kept, rss_mb())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    kept, released = float(out[0]), float(out[1])
    assert kept - released > 150, (kept, released)


def test_release_is_a_no_op_without_glibc(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.release_free_memory() is False
