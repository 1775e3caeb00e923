"""The Evaluate page in a 1366x768 window whose pages scroll (a laptop screen): once a
result is shown it still fits its tab as it did before, so Export CSV… and Save PNG… stay
in view. The result views' preferred size (the confusion matrix asks for 546 px) made the
page 20 px taller than its tab: a page scroll bar, the export buttons half hidden."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QScrollArea

from workbench.core.evaluate.evaluation import EvaluationResult

WAIT_MS = 30000
CLASSES = [f"Cortinarius_violaceus_subspecies_{i:02d}" for i in range(80)]


def _result(n: int = 400) -> EvaluationResult:
    rng = np.random.default_rng(0)
    y = np.arange(n) % len(CLASSES)
    probs = rng.random((n, len(CLASSES))).astype(np.float32)
    probs[np.arange(n), y] += 2
    probs /= probs.sum(axis=1, keepdims=True)
    return EvaluationResult(classes=CLASSES, paths=[f"/x/{i}.png" for i in range(n)],
                            y_true=y, probs=probs,
                            losses=-np.log(probs[np.arange(n), y]).astype(np.float64),
                            top_k=5)


def test_evaluate_page_fits_its_tab_at_1366x768_after_a_result(qtbot, tiny_experiment):
    from workbench.qt.main_window import MainWindow

    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    window.tabs.scroll_pages(True)  # as on a 1366x768 screen (the test screen is 800x800)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    panel = window.evaluate_panel
    window.tabs.setCurrentWidget(panel)
    area = panel.parentWidget().parentWidget()
    assert isinstance(area, QScrollArea)
    qtbot.waitUntil(lambda: area.viewport().height() > 600, timeout=WAIT_MS)

    def fits() -> bool:
        # Its whole height, no more: the result views take the height left.
        return panel.height() == area.viewport().height() \
            and area.verticalScrollBar().maximum() == 0

    qtbot.waitUntil(fits, timeout=WAIT_MS)  # before the first evaluation
    panel.show_result(_result())
    for i in range(panel.results.count()):  # each result view
        panel.results.setCurrentIndex(i)
        qtbot.wait(50)  # its layout request handled
        assert fits(), (i, panel.height(), area.viewport().height())
        assert panel.heightForWidth(area.viewport().width()) <= area.viewport().height()
        # The export buttons whole in view, above the status bar.
        bottom = panel.png_button.mapTo(area.viewport(), QPoint(0, panel.png_button.height()))
        assert bottom.y() <= area.viewport().height()
