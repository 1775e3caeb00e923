"""The app's starting points: the built-in demo dataset (generated on first use, with a busy
cursor) and the default experiment (the seed-cnn network when the spec leaves it empty)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from workbench.core.experiment import Experiment


def demo_folder() -> str:
    """The built-in demo dataset's folder, generated (busy cursor) on first use."""
    from workbench.core.data.demo import ensure_demo_dataset

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return str(ensure_demo_dataset())
    finally:
        QGuiApplication.restoreOverrideCursor()


def is_demo_folder(folder: str) -> bool:
    """Whether ``folder`` is the built-in demo dataset's (made again when it is missing)."""
    from workbench.core.data.demo import default_demo_root

    return os.path.abspath(folder) == os.path.abspath(default_demo_root())


def saved_folder(folder: str) -> tuple[str, str]:
    """``(folder to scan, folder missing)`` for an experiment's saved dataset ``folder``:
    itself when it is there; the demo's made again when that is gone; ``("", folder)`` for
    any other folder gone (moved, renamed, a drive not connected)."""
    if not folder or os.path.exists(folder):
        return folder, ""
    if is_demo_folder(folder):
        return demo_folder(), ""  # the generated demo: make it again
    return "", folder


def default_experiment() -> Experiment:
    """A new Experiment with the default network (seed-cnn where the spec has none)."""
    exp = Experiment()
    if not exp.model.layers:  # the default network when the spec leaves it empty
        from workbench.core.model.presets import preset_layers

        exp.model.layers, exp.model.preset = preset_layers("seed-cnn"), "seed-cnn"
    return exp

