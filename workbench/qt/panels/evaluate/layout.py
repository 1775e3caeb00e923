"""The Evaluate panel's result views and the top-k spin box's limits.

:func:`build_results` creates the four result views, the line shown instead of them when
there is no result, and the export buttons; :func:`cap_top_k` and :func:`summary_text` keep
the top-k accuracy meaningful: with k at or above the number of classes it is always 100%.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QStackedWidget, QTabWidget

from workbench.qt.plots.header import stacked
from workbench.qt.panels.evaluate.confusion import ConfusionView
from workbench.qt.panels.evaluate.views import CalibrationPlot, PerClassTable, WorstLossesTable

#: The top-k spin box's largest k when the model's number of classes is unknown.
MAX_TOP_K = 20
NO_RESULT_TEXT = "No result for the model and data chosen: press Evaluate."
#: The message line before anything is evaluated, and once a result is dropped.
CHOOSE_TEXT = "Choose a model and the data to measure it on, then press Evaluate."


def cap_top_k(spin: QSpinBox, classes: list[str] | None) -> None:
    """Let ``spin`` go up to one less than the number of ``classes`` (at least 1), or to
    :data:`MAX_TOP_K` when they are unknown; a larger k is lowered to the new maximum."""
    spin.setMaximum(max(1, len(classes) - 1) if classes else MAX_TOP_K)


def summary_text(result: Any) -> str:
    """The result's summary line; the top-k accuracy only when k is below the number of
    classes (otherwise it is 100% whatever the model)."""
    macro = result.macro_average()
    top_k = (f" · top-{result.top_k} accuracy {result.top_k_accuracy:.1%}"
             if result.top_k < len(result.classes) else "")
    return (f"<b>Accuracy {result.accuracy:.1%}</b>{top_k} · macro F1 {macro['f1']:.3f} · "
            f"{result.num_images} images · {len(result.unreadable)} unreadable")


def build_results(self: Any) -> tuple[QStackedWidget, QHBoxLayout]:
    """Create ``self``'s (an EvaluatePanel's) result views and export buttons; returns the
    stack (views or the no-result line) and the row of export buttons."""
    self.per_class = PerClassTable()
    self.confusion = ConfusionView()
    self.calibration = CalibrationPlot()
    self.worst = WorstLossesTable()
    self.results = QTabWidget()
    self.results.addTab(self.per_class, "Per class")
    self.results.addTab(self.confusion, "Confusion matrix")
    # The histogram with its title and legend above it (what Save PNG saves too).
    self.calibration_page = stacked(self.calibration.header, self.calibration)
    self.results.addTab(self.calibration_page, "Calibration")
    self.results.addTab(self.worst, "Largest losses")
    self.results.setEnabled(False)
    # What the views would show for another model or data (or a failed or cancelled
    # evaluation) is not kept on screen: a line saying there is no result takes its place.
    self.no_result = QLabel(NO_RESULT_TEXT)
    self.no_result.setAlignment(Qt.AlignmentFlag.AlignCenter)
    self.no_result.setWordWrap(True)
    self.result_stack = QStackedWidget()
    self.result_stack.addWidget(self.no_result)
    self.result_stack.addWidget(self.results)
    self.export_button = QPushButton("Export CSV…")
    self.export_button.setToolTip("Write per_class.csv, confusion.csv and predictions.csv "
                                  "into a folder")
    self.export_button.clicked.connect(self.export_csv)
    self.png_button = QPushButton("Save PNG…")
    self.png_button.setToolTip("Save the view on show (matrix, histogram, table) as an "
                               "image")
    self.png_button.clicked.connect(self.save_png)
    exports = QHBoxLayout()
    exports.addStretch(1)
    exports.addWidget(self.export_button)
    exports.addWidget(self.png_button)
    return self.result_stack, exports
