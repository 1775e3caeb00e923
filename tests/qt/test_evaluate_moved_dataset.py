"""A run's dataset folder moved (walk-evaluate2 defect 1): the Evaluate tab's "Its
validation split" and "Its dataset's test part" are measured on the dataset open on the
Data tab when it has the model's classes, as `workbench evaluate RUN DIR --split val` does,
saying so; otherwise the message says in the app's words what to do. The Runs tab's
Report… evaluates there too."""

from __future__ import annotations

import shutil

import pytest

from helpers import make_image_folder

TIMEOUT_MS = 60000


@pytest.fixture
def moved_run(tmp_path):
    """A run trained on a train/ + test/ folder that was then moved (renamed): ``(run
    folder, where the dataset is now)``."""
    from workbench.core.experiment import Experiment
    from workbench.core.train.run import run_training

    root = tmp_path / "data"
    make_image_folder(root / "train", per_class=8, size=12)
    make_image_folder(root / "test", per_class=3, size=12, seed=1)
    exp = Experiment(name="moved")
    exp.data.folder, exp.data.input_size = str(root), [12, 12]
    exp.data.val_fraction = 0.25
    exp.training.epochs, exp.training.device = 1, "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    assert outcome.status == "finished"
    now = tmp_path / "data_moved"
    shutil.move(str(root), str(now))
    return tmp_path / "run", now


def _current(folder):
    """The app's experiment with ``folder`` open and scanned on the Data tab."""
    from workbench.core.data.scan import scan_folder
    from workbench.core.events import CurrentExperiment
    from workbench.core.experiment import Experiment

    exp = Experiment(name="open")
    exp.data.folder = str(folder)
    current = CurrentExperiment(exp)
    current.set_dataset(scan_folder(folder))
    return current


def _evaluate(qtbot, panel):
    """Press Evaluate and wait for its end; the failure said, else ""."""
    failed = []
    panel.failed.connect(failed.append)
    panel.evaluate()
    qtbot.waitUntil(lambda: bool(failed) or panel.result is not None, timeout=TIMEOUT_MS)
    return failed[-1] if failed else ""


@pytest.mark.parametrize("key, split", [("val", "val"), ("auto", "test")])
def test_its_split_is_measured_on_the_dataset_open_where_it_is_now(
        qtbot, make_evaluate_panel, moved_run, key, split):
    from workbench.core.evaluate.evaluation import evaluate

    run, now = moved_run
    bundle = str(run / "bundle.pt")
    panel = make_evaluate_panel(bundle, experiment=_current(now))
    panel.data_combo.choose(key)
    assert _evaluate(qtbot, panel) == ""
    cli = evaluate(bundle, str(now), split=split)  # workbench evaluate RUN DIR --split
    assert panel.result.split == split
    assert panel.result.num_images == cli.num_images == (6 if split == "val" else 9)
    assert panel.result.accuracy == cli.accuracy
    said = panel.message.text()
    what = "its validation split matched in" if split == "val" else "its test part taken from"
    assert f" on {'its validation split' if split == 'val' else 'its test part'}" in said
    assert f"of {now}. Note: The dataset folder it was trained on, {now.parent / 'data'}, is " \
           f"missing: {what} {now}, where the dataset is now" in said


def test_without_the_dataset_open_it_says_what_to_do_in_the_apps_words(
        qtbot, make_evaluate_panel, moved_run, tmp_path):
    run, now = moved_run
    bundle = str(run / "bundle.pt")
    panel = make_evaluate_panel(bundle)  # nothing open on the Data tab
    panel.use_validation_split()
    said = _evaluate(qtbot, panel)
    assert said.startswith("Cannot evaluate on its validation split: the dataset folder the "
                           f"model was trained on, {tmp_path / 'data'}, does not exist")
    assert said.endswith("open it where it is now on the Data tab, then press Evaluate again")
    assert "give the dataset" not in said and panel.result is None
    # Another dataset open, of other classes: said, not evaluated there.
    other = make_image_folder(tmp_path / "other", classes=("cat", "dog", "owl"), size=12)
    panel = make_evaluate_panel(bundle, experiment=_current(other))
    panel.use_validation_split()
    said = _evaluate(qtbot, panel)
    assert f"the dataset open on the Data tab, {other}, has other classes (cat, dog, owl; " \
           f"the model knows blue, green, red)" in said
    assert panel.result is None


def test_the_runs_tabs_report_evaluates_on_the_dataset_open_where_it_is_now(
        qtbot, moved_run, tmp_path):
    from workbench.qt.panels.runs.panel import RunsPanel

    run, now = moved_run
    panel = RunsPanel(tmp_path)
    qtbot.addWidget(panel)
    sharing = panel.sharing
    sharing.ask_path = lambda parent, suggested: str(tmp_path / "out.html")
    sharing.dataset = lambda: None  # nothing open: written, saying what to do
    with qtbot.waitSignal(sharing._runner.finished, timeout=TIMEOUT_MS):
        sharing.export_report(str(run))
    assert "Not evaluated" in (tmp_path / "out.html").read_text()
    assert panel.message.text().endswith("the model was not evaluated: the dataset folder "
                                         f"the model was trained on, {tmp_path / 'data'}, "
                                         "does not exist (moved, renamed, or on a drive that "
                                         "is not connected): open it where it is now on the "
                                         "Data tab, then press Report… again")
    current = _current(now)
    sharing.dataset = lambda: current.dataset
    with qtbot.waitSignal(sharing._runner.finished, timeout=TIMEOUT_MS):
        sharing.export_report(str(run))
    text = (tmp_path / "out.html").read_text()
    assert "Not evaluated" not in text and "on the validation split" in text
    assert panel.message.text() == (f"Wrote the report {tmp_path / 'out.html'} (the model "
                                    f"evaluated on {now}, open on the Data tab: its dataset "
                                    f"folder {tmp_path / 'data'} is missing)")


def test_the_report_hears_the_dataset_open_in_the_window(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.current.dataset_changed, timeout=TIMEOUT_MS):
        w.scan_dataset(tiny_experiment.data.folder, adopt_defaults=False)
    assert w.runs_panel.sharing.dataset() is w.current.dataset is not None
    w.shutdown()
