"""Core tests run headless; with WORKBENCH_BLOCK_QT=1 (as scripts/test does) Qt cannot be
imported at all, which proves workbench.core never needs it."""

from __future__ import annotations

import importlib.abc
import os
import sys

import pytest

from helpers import make_image_folder

_BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "pytestqt", "workbench.qt")


class _BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in _BLOCKED):
            # ModuleNotFoundError, as if Qt were not installed at all.
            raise ModuleNotFoundError(f"{name} is blocked in core tests: workbench.core must "
                                      f"not import Qt", name=name)
        return None


if os.environ.get("WORKBENCH_BLOCK_QT"):
    sys.meta_path.insert(0, _BlockQt())


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own WORKBENCH_HOME (demo data, runs) unless it sets one."""
    home = tmp_path_factory.mktemp("wbhome")
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture
def tiny_folder(tmp_path):
    return make_image_folder(tmp_path / "tiny")


@pytest.fixture
def tiny_experiment(tiny_folder):
    """A fast experiment on ``tiny_folder``: 8x8 input, a small MLP, 2 epochs."""
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    exp = Experiment()
    exp.data.folder = tiny_folder
    exp.data.input_size = [8, 8]
    exp.data.batch_size = 8
    exp.data.val_fraction = 0.3
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")]
    exp.optimizer = Component("Adam", {"lr": 0.01})
    exp.training.epochs = 2
    exp.training.device = "cpu"
    return exp.validate()
