"""Screen readers: every field Tab reaches is announced by its label ("lr, spin box 0.001"),
not as a bare "spin box 0.001", and a combo box not by its value alone ("combo box Adam").

No field of the generated forms (the Train tab's lr, betas, eps; every layer card's; every
Augment step's) had an accessible name or a label buddy, nor had the hand-made rows: the
Data tab's Dataset folder and Input size, the Runs filter and table, Evaluate's Model and
top-k, Predict's minimum confidence, Tune's space table (and each row's Type) and trials
table, the Model palette, preset and doctor list, Augment's image class, the Smoothing
slider."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox, QLabel, QWidget

from workbench.core.registry import Entry, Param
from workbench.qt.accessible import INPUTS, spoken_name
from workbench.qt.forms import ParamForm

WAIT_MS = 30000

ENTRY = Entry("Thing", lambda **kw: kw, params=(
    Param("lr", float, 1e-3, min=1e-6, max=1.0, log=True, help="Learning rate."),
    Param("count", int, 3, min=1, max=10),
    Param("flag", bool, False),
    Param("mode", str, "b", choices=("a", "b")),
    Param("betas", list, [0.9, 0.999], min=0.0, max=1.0, item_type=float, length=(2,)),
    Param("padding", int, 0, min=0, max=64, words=("same", "valid")),
    Param("in_channels", int, None, min=1, max=4096, auto="previous layer"),
))


def _buddies(widget: QWidget) -> dict[QWidget, str]:
    """Each widget a label of ``widget`` names (its buddy), with the label's text."""
    return {label.buddy(): label.text() for label in widget.findChildren(QLabel)
            if label.buddy() is not None}



def shown_window(qtbot, experiment):
    """The app's window for ``experiment`` at 1366x768, active, its dataset loaded."""
    from workbench.qt.main_window import MainWindow

    window = MainWindow(experiment)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    with qtbot.waitSignal(window.data_panel.dataset_loaded, timeout=WAIT_MS):
        window.load_folder(experiment.data.folder)
    return window


def test_each_editor_of_a_form_is_named_by_its_parameter(qtbot):
    for columns in (1, 2):  # a plain form, and a card's grid
        form = ParamForm(ENTRY, {}, columns=columns)
        qtbot.addWidget(form)
        e, buddies = form.editors, _buddies(form)
        for name in ("lr", "count", "flag", "mode"):
            assert e[name].accessibleName() == name
            assert buddies.get(e[name]) == name  # the label is the field's buddy
            assert spoken_name(e[name]) == name
        assert [b.accessibleName() for b in e["betas"].boxes] == ["betas 1", "betas 2"]
        assert buddies.get(e["betas"].boxes[0]) == "betas"
        words = e["padding"]
        assert spoken_name(words.choice) == "padding" and spoken_name(words.box) == "padding"
        assert spoken_name(e["in_channels"]) == "in_channels"
        assert spoken_name(form.auto_boxes["in_channels"]) == "in_channels auto"


def _unnamed_stops(qtbot, window, tab) -> list[str]:
    """The inputs Tab reaches on ``tab`` whose name a reader cannot say, described."""
    page = window.tabs.page(tab)
    window.tabs.setCurrentWidget(page)
    bar = window.tabs.tabBar()
    bar.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(bar.hasFocus, timeout=WAIT_MS)
    missing = []
    for _ in range(200):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        widget = QApplication.focusWidget()
        if widget is bar or widget is None:
            break
        if isinstance(widget, INPUTS + (QAbstractButton,)) and not spoken_name(widget):
            value = widget.currentText() if hasattr(widget, "currentText") else \
                getattr(widget, "text", lambda: "")()
            missing.append(f"{type(widget).__name__} {value!r}")
    else:
        raise AssertionError(f"Tab never came back to the tab bar from {tab}")
    return missing


def test_every_input_tab_reaches_on_every_tab_has_a_name(qtbot, tiny_experiment):
    from workbench.qt.main_window import TABS
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()  # the Train tab's full forms, as in the app
    window = shown_window(qtbot, tiny_experiment)  # the class table, the thumbnails
    missing = {name: _unnamed_stops(qtbot, window, name) for name, *_ in TABS}
    assert not any(missing.values()), {k: v for k, v in missing.items() if v}
    data, train = window.data_panel, window.train_panel
    assert spoken_name(data.folder_edit) == "Dataset folder"
    assert spoken_name(data.settings.height_spin) == "Input height"
    assert spoken_name(data.settings.width_spin) == "Input width"
    assert spoken_name(train.optimizer_editor.form.editors["lr"]) == "lr"
    assert spoken_name(train.optimizer_editor.combo) == "Type:"
    assert isinstance(train.optimizer_editor.form.editors["amsgrad"], QCheckBox)
    assert spoken_name(window.predict_panel.min_conf) == "Minimum confidence"
    assert spoken_name(window.model_panel.preset_combo) == "Preset"
    assert spoken_name(window.model_panel.doctor.list) == "Model doctor findings"
    assert spoken_name(window.augment_panel.preview.class_combo) == "Image class"
    assert spoken_name(window.tune_panel.results.table) == "Trials"
    from workbench.qt.panels.tune.space_editor import COL

    space = window.tune_panel.editor
    assert space.rowCount() and all(
        spoken_name(space.cellWidget(r, COL["Type"])).startswith("Type of ")
        for r in range(space.rowCount()))
