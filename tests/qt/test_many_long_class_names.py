"""80 classes whose long names share long starts ("Cortinarius_violaceus_subspecies_51",
"Amanita_muscaria_var_extremely_long_descriptive_name_for_class_number_00" and "…_42"): every
place that shows a class name keeps the part that tells it apart, as the confusion matrix does,
instead of cutting them all at the end into one "Cortinarius_violaceus_subspe…"."""

from __future__ import annotations

import numpy as np
import pytest

LONG = "extremely_long_descriptive_name_for_class_number_"
CORT = [f"Cortinarius_violaceus_subspecies_{i}" for i in (33, 39, 45, 51, 57, 63, 69)]
AMAN = [f"Amanita_muscaria_var_{LONG}00", f"Amanita_muscaria_var_{LONG}42",
        "Amanita_muscaria_var_06", "Amanita_muscaria_var_guessowii_13"]
CLASSES = CORT + AMAN + ["c4", "c40"]


def _mistakes():
    """Each Cortinarius image taken for one of the two long Amanita classes, with the
    true class out of the top 3."""
    from workbench.core.evaluate.evaluation import EvaluationResult

    k = len(CLASSES)
    probs, y = [], []
    for i in range(len(CORT)):
        p = np.full(k, 0.001, dtype=np.float32)
        p[CLASSES.index(AMAN[i % 2])] = 0.6
        p[CLASSES.index(AMAN[2])], p[CLASSES.index(AMAN[3])] = 0.2, 0.15
        probs.append(p / p.sum())
        y.append(i)
    probs = np.asarray(probs)
    y = np.asarray(y)
    return EvaluationResult(classes=CLASSES, paths=[f"/x/{c}/img_001.png" for c in CORT],
                            y_true=y, probs=probs,
                            losses=-np.log(probs[np.arange(len(y)), y]).astype(np.float64))


@pytest.mark.parametrize("width", [1076, 1340])  # the tab at 1100x706, 1366x768
def test_largest_losses_true_and_predicted_tell_the_classes_apart(qtbot, width):
    from workbench.qt.class_names import shown_texts
    from workbench.qt.panels.evaluate.views import CLASS_WIDTH, TOPS_WIDTH, WorstLossesTable

    table = WorstLossesTable()
    qtbot.addWidget(table)
    table.resize(width, 500)
    table.show()
    qtbot.waitExposed(table)
    table.set_result(_mistakes())
    rows = range(table.rowCount())
    true = [table.item(r, 1).text() for r in rows]
    predicted = [table.item(r, 2).text() for r in rows]
    assert sorted(true) == sorted(CORT) and set(predicted) == set(AMAN[:2])
    for column, names in ((1, true), (2, predicted)):
        shown = shown_texts(table, column)
        # Each row reads as its own class: its last digits are in view.
        assert all(s.endswith(n[-2:]) for s, n in zip(shown, names)), shown
        assert len(set(shown)) == len(set(names)), shown
        # The whole name in the cell's tooltip.
        assert [table.item(r, column).toolTip() for r in rows] == names
    # The two columns take the room Top probabilities can spare: it keeps its names whole.
    header = table.horizontalHeader()
    entries = [f"{t['class']} {t['prob']:.1%}" for e in table.entries for t in e["top"]]
    widest = max(map(table.fontMetrics().horizontalAdvance, entries))
    assert header.sectionSize(4) >= TOPS_WIDTH - 1
    assert table.columnWidth(1) >= CLASS_WIDTH and table.columnWidth(2) >= CLASS_WIDTH
    if width == 1340:  # room for both
        assert header.sectionSize(4) >= widest
        assert table.columnWidth(1) > CLASS_WIDTH and table.columnWidth(2) > CLASS_WIDTH
    # Narrower, they give it back.
    table.resize(900, 500)
    qtbot.waitUntil(lambda: table.columnWidth(1) == table.columnWidth(2) == CLASS_WIDTH)
    assert all(s.endswith(n[-2:]) for s, n in zip(shown_texts(table, 2), predicted))


def test_health_rows_tell_the_classes_apart_and_always_say_the_side(qtbot, tmp_path):
    from PySide6.QtGui import QFontMetrics, QImage
    from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

    from test_predict_rows import _RecordingPainter
    from workbench.qt.class_names import shown_texts
    from workbench.qt.panels.data.health.cells import GAP, THUMB
    from workbench.qt.panels.data.health.findings import Finding
    from workbench.qt.panels.data.health.table import (COLUMNS, IMAGES, FindingRole,
                                                       FindingsModel, FindingsTable)
    from workbench.qt.thumbnails import ThumbnailLoader

    def leak(cls):
        return Finding("leak", (f"{tmp_path}/train/{cls}/a.png", f"{tmp_path}/test/{cls}/a.png"),
                       (cls, cls), ("train", "test"), detail="Copies in train/ and test/.")

    leaks = [leak(c) for c in CORT[:3] + AMAN[:2]]
    conflict = Finding("conflict", (f"{tmp_path}/a.png", f"{tmp_path}/b.png"),
                       (CORT[3], AMAN[3]), ("train", "train"), detail="The same picture.")
    table = FindingsTable(FindingsModel(ThumbnailLoader(None, size=THUMB)))
    model = table.proxy.sourceModel()
    model.loader.setParent(table)
    model.setParent(table)
    qtbot.addWidget(table)
    model.set_findings(leaks + [conflict], classes=CLASSES)
    table.resize(1300, 700)
    table.show()
    qtbot.waitExposed(table)
    table.fit_images_column()
    rows = range(table.proxy.rowCount())
    found = [table.proxy.index(r, IMAGES).data(FindingRole) for r in rows]
    # The Class column: each row its own class, in a narrow column too.
    column = COLUMNS.index("Class")
    for width in (80, 300):
        table.setColumnWidth(column, width)
        shown = shown_texts(table, column)
        assert len(set(shown)) == len(shown), shown
        for f, text in zip(found, shown):
            if f.kind == "leak":
                assert text.endswith(f.classes[0][-2:]), text
    # The conflict's two classes each so, where the column has room for both.
    cut = shown[[f.kind for f in found].index("conflict")].split(" / ")
    assert [c[-2:] for c in cut] == [CORT[3][-2:], AMAN[3][-2:]], cut
    # Under each thumbnail: the class, told apart, and always its side of the split.
    delegate = table.itemDelegateForColumn(IMAGES)
    small = QApplication.font()  # the captions' font
    small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
    metrics = QFontMetrics(small)
    for r, f in zip(rows, found):
        if f.kind != "leak":
            continue
        index = table.proxy.index(r, IMAGES)
        option = QStyleOptionViewItem()
        table.initViewItemOption(option)
        option.rect = table.visualRect(index)
        image = QImage(table.viewport().size(), QImage.Format.Format_RGB32)
        painter = _RecordingPainter(image)
        delegate.paint(painter, option, index)
        captions = [t for _, t in painter.texts if " · " in t]
        painter.end()
        assert [c.rsplit(" · ", 1)[1] for c in captions] == ["train", "test"], captions
        assert all(c.split(" · ")[0].endswith(f.classes[0][-2:]) for c in captions), captions
        assert all(metrics.horizontalAdvance(c) <= THUMB + GAP for c in captions), captions



def test_predict_top1_tells_the_class_apart_from_the_models_other_classes(
        qtbot, tmp_path, tiny_experiment, image_folder):
    """A row whose top 5 lists "…_00" but not "…_42": its label still keeps "00" (it read
    "Amanita_muscaria_var_extremely_long_descriptive_name_for…" until an image of "_42"
    happened to be listed too)."""
    import torch
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QStyleOptionViewItem

    from test_predict_rows import _RecordingPainter
    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network
    from workbench.qt.panels.predict.panel import PredictPanel

    classes = AMAN[:2] + ["c1", "c2", "c3", "c4", "c40"]
    exp = tiny_experiment.copy().validate()
    model, _ = build_network(exp.model.layers, (3, 16, 16), len(classes))
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():  # the same top 5 for any image: "_00" first, "_42" last
        last.weight.zero_()
        last.bias.copy_(torch.tensor([3.0, -3.0, 1.0, 0.9, 0.8, 0.7, 0.6]))
    bundle = save_bundle(tmp_path / "fungi.pt", exp, classes, model.state_dict())
    panel = PredictPanel(str(bundle))
    qtbot.addWidget(panel)
    panel.resize(1366, 600)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.predictions_finished, timeout=30000):
        panel.add_images([str(image_folder / "red" / "red_000.png")])
    [row] = panel.rows
    assert row.top[0][0] == AMAN[0] and AMAN[1] not in [c for c, _ in row.top]
    view = panel.view
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    index = view.model().index(0, 0)
    option.rect = QRect(0, 0, 900, view.visualRect(index).height())  # too narrow for it
    image = QImage(option.rect.size(), QImage.Format.Format_RGB32)
    painter = _RecordingPainter(image)
    view.itemDelegate().paint(painter, option, index)
    painter.end()
    texts = [t for _, t in painter.texts]
    [top1] = [t for t in texts if t.startswith("Ama") and "%" in t]
    assert AMAN[0] not in top1 and top1.split("  ")[0].endswith("00"), texts
    panel.shutdown()


def _eighty() -> list[str]:
    """The 80 classes of the walkthrough: names in groups that share long starts."""
    starts = ["Amanita_muscaria_var_", "Amanita_muscaria_var_guessowii_", "Boletus_",
              "Cortinarius_violaceus_subspecies_", "c", "Russula_"]
    names = []
    for i in range(80):
        start = starts[i % len(starts)]
        names.append(f"c{i}" if start == "c" else
                     f"{start}{LONG}{i:02d}" if i % 7 == 0 else f"{start}{i:02d}")
    return names


def test_images_per_class_chart_names_tell_the_bars_apart(qtbot, tmp_path):
    from helpers import make_image_folder
    from qt_helpers import loaded_data_panel

    names = _eighty()
    panel = loaded_data_panel(qtbot, make_image_folder(tmp_path / "many", classes=names,
                                                       per_class=1, size=8))
    panel.resize(1362, 699)  # the Data tab at 1366x768
    panel.show()
    qtbot.waitExposed(panel)
    chart = panel.chart
    qtbot.waitUntil(lambda: chart.plot_widget is not None and bool(chart.heights()),
                    timeout=30000)
    qtbot.waitUntil(lambda: chart.is_turned(), timeout=30000)
    order = list(chart.heights())  # the bars' classes, in order
    labelled = [order[i] for i, _ in chart.axis.names]
    labels = chart.tick_labels()
    assert len(labels) >= 10
    # Each label reads as its own class (was "Amanita_musc…" under five bars in a row),
    # ending as its class ends; hovering still names it whole.
    assert len(set(labels)) == len(labels), labels
    for label, name in zip(labels, labelled):
        assert label == name or label.endswith(name[-2:]), (label, name)
    first = chart.axis.names[0][0]
    assert chart.tip_at(first).startswith(f"{order[first]}: ")
