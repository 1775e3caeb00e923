"""Models trained on other classes than the loaded dataset's: the Evaluate and Predict
choosers mark them, list them last and do not pick them when one that fits is listed;
Predict warns while it uses one. Evaluate restores the last session's model, and its top-k
stays below the model's number of classes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.qt.panels.evaluate.layout import summary_text
from workbench.qt.panels.evaluate.panel import EvaluatePanel
from workbench.qt.panels.predict.panel import PredictPanel

FRUIT = ["apple", "banana", "cherry", "grape"]
ANIMALS = ["cat", "dog", "fox", "owl"]
WAIT_MS = 30000


def _run(root: Path, name: str, created: str, classes: list[str]) -> str:
    """A finished run folder named ``name`` whose bundle.pt knows ``classes``."""
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network
    from workbench.core.model.presets import preset_layers
    from workbench.core.runs.store import write_run_info

    exp = Experiment(name=name)
    exp.data.input_size = [8, 8]
    exp.model.layers, exp.model.preset = preset_layers("mlp"), "mlp"
    run = root / name
    run.mkdir(parents=True)
    torch.manual_seed(0)
    model, _ = build_network(exp.model.layers, (3, 8, 8), len(classes))
    save_bundle(run / "bundle.pt", exp, classes, model.state_dict())
    write_run_info(run, {"name": name, "created": created, "updated": created,
                         "status": "finished", "epochs_done": 1, "epochs_planned": 1})
    return str(run / "bundle.pt")


@pytest.fixture
def runs(workbench_home) -> dict[str, str]:
    """An animals run, then two newer fruit runs, in the app's runs folder."""
    root = workbench_home / "runs"
    return {"animals": _run(root, "animals-run", "2026-12-01T10:00:00+00:00", ANIMALS),
            "fruit": _run(root, "fruit-run", "2026-12-02T10:00:00+00:00", FRUIT),
            "newest": _run(root, "fruit-newest", "2026-12-03T10:00:00+00:00", FRUIT)}


def _animals_open() -> CurrentExperiment:
    current = CurrentExperiment(Experiment())
    current.set_dataset(SimpleNamespace(root="/data/animals", classes=list(ANIMALS)))
    return current


@pytest.fixture
def evaluate_panel(make_evaluate_panel, workbench_home):
    return lambda **kwargs: make_evaluate_panel(runs_root=workbench_home / "runs", **kwargs)


def _listed(qtbot, panel: EvaluatePanel) -> None:
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=WAIT_MS):
        panel.refresh_runs()


def test_evaluate_chooses_a_model_of_the_datasets_classes_and_marks_the_others(
        qtbot, evaluate_panel, runs):
    panel = evaluate_panel(experiment=_animals_open())
    _listed(qtbot, panel)

    assert panel.bundle_path() == runs["animals"]  # not the newest run: it knows fruit
    combo = panel.chooser.combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0].startswith("animals-run") and "other classes" not in texts[0]
    assert all("(other classes: apple, banana, cherry, grape)" in t for t in texts[1:])
    assert "cat, dog, fox, owl" in combo.itemData(1, 3)  # the tooltip says both sides


def test_evaluate_keeps_the_users_choice_of_another_classes_model(qtbot, evaluate_panel,
                                                                  runs):
    panel = evaluate_panel(experiment=_animals_open())
    panel.set_bundle(runs["fruit"])
    _listed(qtbot, panel)
    assert panel.bundle_path() == runs["fruit"]


def test_evaluate_restores_the_last_sessions_model_not_the_newest(qtbot, evaluate_panel,
                                                                  runs):
    panel = evaluate_panel()  # no dataset known: every model fits
    panel.restore_bundle(runs["fruit"])
    _listed(qtbot, panel)
    assert panel.bundle_path() == runs["fruit"]
    _listed(qtbot, panel)  # listed again: still the restored one
    assert panel.bundle_path() == runs["fruit"]


def test_the_main_window_gives_evaluate_the_last_run_like_predict(qtbot, runs):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.session import restore_last_run

    window = MainWindow()
    qtbot.addWidget(window)
    restore_last_run(window, str(Path(runs["fruit"]).parent))
    evaluate = window.evaluate_panel
    _listed(qtbot, evaluate)
    assert evaluate.bundle_path() == runs["fruit"]
    assert window.predict_panel.bundle_path == runs["fruit"]
    window.close()


def test_top_k_stays_below_the_chosen_models_number_of_classes(qtbot, evaluate_panel, runs):
    panel = evaluate_panel()
    assert panel.top_k.maximum() == 20  # no model: its classes are unknown
    panel.set_bundle(runs["animals"])
    assert panel.top_k.maximum() == 3 and panel.top_k.value() == 3  # 5 was asked for


def test_top_k_follows_the_model_unless_the_user_set_it_for_that_model(
        qtbot, evaluate_panel, workbench_home):
    # A tester evaluated a 3-class model (top-2), then a 60-class one: the top-2 chosen for
    # 3 classes stayed, where the 60-class model's default is top-5.
    root = workbench_home / "runs"
    three = _run(root, "three", "2026-12-01T10:00:00+00:00", ANIMALS[:3])
    sixty = _run(root, "sixty", "2026-12-02T10:00:00+00:00", [f"c{i}" for i in range(60)])
    two = _run(root, "two", "2026-12-03T10:00:00+00:00", ANIMALS[:2])
    panel = evaluate_panel()
    panel.set_bundle(three)
    assert panel.top_k.value() == 2
    panel.set_bundle(sixty)
    assert (panel.top_k.maximum(), panel.top_k.value()) == (59, 5)
    panel.top_k.setValue(10)  # the user's k for this model
    panel.set_bundle(two)
    assert panel.top_k.value() == 1
    panel.set_bundle(three)
    assert panel.top_k.value() == 2
    panel.top_k.setValue(1)
    panel.set_bundle(sixty)
    assert panel.top_k.value() == 10  # the user's k for each model comes back with it
    panel.set_bundle(three)
    assert panel.top_k.value() == 1


def test_the_summary_leaves_out_a_top_k_of_every_class():
    def result(k: int):
        return SimpleNamespace(accuracy=0.5, top_k=k, top_k_accuracy=1.0, classes=ANIMALS,
                               num_images=8, unreadable=[],
                               macro_average=lambda: {"f1": 0.5})
    assert "top-" not in summary_text(result(4))
    assert "top-3 accuracy 100.0%" in summary_text(result(3))


def test_predict_warns_while_its_model_knows_other_classes(qtbot, runs):
    panel = PredictPanel(experiment=_animals_open())
    qtbot.addWidget(panel)
    panel.set_bundle(runs["fruit"])

    assert panel.classes_warning.isVisibleTo(panel)
    text = panel.classes_warning.text()
    assert "apple, banana, cherry, grape" in text and "cat, dog, fox, owl" in text
    combo = panel.model_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[1].startswith("animals-run")  # the run that fits is listed first
    assert "(other classes: apple, banana, cherry, grape)" in combo.currentText()

    panel.set_bundle(runs["animals"])
    assert not panel.classes_warning.isVisibleTo(panel)
    panel.shutdown()


def test_predict_uses_the_newest_model_of_the_datasets_classes_until_the_user_chooses(
        qtbot, runs):
    current = _animals_open()
    panel = PredictPanel(experiment=current)
    qtbot.addWidget(panel)
    # Dropped images are classified at once, by a model that knows the dataset's classes.
    assert panel.bundle_path == runs["animals"]
    assert "newest saved run trained on these classes" in panel.bundle_label.text()
    assert panel.model_combo.currentData() == runs["animals"]
    current.set_dataset(SimpleNamespace(root="/data/fruit", classes=list(FRUIT)))
    assert panel.bundle_path == runs["newest"]

    panel.set_bundle(runs["fruit"])  # the user's choice stays, whatever is loaded next
    current.set_dataset(SimpleNamespace(root="/data/animals", classes=list(ANIMALS)))
    assert panel.bundle_path == runs["fruit"]
    panel.restore_bundle(runs["newest"])  # nor does the last session's model replace it
    assert panel.bundle_path == runs["fruit"]
    panel.shutdown()


def test_predict_chooses_nothing_without_a_dataset_or_a_model_that_fits(qtbot, runs):
    panel = PredictPanel()
    qtbot.addWidget(panel)
    assert panel.bundle_path == "" and "No model yet" in panel.bundle_label.text()
    panel.shutdown()
    other = CurrentExperiment(Experiment())
    other.set_dataset(SimpleNamespace(root="/data/birds", classes=["crow", "wren"]))
    panel = PredictPanel(experiment=other)
    qtbot.addWidget(panel)
    assert panel.bundle_path == ""  # a model of other classes is never chosen for the user
    panel.restore_bundle(runs["fruit"])  # the last session's is the user's own choice
    assert panel.bundle_path == runs["fruit"] and panel.classes_warning.isVisibleTo(panel)
    panel.shutdown()
