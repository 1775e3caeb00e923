"""Evaluate tab's per-class table: a class the evaluated images lack (support 0) shows
"—" for its recall and F1 (not measured), never a 0 that reads as the model failing."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from workbench.core.evaluate.evaluation import EvaluationResult
from workbench.qt.panels.evaluate.views import PER_CLASS_COLUMNS, PerClassTable


def _result() -> EvaluationResult:
    # cat and dog have images; bird has none but was predicted once (wrongly).
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7]], dtype=np.float32)
    y = np.array([0, 1, 1])
    return EvaluationResult(classes=["cat", "dog", "bird"], paths=["a", "b", "c"], y_true=y,
                            probs=probs, losses=-np.log(probs[np.arange(3), y]), top_k=1,
                            split="test")


def test_a_class_without_images_shows_a_dash_for_recall_and_f1(qtbot):
    table = PerClassTable()
    qtbot.addWidget(table)
    table.set_result(_result())

    def shown(row: int, key: str) -> str:
        return table.proxy.index(row, PER_CLASS_COLUMNS.index(key)).data()

    assert shown(2, "class") == "bird" and shown(2, "support") == "0"
    assert shown(2, "recall") == "\u2014" and shown(2, "f1") == "\u2014"
    assert shown(2, "precision") == "0.000"  # predicted once, wrongly: measured
    assert shown(1, "recall") == "0.500"
    tip = table.model().headerData(PER_CLASS_COLUMNS.index("recall"), Qt.Orientation.Horizontal,
                                   Qt.ItemDataRole.ToolTipRole)
    assert "macro average leaves such classes out" in tip
    # Sorting by recall puts the unmeasured class last either way, not among the worst.
    for order, measured in ((Qt.SortOrder.AscendingOrder, [0.5, 1.0]),
                            (Qt.SortOrder.DescendingOrder, [1.0, 0.5])):
        table.sortByColumn(PER_CLASS_COLUMNS.index("recall"), order)
        assert table.column_values("recall") == measured + [None]


def test_the_macro_average_row_agrees_with_the_cli_and_stays_last(qtbot):
    from workbench.core.evaluate.report import format_report

    result = _result()
    table = PerClassTable()
    qtbot.addWidget(table)
    table.set_result(result)
    macro = result.macro_average()
    expected = ["macro average", f"{macro['precision']:.3f}", f"{macro['recall']:.3f}",
                f"{macro['f1']:.3f}", "3"]
    assert table.summary_texts() == expected
    # The numbers `workbench evaluate` prints on its macro-average line.
    cli = next(line for line in format_report(result).splitlines()
               if line.startswith("macro average"))
    assert cli.split()[2:] == expected[1:]
    # Whatever the table is sorted by, the average is the last row, not among the classes.
    for key in PER_CLASS_COLUMNS:
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            table.sortByColumn(PER_CLASS_COLUMNS.index(key), order)
            last = table.proxy.rowCount() - 1
            assert table.proxy.index(last, 0).data() == "macro average", (key, order)
            assert "macro average" not in table.column_values("class")
    tip = table.proxy.index(table.proxy.rowCount() - 1, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "Macro average" in tip and "each class counting the same" in tip
