"""Start-up: the window paints before torch is imported; torch then loads in one background
thread, and the parts of the panels that need it fill in (workbench.qt.startup)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from workbench.qt import startup
from workbench.qt.main_window import MainWindow
from workbench.qt.panels.predict.panel import PredictPanel
from workbench.qt.startup import LOADING_TEXT, FirstPaintWatcher, TorchLoader

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 300
TIMEOUT_MS = 120000


def _python(*args: str, **env: str) -> subprocess.CompletedProcess:
    # faulthandler: a crash of the app prints every thread's stack into the failure.
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=PROCESS_TIMEOUT_S,
                          env={**os.environ, "PYTHONFAULTHANDLER": "1", **env})


@pytest.fixture
def loader(monkeypatch):
    """A fresh application loader, deferred as in the app: panels wait until ``start()``."""
    fresh = TorchLoader()
    monkeypatch.setattr(startup, "_LOADER", fresh)
    fresh.defer()
    yield fresh
    fresh.wait_for_thread()


# -- the real app, in a fresh process ------------------------------------------------------
def test_importing_the_app_imports_neither_torch_nor_torchvision():
    proc = _python("-c", "import sys, workbench.qt.app, workbench.qt.main_window; "
                         "print([m for m in ('torch', 'torchvision') if m in sys.modules])")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_probe_prints_the_first_paint_without_torch_and_quits(image_folder):
    proc = _python("-m", "workbench", "gui", "--data", str(image_folder),
                   WORKBENCH_STARTUP_PROBE="1")
    assert proc.returncode == 0, proc.stderr
    [line] = [ln for ln in proc.stdout.splitlines() if ln.startswith("first-paint ")]
    _, when, torch, pyqtgraph = line.split()
    assert float(when) > 0
    assert torch == "torch=0"
    assert pyqtgraph == "pyqtgraph=0"  # the plots, on tabs not shown, come after the frame
    assert "torch-ready" not in proc.stdout


# Runs the app's main() with the "ready" probe. It records which thread imports torch,
# torchvision or the core modules that need them (an import statement, even of a module
# already half-imported by another thread, or a search of the import system), and, at the
# first paint (torch not loaded yet), shows every tab and presses Start; once torch is ready
# it reports what the panels show.
CHECK_APP = r"""
import builtins, importlib.abc, importlib.util, json, sys, threading
from PySide6.QtWidgets import QApplication
import workbench.qt.app as app_mod
from workbench.qt import startup

HEAVY = set(startup.TORCH_MODULES)
events = []

def note(name):
    if name.split(".")[0] in ("torch", "torchvision") or name in HEAVY:
        events.append((threading.current_thread().name, name, startup.torch_loader().state))

class Recorder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        note(name)
        return None

sys.meta_path.insert(0, Recorder())
real_import = builtins.__import__

def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    try:
        full = importlib.util.resolve_name("." * level + name,
                                           (globals or {}).get("__package__")) if level else name
        for n in [full] + [f"{full}.{f}" for f in (fromlist or ()) if f != "*"]:
            note(n)
    except Exception:
        pass
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = recording_import
report = {}
original = app_mod.start_after_first_paint

def patched(window, loader=None, probe=None):
    watcher = original(window, loader, probe)

    def use_every_tab():  # runs after the background import has begun
        for i in range(window.tabs.count()):
            window.tabs.setCurrentIndex(i)
            QApplication.processEvents()
        report["restored"] = window.train_panel.last_run_dir  # before its own run starts
        window.train_panel.start()
        report["queued"] = window.train_panel.status.text()
        tabs_used.set()
    watcher.first_painted.connect(use_every_tab)
    return watcher

app_mod.start_after_first_paint = patched

# The loader thread says "ready" only once every tab was used and Start pressed: a fast
# machine's import may otherwise end first, and nothing would be left to queue.
tabs_used = threading.Event()
real_run = startup.TorchLoader._run

def run_then_wait_for_the_tabs(self):
    import_all = self._import_all
    self._import_all = lambda: (import_all(), tabs_used.wait(120))[0]
    real_run(self)

startup.TorchLoader._run = run_then_wait_for_the_tabs

def on_ready():
    [win] = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"]
    report.update(model_rows=sum(1 for r in win.model_panel.row_texts() if r[3]),
                  optimizers=win.train_panel.optimizer_combo.count(),
                  add_enabled=win.augment_panel.add_button.isEnabled(),
                  form=win.augment_panel.form is not None,
                  training=win.train_panel.is_running())

startup.torch_loader().ready.connect(on_ready)
report["rc"] = app_mod.main(data=sys.argv[1])
report["early"] = [e for e in events if e[2] != "ready" and e[0] != "workbench-import-torch"]
report["threads"] = sorted({e[0] for e in events if e[2] != "ready"})
print("REPORT " + json.dumps(report))
"""


def _last_session_with_a_run(home: Path) -> str:
    """A session whose last run is a stopped one (its files as a run
    writes them; restoring it must not need torch)."""
    from workbench.core.experiment import Experiment
    from workbench.core.session import session_text, write_session

    run = home / "runs" / "yesterday"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"")
    (run / "run.json").write_text(json.dumps({"name": "yesterday", "status": "stopped",
                                              "epochs_done": 1, "epochs_planned": 3}))
    (run / "metrics.json").write_text(json.dumps({"epochs": [
        {"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.1, "val_acc": 0.4,
         "lr": 0.001, "seconds": 1.0}]}))
    Experiment().save(run / "experiment.json")  # its dataset, which its notes follow
    write_session(session_text(Experiment(), b"", "Data", str(run)))
    return str(run)


def test_the_window_paints_first_then_torch_loads_in_one_thread_and_the_tabs_fill(
        image_folder, workbench_home):
    last_run = _last_session_with_a_run(workbench_home)
    proc = _python("-c", CHECK_APP, str(image_folder), WORKBENCH_STARTUP_PROBE="ready")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    [paint] = [ln for ln in lines if ln.startswith("first-paint ")]
    assert paint.split()[2:] == ["torch=0", "pyqtgraph=0"]  # painted before either import
    assert any(ln.startswith("torch-ready ") for ln in lines)
    [line] = [ln for ln in lines if ln.startswith("REPORT ")]
    report = json.loads(line[len("REPORT "):])
    assert report["rc"] == 0
    # Before torch was ready, only the loader thread imported it, although every tab was
    # shown and training was requested meanwhile.
    assert report["early"] == []
    assert report["threads"] == ["workbench-import-torch"]
    assert report["restored"] == last_run  # the last session's run, shown without torch
    assert LOADING_TEXT in report["queued"]
    # Then the parts that need torch filled in, and the queued run started.
    assert report["model_rows"] > 0
    assert report["optimizers"] > 0
    assert report["add_enabled"] and report["form"]
    assert report["training"] is True


# -- the panels while torch loads (in this process) ----------------------------------------
def test_panels_wait_for_torch_then_fill_in_and_a_queued_run_starts(qtbot, loader,
                                                                    tiny_experiment,
                                                                    image_folder):
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        window.load_folder(str(image_folder))
    model, train, augment = window.model_panel, window.train_panel, window.augment_panel
    assert model.summary is None and LOADING_TEXT in model.message.text()
    assert model.stack.cards and all(card.form is None for card in model.stack.cards)
    assert train.optimizer_combo.count() == 0 and not train.optimizer_combo.isEnabled()
    assert not augment.add_button.isEnabled() and augment.form is None
    assert [augment.list.item(i).text() for i in range(augment.list.count())] == \
        [t.type for t in tiny_experiment.augment.transforms]
    assert augment.train_steps.item(0).text() == LOADING_TEXT
    assert window.data_panel.settings.imbalance_label.text() == ""
    train.start()
    assert not train.is_running() and LOADING_TEXT in train.status.text()
    assert not train.start_button.isEnabled()

    with qtbot.waitSignal(train.training_started, timeout=TIMEOUT_MS):
        loader.start()
    assert loader.is_ready()
    assert model.row_texts()[-1][3] == "(3)"
    assert train.optimizer_combo.currentText() == tiny_experiment.optimizer.type
    assert augment.add_button.isEnabled() and augment.form is not None
    assert augment.train_steps.count() > 0 and augment.train_steps.item(0).text() != \
        LOADING_TEXT
    assert "Imbalance" in window.data_panel.settings.imbalance_label.text()
    qtbot.waitUntil(lambda: not augment.preview.tiles[0].pixmap().isNull(), timeout=TIMEOUT_MS)
    window.close()  # stops the run that started when torch was ready
    assert not train.is_running()


def test_a_run_queued_while_torch_loads_is_cancelled_when_the_window_closes(
        qtbot, loader, tiny_experiment):
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.train_panel.start()
    window.close()
    with qtbot.waitSignal(loader.ready, timeout=TIMEOUT_MS):
        loader.start()
    assert not window.train_panel.is_running()


def test_images_dropped_while_torch_loads_are_classified_when_it_is(qtbot, loader,
                                                                   bundle_path, image_folder):
    panel = PredictPanel(bundle_path)
    qtbot.addWidget(panel)
    [row] = panel.add_images([str(image_folder / "red" / "red_000.png")])
    assert LOADING_TEXT in row.message and row.top == []
    with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
        loader.start()
    assert row.error is None and len(row.top) == 3


# -- the loader itself ---------------------------------------------------------------------
def test_without_defer_callbacks_run_at_once(monkeypatch):
    fresh = TorchLoader()
    monkeypatch.setattr(startup, "_LOADER", fresh)
    ran = []
    startup.when_torch_ready(lambda: ran.append(1))
    assert ran == [1] and fresh.is_ready() and not fresh.is_pending()


def test_ensure_loaded_waits_for_the_thread_and_runs_each_callback_once(qtbot, loader):
    ran = []
    loader.call_when_ready(lambda: ran.append("first"))
    loader.start()
    assert loader.is_pending()
    assert loader.ensure_loaded()
    assert ran == ["first"]
    QApplication.processEvents()  # the thread's own notice arrives: nothing runs twice
    assert ran == ["first"]
    loader.call_when_ready(lambda: ran.append("later"))
    assert ran == ["first", "later"]


def test_a_failed_import_is_reported_and_waiting_parts_never_run(qtbot, monkeypatch):
    bad = TorchLoader(modules=("json", "workbench_no_such_module"))
    monkeypatch.setattr(startup, "_LOADER", bad)
    bad.defer()
    window = MainWindow()
    qtbot.addWidget(window)
    ran = []
    bad.call_when_ready(lambda: ran.append(1))
    with qtbot.waitSignal(bad.failed, timeout=TIMEOUT_MS) as blocker:
        bad.start()
    assert "workbench_no_such_module" in blocker.args[0]
    assert bad.state == "failed" and not bad.ensure_loaded()
    bad.call_when_ready(lambda: ran.append(2))
    assert ran == []
    assert LOADING_TEXT in window.model_panel.message.text()
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "PyTorch could not be loaded" in boxes[0].windowTitle()


def test_every_module_the_loader_imports_exists():
    import importlib

    for name in startup.TORCH_MODULES:
        importlib.import_module(name)


def test_first_paint_watcher_reports_once_after_the_window_is_painted(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    watcher = FirstPaintWatcher(widget)
    with qtbot.waitSignal(watcher.first_painted, timeout=20000):
        widget.show()
    seen = []
    watcher.first_painted.connect(lambda: seen.append(1))
    widget.update()
    widget.repaint()
    QApplication.processEvents()
    assert seen == []


def test_only_the_tabs_needed_are_built_before_the_first_frame_and_the_rest_after_it(
        qtbot, monkeypatch, tiny_experiment):
    from workbench.qt.main_window import TABS

    monkeypatch.setattr(startup, "_AFTER_PAINT", None)
    startup.defer_until_painted()  # as the app does before building its window
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    names = [name for name, *_ in TABS]

    def built() -> list[str]:
        return [n for n in names if window.tabs.built_page(n) is not None]

    assert built() == ["data"]  # the tab shown (it scans the dataset too)
    assert window.data_panel.chart.plot_widget is None  # pyqtgraph waits for the frame
    window.tabs.setCurrentIndex(names.index("runs"))  # a tab opened is built then
    assert built() == ["data", "runs"]
    assert window.tabs.currentWidget() is window.runs_panel
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=20000):
        window.scan_dataset(tiny_experiment.data.folder, adopt_defaults=False)

    startup.run_after_paint_work()  # what the first frame sets off: one tab a turn
    qtbot.waitUntil(lambda: built() == names, timeout=20000)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        [title for _, title, *_ in TABS]
    assert [window.tabs.widget(i) for i in range(len(names))] == \
        [window.tabs.built_page(n) for n in names]
    assert window.tabs.currentWidget() is window.runs_panel  # building moved no tab
    # Tabs built after the scan know it, and after the frame the chart is drawn.
    assert window.model_panel.num_classes == 3 and window.train_panel.index is not None
    assert window.data_panel.chart.heights() == window.data_panel.class_counts()
    # A tab built late is connected: Continue on the Runs tab opens the Train tab.
    window.runs_panel.continue_requested.emit("/no/such/run")
    assert window.tabs.currentWidget() is window.train_panel
