"""The Evaluate panel's result views and its top-k spin box.

:func:`build_results` creates the four result views, the line shown instead of them when
there is no result (in a :class:`ResultStack`, which fits the page to its tab), and the
export buttons; :class:`TopKBox` (k follows the chosen model),
:func:`cap_top_k` and :func:`summary_text` keep the top-k accuracy meaningful: with k at or
above the number of classes it is always 100%.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QStackedWidget, QTabWidget

from workbench.core.evaluate.metrics import DEFAULT_TOP_K, default_top_k
from workbench.qt.plots.header import stacked
from workbench.qt.panels.evaluate.confusion import ConfusionView
from workbench.qt.panels.evaluate.views import CalibrationPlot, PerClassTable, WorstLossesTable

#: The top-k spin box's largest k when the model's number of classes is unknown.
MAX_TOP_K = 20
NO_RESULT_TEXT = "No result for the model and data chosen: press Evaluate."
#: In place of the results once the last session's choices are back (the message line
#: then says nothing more).
RESTORED_TEXT = ("The model and data you chose last time are chosen again: press Evaluate "
                 "to see the results.")
#: The message line before anything is evaluated, and once a result is dropped.
CHOOSE_TEXT = "Choose a model and the data to measure it on, then press Evaluate."
#: After a model that is no longer there (moved, or its run deleted).
GONE_TEXT = "choose another model in the list, or Load bundle…"


def gone_text(path: str, chosen: str) -> str:
    """The message line once the model at ``path`` is no longer there and the chooser
    shows ``chosen`` (its item's text, "" when no model is left) in its place."""
    name = chosen.partition(" · ")[0]
    now = f"showing {name} instead; {GONE_TEXT}" if name else \
        "train a model on the Train tab, or Load bundle…"
    return f"{path} is no longer there (moved, or its run deleted): {now}"


def cap_top_k(spin: QSpinBox, classes: list[str] | None) -> None:
    """Let ``spin`` go up to one less than the number of ``classes`` (at least 1), or to
    :data:`MAX_TOP_K` when they are unknown; a larger k is lowered to the new maximum."""
    spin.setMaximum(max(1, len(classes) - 1) if classes else MAX_TOP_K)


class TopKBox(QSpinBox):
    """The k of the top-k accuracy: the chosen model's default (:func:`default_top_k` of
    its classes, below their number) unless the user set k for that model.

    A k set for a 3-class model (at most top-2) is not kept for a 60-class one chosen
    later; back on the 3-class model, the user's k is. The k values set are kept in the
    session (:meth:`user_k`, :meth:`restore_user_k`: :mod:`.state`).
    """

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.setRange(1, MAX_TOP_K)
        self.setValue(DEFAULT_TOP_K)
        self.setPrefix("top-")
        self.setToolTip("k of the top-k accuracy: the true class among the k most "
                        "probable ones")
        self._model = ""
        self._following = False
        self._by_user: dict[str, int] = {}  # model (bundle path) -> the k the user set
        self.valueChanged.connect(self._on_value_changed)

    def follow_model(self, bundle: str, classes: list[str] | None) -> None:
        """Keep k below the number of ``classes`` of the model at ``bundle``; k is the
        one the user set for that model, else its default (kept when both are unknown)."""
        self._model = bundle
        self._following = True
        try:
            cap_top_k(self, classes)
            k = self._by_user.get(bundle) if bundle else None
            if k is None and classes:
                k = default_top_k(len(classes))
            if k is not None:
                self.setValue(k)
        finally:
            self._following = False

    def user_k(self) -> dict[str, int]:
        """The k the user set, by model (its bundle's path)."""
        return dict(self._by_user)

    def restore_user_k(self, by_model: dict[str, int], bundle: str,
                       classes: list[str] | None) -> None:
        """Take back the k set per model in the last session (:meth:`user_k`; one set
        since is kept) and follow the model at ``bundle`` (:meth:`follow_model`)."""
        self._by_user = {**by_model, **self._by_user}
        self.follow_model(bundle, classes)

    def _on_value_changed(self, k: int) -> None:
        if not self._following and self._model:
            self._by_user[self._model] = k


def summary_text(result: Any) -> str:
    """The result's summary line; the top-k accuracy only when k is below the number of
    classes (otherwise it is 100% whatever the model)."""
    macro = result.macro_average()
    top_k = (f" · top-{result.top_k} accuracy {result.top_k_accuracy:.1%}"
             if result.top_k < len(result.classes) else "")
    return (f"<b>Accuracy {result.accuracy:.1%}</b>{top_k} · macro F1 {macro['f1']:.3f} · "
            f"{result.num_images} images · {len(result.unreadable)} unreadable")


class ResultStack(QStackedWidget):
    """The result views (or the no-result line) asking for no more height than they need:
    the page scrolled where the tab has room for less than the views' preferred height
    (the matrix's 546 px) is as tall as its tab, as before the first evaluation, and the
    views take the height left (:func:`build_results`)."""

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().sizeHint().width(), self.minimumSizeHint().height())


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
    self.calibration_page.layout().insertWidget(1, self.calibration.note)  # the ECE in words
    self.results.addTab(self.calibration_page, "Calibration")
    self.results.addTab(self.worst, "Largest losses")
    self.results.setEnabled(False)
    # What the views would show for another model or data (or a failed or cancelled
    # evaluation) is not kept on screen: a line saying there is no result takes its place.
    self.no_result = QLabel(NO_RESULT_TEXT)
    self.no_result.setAlignment(Qt.AlignmentFlag.AlignCenter)
    self.no_result.setWordWrap(True)
    self.result_stack = ResultStack()
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
