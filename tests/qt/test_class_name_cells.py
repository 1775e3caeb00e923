"""Long class names that share their start (a naturalist's "Amanita_muscaria_var_guessowii_20",
"…_40", "…_60") in the Data tab's class table and the Evaluate per-class table, at 1366x768:
each row shows the part that tells its class apart (as the confusion matrix's rows do), the
tooltip has the whole name, and sorting goes by the whole name."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from helpers import make_image_folder
from qt_helpers import loaded_data_panel

AMANITA = ["Amanita_muscaria_var_guessowii_20", "Amanita_muscaria_var_guessowii_40",
           "Amanita_muscaria_var_guessowii_60", "Amanita muscaria_var_guessowii forma 0"]
OTHERS = ["Boletus", "Leccinum_cibarius_2019-18", "Leccinum_cibarius_Écrin_çà_58"]


def test_data_class_table_keeps_the_end_that_tells_long_names_apart(qtbot, tmp_path):
    from workbench.qt.class_names import shown_texts

    root = tmp_path / "fungi"
    make_image_folder(root, classes=AMANITA + OTHERS, per_class=2, size=8)
    panel = loaded_data_panel(qtbot, root)
    panel.resize(1366, 700)
    panel.show()
    qtbot.waitExposed(panel)
    table = panel.class_table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    shown = dict(zip(names, shown_texts(table, 0)))
    cut = [shown[n] for n in AMANITA]
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(AMANITA[0])
    assert len(set(cut)) == len(cut), cut  # four rows that read differently
    for name in AMANITA[:3]:  # each shows its own ending, not "Amanita_muscaria_var_gu…"
        assert shown[name] != name and shown[name].endswith(name[-2:]), shown[name]
    assert shown["Boletus"] == "Boletus"  # a short name is whole
    row = names.index(AMANITA[1])
    assert table.item(row, 0).toolTip() == AMANITA[1]  # the whole name
    # Sorting by Class goes by the whole names; the counts still go with them.
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    after = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert after == sorted(names, key=str.casefold, reverse=True)
    assert dict(zip(after, shown_texts(table, 0))) == shown
    assert panel.class_counts()[AMANITA[2]] == 2


def test_evaluate_per_class_table_cuts_names_as_the_matrix_does(qtbot):
    from workbench.core.evaluate.evaluation import EvaluationResult
    from workbench.qt.class_names import shown_texts
    from workbench.qt.panels.evaluate.views import MACRO_AVERAGE, PerClassTable

    classes = AMANITA + OTHERS
    k = len(classes)
    y = np.arange(k)
    probs = np.eye(k, dtype=np.float32)
    result = EvaluationResult(classes=classes, paths=[f"/x/{i}.png" for i in range(k)],
                              y_true=y, probs=probs, losses=np.zeros(k))
    table = PerClassTable()
    qtbot.addWidget(table)
    table.resize(580, 400)  # a Class column of about 160 px
    table.show()
    qtbot.waitExposed(table)
    table.set_result(result)
    shown = shown_texts(table, 0)
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(AMANITA[0])
    assert len(set(shown[:4])) == 4, shown
    assert shown[0].endswith("20") and shown[2].endswith("60")
    assert shown[-1] == MACRO_AVERAGE  # the summary row as it was
    assert table.model().index(1, 0).data(Qt.ItemDataRole.ToolTipRole) == AMANITA[1]


def test_predict_bars_cut_names_as_the_matrix_does(qtbot, tmp_path, tiny_experiment,
                                                   image_folder):
    import torch
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QStyleOptionViewItem

    from helpers import random_bundle
    from test_predict_rows import _RecordingPainter
    from workbench.qt.panels.predict.panel import PredictPanel

    torch.manual_seed(0)
    bundle, _ = random_bundle(tmp_path / "fungi.pt", tiny_experiment.copy().validate(),
                              AMANITA[:3] + ["x"])
    panel = PredictPanel(str(bundle))
    qtbot.addWidget(panel)
    panel.resize(1366, 600)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.predictions_finished, timeout=30000):
        panel.add_images([str(image_folder / "red" / "red_000.png")])
    view = panel.view
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    index = view.model().index(0, 0)
    # A narrow row (a window about 560 px wide): the bar labels cannot hold the names.
    option.rect = QRect(0, 0, 500, view.visualRect(index).height())
    image = QImage(option.rect.size(), QImage.Format.Format_RGB32)  # kept while painted on
    painter = _RecordingPainter(image)
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    texts = [t for _, t in painter.texts]
    labels = [t for t in texts if t.startswith("Ama")]
    bars = [t for t in labels if "%" not in t]
    assert len(bars) == 3 and len(set(bars)) == 3, texts
    for name in AMANITA[:3]:
        assert any(t.endswith(name[-2:]) for t in bars), (name, bars)
    panel.shutdown()
