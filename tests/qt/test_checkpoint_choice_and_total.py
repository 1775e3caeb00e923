"""walk-evaluate2 defect 3: a run's checkpoint in the Evaluate model list names its run,
with the checkpoint's own epoch and score, also when the tab's choices come back after a
restart. (Defect 2, the status bar's count of a test/ part:
test_ready_line_says_what_it_counts.)"""

from __future__ import annotations


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
