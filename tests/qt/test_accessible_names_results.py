"""Screen readers, on the views that appear only once there is a result (walker report
"a11y2", defect 6): after a Health check, the Data tab's Show combo and findings table;
after an evaluation, every result tab's Tab stops (the per-class table, the Most confused
list, the images of a cell, the largest losses). The Tab walk of
:mod:`test_accessible_names` ran before any check or evaluation, and missed them."""

from __future__ import annotations

import shutil
from pathlib import Path

from test_accessible_names import WAIT_MS, _unnamed_stops, shown_window

from qt_helpers import run_health_check
from workbench.qt.accessible import spoken_name


def test_every_result_view_tab_reaches_has_a_name(qtbot, tiny_experiment, bundle_path):
    folder = Path(tiny_experiment.data.folder)
    shutil.copy(folder / "red" / "red_000.png", folder / "blue" / "copy_of_red.png")
    window = shown_window(qtbot, tiny_experiment)

    data = window.data_panel
    health = data.health
    data.views.setCurrentWidget(health)
    assert run_health_check(qtbot, health)
    assert health.stack.currentWidget() is health.table
    assert _unnamed_stops(qtbot, window, "data") == []
    assert spoken_name(health.kind_combo) == "Show findings"
    assert spoken_name(health.table) == "Findings"

    panel = window.evaluate_panel
    panel.set_bundle(bundle_path)
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS):
        panel.evaluate()
    confusion = panel.confusion
    confusion.pairs.setCurrentRow(0)  # a cell's images listed: the view is a Tab stop
    missing = {}
    for i in range(panel.results.count()):
        panel.results.setCurrentIndex(i)
        missing[panel.results.tabText(i)] = _unnamed_stops(qtbot, window, "evaluate")
    assert not any(missing.values()), missing
    assert spoken_name(panel.per_class) == "Per-class results"
    assert spoken_name(confusion.pairs) == "Most confused pairs"
    assert spoken_name(confusion.cell_images) == "Images of the selected cell"
    assert spoken_name(panel.worst) == "Largest losses"
