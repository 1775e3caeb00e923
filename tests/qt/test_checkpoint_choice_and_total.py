"""walk-evaluate2 defects 2 and 3: the status bar counts a dataset's test/ part, as the
Data tab's total does; a run's checkpoint in the Evaluate model list names its run, with
the checkpoint's own epoch and score, also when the tab's choices come back after a
restart."""

from __future__ import annotations

from helpers import make_image_folder

TIMEOUT_MS = 60000


def test_the_status_bar_counts_the_test_part_as_the_data_tab_does(
        qtbot, tiny_experiment, tmp_path):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.panels.data.stats import total_text

    folder = tmp_path / "parts"
    make_image_folder(folder / "train", per_class=8, size=16)
    make_image_folder(folder / "test", per_class=2, size=16, seed=1)
    tiny_experiment.data.folder = str(folder)
    w = MainWindow(tiny_experiment)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.current.dataset_changed, timeout=TIMEOUT_MS):
        w.scan_dataset(str(folder), adopt_defaults=False)
    assert total_text(w.current.dataset, None).startswith("Total: 30 images in 3 classes")
    assert w.statusBar().currentMessage() == (f"Dataset {folder}: 3 classes, 30 images "
                                              f"(24 in train/, 6 in test/), 0 unreadable")
    w.shutdown()


def test_a_runs_checkpoint_is_listed_by_its_run_and_its_own_epoch(
        qtbot, make_evaluate_panel, tiny_experiment, tmp_path):
    import shutil

    from workbench.core.runs.classes import checkpoint_epoch
    from workbench.core.runs.record import read_record
    from workbench.core.train.run import run_training
    from workbench.qt.panels.evaluate.state import restore_evaluate_state
    from workbench.qt.panels.runs.model import bundle_choice_text, model_choice_text

    runs = {}
    for name in ("first-run", "second-run"):
        outcome = run_training(tiny_experiment.copy().validate(), tmp_path / name,
                               name=name)
        assert outcome.status == "finished"
        runs[name] = outcome.run_dir
    ckpts = runs["first-run"] / "checkpoints"
    shutil.copyfile(ckpts / "last.pt", ckpts / "best.pt")
    epoch, metrics = checkpoint_epoch(ckpts / "best.pt")
    record = read_record(runs["first-run"])
    head = model_choice_text(record).split(" · ")[:2]  # name · date
    assert head[0] == "first-run"
    assert bundle_choice_text(str(ckpts / "best.pt")) == " · ".join(
        head + [f"val {metrics['val_acc'] * 100:.1f}% (epoch {epoch})", "checkpoint best.pt"])

    panel = make_evaluate_panel()
    for name in runs:  # Load bundle… of each run's best.pt: told apart by their runs
        best = runs[name] / "checkpoints" / "best.pt"
        if not best.exists():
            shutil.copyfile(runs[name] / "checkpoints" / "last.pt", best)
        panel.set_bundle(str(best))
        text = panel.chooser.combo.currentText()
        assert text.startswith(f"{name} · ") and text.endswith(" · checkpoint best.pt")
    # After a restart: the model chosen again is named by its run.
    again = make_evaluate_panel()
    restore_evaluate_state(again, {"bundle": str(runs["second-run"] / "checkpoints" /
                                                 "best.pt")})
    assert again.no_result.text().startswith("Chosen again as the tab was left: second-run on")
