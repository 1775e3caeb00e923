"""Qt tests: offscreen, with a private WORKBENCH_HOME and tiny generated datasets.

QT_QPA_PLATFORM is set before anything imports Qt so the tests run without a display.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from helpers import make_image_folder  # noqa: E402  (tests/ is on pythonpath)


@pytest.fixture(autouse=True)
def workbench_home(tmp_path, monkeypatch) -> Path:
    """Nothing a test does may touch the real data directory."""
    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def close_without_asking(monkeypatch):
    """Closing the window mid-run asks first (workbench.qt.closing): a test that closes it
    then means it. tests/qt/test_closing.py checks the question itself."""
    monkeypatch.setattr("workbench.qt.main_window.MainWindow.confirm_close",
                        staticmethod(lambda window: True))


@pytest.fixture
def image_folder(tmp_path) -> Path:
    """3 classes (blue, green, red) x 12 images of 16x16 pixels."""
    return Path(make_image_folder(tmp_path / "colours", per_class=12, size=16))


@pytest.fixture
def tiny_experiment(image_folder):
    """A fast experiment on ``image_folder``: the mlp preset on 16x16 input, 2 epochs."""
    from workbench.core.experiment import Experiment
    from workbench.core.model.presets import preset_layers

    exp = Experiment(name="tiny")
    exp.data.folder = str(image_folder)
    exp.data.input_size = [16, 16]
    exp.data.batch_size = 8
    exp.data.val_fraction = 0.25
    exp.model.layers, exp.model.preset = preset_layers("mlp"), "mlp"
    exp.training.epochs = 2
    exp.training.device = "cpu"
    return exp


@pytest.fixture
def bundle_path(tmp_path, tiny_experiment) -> str:
    """An untrained bundle for ``tiny_experiment`` (weights random but seeded): quick to make."""
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network

    torch.manual_seed(0)
    model, _ = build_network(tiny_experiment.model.layers, (3, 16, 16), 3)
    path = tmp_path / "bundle.pt"
    save_bundle(path, tiny_experiment.copy().validate(), ["blue", "green", "red"],
                model.state_dict())
    return str(path)


@pytest.fixture(autouse=True, scope="session")
def garbage_collected_on_gui_thread(qapp):
    """As in the app: Python's cycle collector runs on the GUI thread only (see
    :class:`workbench.qt.workers.GuiThreadGarbageCollector`)."""
    from workbench.qt.workers import collect_garbage_on_gui_thread

    return collect_garbage_on_gui_thread()


@pytest.fixture
def plots(qtbot):
    """The Train tab's plots, shown at 900x700."""
    from workbench.qt.plots.training import TrainingPlots

    w = TrainingPlots()
    qtbot.addWidget(w)
    w.resize(900, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def kept_panels(qtbot):
    """``keep(panel)``: the panel, shut down when the test ends (and the task pool's work
    finished after them)."""
    from workbench.qt.workers import task_pool

    panels = []

    def keep(panel):
        qtbot.addWidget(panel)
        panels.append(panel)
        return panel
    yield keep
    for p in panels:
        p.shutdown()
    task_pool().waitForDone()


@pytest.fixture
def make_evaluate_panel(kept_panels, tmp_path):
    """``make(bundle=None, folder=None, runs_root=tmp_path / "runs", **kwargs)``: Evaluate
    panels shut down, and their pool work finished, when the test ends."""
    from workbench.qt.panels.evaluate.panel import EvaluatePanel

    def make(bundle=None, folder=None, runs_root=None, **kwargs):
        return kept_panels(EvaluatePanel(bundle, folder,
                                         runs_root=runs_root or tmp_path / "runs", **kwargs))
    return make


@pytest.fixture
def train_panel(kept_panels, tiny_experiment):
    """``train_panel(epochs=None)``: a Train panel on the tiny experiment (trained for
    ``epochs`` when given), shut down when the test ends."""
    from workbench.qt.panels.train.panel import TrainPanel

    def make(epochs: int | None = None):
        if epochs is not None:
            tiny_experiment.training.epochs = epochs
        return kept_panels(TrainPanel(tiny_experiment))
    return make


@pytest.fixture
def train_error_boxes(monkeypatch):
    """The Train tab's message boxes, kept instead of shown: ``(title, text)`` each."""
    shown = []
    for where in ("panel", "control"):
        monkeypatch.setattr(f"workbench.qt.panels.train.{where}.show_error",
                            lambda parent, title, text: shown.append((title, text)))
    return shown


@pytest.fixture
def train_window(qtbot):
    """The main window on the default experiment with the Train tab shown, torch loaded
    first (the settings' full forms, as in the app)."""
    from workbench.qt.main_window import MainWindow, _default_experiment
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    w = MainWindow(_default_experiment())
    qtbot.addWidget(w)
    w.tabs.setCurrentWidget(w.train_panel)
    return w


@pytest.fixture
def tune_panel(qtbot, tiny_experiment, tmp_path):
    """A Tune tab of ``tiny_experiment`` (1 epoch a trial; its runs under tmp_path/runs),
    shut down and its pool's jobs waited for after the test."""
    from workbench.qt.panels.tune.panel import TunePanel
    from workbench.qt.workers import task_pool

    tiny_experiment.training.epochs = 1
    panel = TunePanel(tiny_experiment, runs_parent=tmp_path / "runs")
    qtbot.addWidget(panel)
    yield panel
    panel.shutdown()
    task_pool().waitForDone()
