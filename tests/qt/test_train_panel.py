"""Train panel: two-way binding, a full short run with live plots, Stop, errors."""

from __future__ import annotations

import json
import os

import pytest

from workbench.core.registry import Component
from workbench.qt.common import LogSpinBox

from helpers import make_image_folder

RUN_TIMEOUT_MS = 120000


@pytest.fixture
def panel(train_panel):
    return train_panel()


def test_settings_are_bound_both_ways(panel):
    exp = panel.experiment
    panel.epochs_spin.setValue(7)
    assert exp.training.epochs == 7
    panel.lr_spin.setValue(0.05)
    assert exp.optimizer.params["lr"] == pytest.approx(0.05)
    panel.optimizer_combo.setCurrentText("SGD")
    assert exp.optimizer.type == "SGD"
    assert exp.optimizer.params["lr"] == pytest.approx(0.01)  # SGD's default
    assert panel.lr_spin.value() == pytest.approx(0.01)

    exp.training.epochs = 3
    exp.optimizer = Component("AdamW", {"lr": 3e-4})
    panel.refresh()
    assert panel.epochs_spin.value() == 3
    assert panel.optimizer_combo.currentText() == "AdamW"
    assert panel.lr_spin.value() == pytest.approx(3e-4)
    assert panel.lr_spin.text() == "0.0003"
    assert exp.optimizer.params == {"lr": 3e-4}  # refreshing echoes nothing back


def test_learning_rate_steps_along_1_2_5(qtbot):
    box = LogSpinBox()
    qtbot.addWidget(box)
    box.setValue(1e-3)
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-3)
    box.stepBy(1)
    assert box.value() == pytest.approx(5e-3)
    box.stepBy(1)
    assert box.value() == pytest.approx(1e-2)
    box.stepBy(-4)
    assert box.value() == pytest.approx(1e-3 / 2)


def test_short_run_fills_the_plots_and_saves_a_bundle(qtbot, panel, workbench_home):
    saved = []
    panel.bundle_saved.connect(saved.append)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start_button.click()
        assert panel.is_running()
        assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
        assert not panel.epochs_spin.isEnabled()  # the run trains a snapshot
    summary = blocker.args[0]
    assert not summary["stopped"]
    assert len(summary["history"]) == 2
    assert not panel.is_running()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.epochs_spin.isEnabled()

    # 27 training images (9 per class after a 25% split) in batches of 8: 4 batches an epoch.
    per_epoch = panel.info["batches_per_epoch"]
    assert per_epoch == 4
    x, y = panel.plots.batch_curve.getData()
    assert len(x) == len(y) == 2 * per_epoch
    assert x[-1] == pytest.approx(2.0)  # the per-batch axis is in epochs
    assert all(v > 0 for v in y)
    ex, ey = panel.plots.train_loss_curve.getData()
    assert list(ex) == [1, 2] and len(ey) == 2
    vx, vy = panel.plots.val_loss_curve.getData()
    assert list(vx) == [1, 2]
    ax, ay = panel.plots.train_acc_curve.getData()
    assert len(ay) == 2 and all(0 <= a <= 100 for a in ay)
    assert len(panel.plots.val_acc_curve.getData()[1]) == 2
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.status.text().startswith("Finished 2 epochs")

    bundle = summary["bundle"]
    assert saved == [bundle]
    assert os.path.isfile(bundle) and os.path.basename(bundle) == "bundle.pt"
    assert os.path.dirname(os.path.dirname(bundle)) == str(workbench_home / "runs")
    metrics = json.loads(open(os.path.join(os.path.dirname(bundle), "metrics.json")).read())
    assert [m["epoch"] for m in metrics["epochs"]] == [1, 2]
    assert bundle in panel.run_label.text()

    # The decoded-image cache filled during the first epoch, and the panel said so.
    total = panel.info["num_train"] + panel.info["num_val"]
    assert panel.cache_bar.isVisibleTo(panel)
    assert panel.cache_bar.value() == panel.cache_bar.maximum() == total
    assert panel.cache_label.text().startswith("Decoded-image cache full:")
    assert "in RAM" in panel.cache_label.text()


def test_stop_mid_run(qtbot, panel):
    panel.experiment.training.epochs = 500
    panel.experiment.data.batch_size = 2
    panel.refresh()
    with qtbot.waitSignal(panel.run.batches_finished, timeout=RUN_TIMEOUT_MS):
        panel.start()
    job = panel.run._job
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.stop_button.click()
        assert panel.status.text().startswith("Stopping")
    assert blocker.args[0]["stopped"]
    assert job.done.wait(10)  # the run has left the training thread
    assert not panel.is_running()
    assert panel.status.text().startswith("Stopped after")
    assert panel.status.level == "warning"
    assert len(blocker.args[0]["history"]) < 500
    assert panel.start_button.isEnabled()


def test_trainer_errors_arrive_as_a_message(qtbot, panel, tmp_path):
    panel.experiment.data.folder = str(make_image_folder(tmp_path / "one", classes=("red",),
                                                   per_class=4))
    with qtbot.waitSignal(panel.training_errored, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.start()
    assert "single class" in blocker.args[0]
    assert panel.status.level == "error"
    assert "single class" in panel.status.text()
    assert not panel.is_running() and panel.start_button.isEnabled()
    assert panel.last_summary is None


def test_invalid_settings_are_refused_before_starting(qtbot, panel):
    panel.experiment.data.mean = [0.5, 0.5]  # 2 values for 3 channels
    panel.start()
    assert not panel.is_running()
    assert "data.mean" in panel.last_error
    assert panel.status.level == "error"


def test_cache_off_hides_the_cache_progress(qtbot, panel):
    panel.experiment.data.cache = "off"
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    assert not panel.cache_bar.isVisibleTo(panel)
    assert panel.cache_label.text().startswith("Decoded-image cache: off")


def test_the_cache_full_line_counts_the_images_it_holds(qtbot, panel):
    # Files found unreadable only when decoded are not in the cache: the line said the
    # start's count of files ("33 images at 8x8 ...") once full.
    from pathlib import Path

    folder = Path(panel.experiment.data.folder)
    for c in ("red", "green", "blue"):
        (folder / c / "broken.png").write_bytes(b"not a png")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
    files, rest = panel.info["cache"].split(" images ")  # "37 images at 8x8, ... in RAM"
    held = panel.cache_bar.maximum()
    assert held < int(files) and panel.cache_bar.value() == held
    assert panel.cache_label.text() == (f"Decoded-image cache full: {held} images {rest}. "
                                        f"Later epochs skip decoding.")


def test_the_run_name_is_telling_and_used_and_the_next_one_counts_up(qtbot, panel):
    # tiny_experiment: the "colours" folder and the mlp preset.
    assert panel.name_edit.text() == "colours-mlp-1"
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
        assert not panel.name_edit.isEnabled()
    run_dir = done.args[0]["run_dir"]
    assert os.path.basename(run_dir).endswith("-colours-mlp-1")
    with open(os.path.join(run_dir, "run.json")) as f:
        assert json.load(f)["name"] == "colours-mlp-1"
    assert panel.name_edit.text() == "colours-mlp-2"  # the next run's, not a repeat

    # A name the user typed is used and survives edits that change the suggestion.
    panel.name_edit.setText("wide hidden layer")
    panel.experiment.model.layers[1].params["out_features"] = 99
    panel.current.set_network(None, "")  # the Model tab's news of the edit
    assert panel.name_edit.text() == "wide hidden layer"
    panel.name_edit.clear()
    panel.setup.update_name()
    assert panel.name_edit.text() == "colours-custom-1"  # edited away from the preset


def test_batch_size_is_edited_here_with_a_memory_hint(qtbot, panel):
    from workbench.core.model.builder import infer_shapes
    from workbench.core.train.device import DeviceInfo

    exp = panel.experiment
    panel.batch_spin.setValue(64)
    assert exp.data.batch_size == 64
    exp.data.batch_size = 16
    panel.refresh()
    assert panel.batch_spin.value() == 16
    summary = infer_shapes(exp.model.layers, (3, 16, 16), 3)
    panel.options_editor.set_devices([DeviceInfo("cpu", "CPU", "cpu", 8 << 30)])
    panel.current.set_network(summary, "")  # as the Model tab publishes it
    hint = panel.setup.memory_label
    assert hint.isVisibleTo(panel) and "per step" in hint.text() and "cpu" in hint.text()
    assert "may not fit" not in hint.text()
    # A device too small for the step: the hint warns and names a batch size that fits.
    from workbench.core.train.memory import estimate

    need = estimate(summary, exp.optimizer.type)
    tiny = int((need.fixed + need.per_image * 20) / 0.8)
    panel.options_editor.set_devices([DeviceInfo("cpu", "CPU", "cpu", tiny)])
    panel.batch_spin.setValue(200)
    assert "may not fit, try batch 20 or less" in hint.text()


def test_a_run_of_a_network_the_model_doctor_warns_about_says_so_as_it_starts(
        qtbot, panel, workbench_home):
    # From a learner's day: a zero-initialised network trained with no word on the Train
    # tab; only the training doctor, afterwards, said anything (and blamed the rate).
    from workbench.core.data.scan import scan_folder

    panel.index = scan_folder(panel.experiment.data.folder)
    panel.experiment.init = Component("zeros")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert panel.run_label.level == "warning"
        assert "The Model doctor warns" in panel.run_label.text()
        assert "zeros" in panel.run_label.text()
    panel.experiment.init = Component("default")
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS):
        panel.start_button.click()
        assert "Model doctor" not in panel.run_label.text()


def test_start_waits_for_a_dataset_that_can_be_trained_on(qtbot, panel, tmp_path):
    # From a learner's day: a one-class folder left Start enabled, and the run failed at
    # once with "Training failed".
    from workbench.core.data.scan import scan_folder

    one = scan_folder(make_image_folder(tmp_path / "one", classes=("cats",), per_class=4))
    panel.set_dataset(one)
    assert not panel.start_button.isEnabled()
    # The tab is named once: by the hint that coming back (or Rescan) picks the fix up.
    assert panel.status.text().startswith("Cannot train yet: ") and \
        "Workbench looks at the folder again when you come back to this window (or click " \
        "Rescan on the Data tab)" in panel.status.text()
    assert "single class" in panel.start_button.toolTip()
    panel.set_dataset(scan_folder(panel.experiment.data.folder))
    assert panel.start_button.isEnabled() and "single class" not in panel.start_button.toolTip()
    assert not panel.status.text().startswith("Cannot train yet")
