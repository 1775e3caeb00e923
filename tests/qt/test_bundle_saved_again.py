"""A bundle saved again at the same path (a run continued with "Continue in Train", or
``workbench resume`` in a terminal) is another model: Predict and Explain use its new
weights, and Evaluate drops the result it measured on the old ones."""

from __future__ import annotations

import pytest

from qt_helpers import drop_urls
from workbench.qt.panels.evaluate.layout import NO_RESULT_TEXT
from workbench.qt.panels.predict.model import DONE
from workbench.qt.panels.predict.panel import PredictPanel

TIMEOUT_MS = 60000


def _save_again(path: str, experiment, seed: int) -> None:
    """Write other (seeded) weights to the bundle at ``path``, as a continued run does."""
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network

    torch.manual_seed(seed)
    model, _ = build_network(experiment.model.layers, (3, 16, 16), 3)
    save_bundle(path, experiment.copy().validate(), ["blue", "green", "red"],
                model.state_dict())


def _probabilities(bundle: str, image: str) -> dict[str, float]:
    """What ``workbench predict`` says of ``image`` with the bundle file as it is now."""
    from workbench.core.predict import Predictor

    [prediction] = Predictor(bundle).predict([image], top_k=3)
    return {str(c): float(p) for c, p in prediction.top}


def test_predict_classifies_with_the_weights_the_bundle_file_holds_now(
        qtbot, bundle_path, tiny_experiment, image_folder):
    image = str(image_folder / "red" / "red_000.png")
    panel = PredictPanel(bundle_path)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            drop_urls(panel, [image])
        [row] = panel.rows
        old = dict(row.top)
        assert old == pytest.approx(_probabilities(bundle_path, image))

        # The window tells the panel the run's bundle was saved (same path): the rows are
        # classified again, by the new weights.
        _save_again(bundle_path, tiny_experiment, seed=1)
        new = _probabilities(bundle_path, image)
        assert new != pytest.approx(old)
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            panel.set_bundle(bundle_path)
        assert row.status == DONE and dict(row.top) == pytest.approx(new)

        # Saved again by another process (workbench resume): dropping the image again
        # classifies it by the weights the file holds now.
        _save_again(bundle_path, tiny_experiment, seed=2)
        newer = _probabilities(bundle_path, image)
        assert newer != pytest.approx(new)
        with qtbot.waitSignal(panel.predictions_finished, timeout=TIMEOUT_MS):
            drop_urls(panel, [image])
        assert panel.rows == [row] and dict(row.top) == pytest.approx(newer)
    finally:
        panel.shutdown()


def test_explain_uses_the_weights_the_bundle_file_holds_now(bundle_path, tiny_experiment,
                                                             image_folder):
    from workbench.qt.panels.explain.jobs import ExplainSession

    image = str(image_folder / "green" / "green_000.png")
    session = ExplainSession(bundle_path)
    session.setup()
    old = dict(session.explain(image, None, None).top)
    assert old == pytest.approx(_probabilities(bundle_path, image))
    _save_again(bundle_path, tiny_experiment, seed=1)
    new = dict(session.explain(image, None, None).top)
    assert new != pytest.approx(old)
    assert new == pytest.approx(_probabilities(bundle_path, image))


def test_evaluate_drops_the_result_of_a_bundle_saved_again(qtbot, make_evaluate_panel,
                                                           tmp_path, tiny_experiment):
    from workbench.core.runs.recorder import RunRecorder
    from workbench.core.train.checkpoint import load_checkpoint
    from workbench.core.train.trainer import Trainer

    run = tmp_path / "runs" / "continued"
    tiny_experiment.training.epochs = 1
    tiny_experiment.training.restore_best = False  # the bundle is the last epoch's
    Trainer(tiny_experiment, [RunRecorder(run)]).fit()
    bundle = str(run / "bundle.pt")
    panel = make_evaluate_panel()
    panel.set_bundle(bundle)
    shown = lambda: panel.result_stack.currentWidget() is panel.results  # noqa: E731

    def evaluate():
        with qtbot.waitSignal(panel.evaluated, timeout=TIMEOUT_MS):
            panel.evaluate_button.click()
        assert shown() and "Accuracy" in panel.summary.text()
        assert panel.export_button.isEnabled() and panel.png_button.isEnabled()

    def dropped():
        assert panel.result is None and not shown() and panel.summary.text() == ""
        assert panel.no_result.text() == NO_RESULT_TEXT
        assert not panel.export_button.isEnabled() and not panel.png_button.isEnabled()
        assert "saved again" in panel.message.text() and "press Evaluate" in \
            panel.message.text()

    def resume(epochs: int) -> None:
        tiny_experiment.training.epochs = epochs
        Trainer(tiny_experiment, [RunRecorder(run)], checkpoint=load_checkpoint(run)).fit()

    # Continued in the app: the window tells the tab the run's bundle was saved.
    evaluate()
    resume(2)
    panel.set_bundle(bundle)
    dropped()
    assert "(epoch 2)" in panel.chooser.combo.currentText()

    # Resumed in a terminal while the tab was hidden: noticed when it is shown again.
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        panel.show()
    evaluate()
    panel.hide()
    resume(3)
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        panel.show()
    dropped()
    assert "(epoch 3)" in panel.chooser.combo.currentText()
    evaluate()  # measured again: the new weights' result stays
    with qtbot.waitSignal(panel.chooser.runs_listed, timeout=TIMEOUT_MS):
        panel.refresh_runs()
    assert shown() and panel.result is not None
