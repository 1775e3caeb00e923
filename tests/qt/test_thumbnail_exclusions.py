"""Excluded images in the Data tab's thumbnail grid: greyed with an "excluded" band, said
in the tooltip, and excluded or included again from the grid's context menu, through the
experiment's ``data.exclude`` as the Health view does."""

from __future__ import annotations

from PySide6.QtCore import SIGNAL
from PySide6.QtGui import QColor

from helpers import make_photo_folder
from workbench.core.data.scan import scan_folder
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.qt.panels.data.marks import ExcludedMarks
from workbench.qt.thumbnails import PathRole, ThumbnailLoader, ThumbnailModel, ThumbnailView


def _grid(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d", classes=("cats", "dogs"), per_class=3)
    index = scan_folder(str(root))
    exp = Experiment(name="marks")
    exp.data.folder = str(root)
    current = CurrentExperiment.of(exp)
    current.set_dataset(index)
    view = ThumbnailView()
    qtbot.addWidget(view)
    loader = ThumbnailLoader(view)
    model = ThumbnailModel(loader, view)
    model.set_samples(list(index.samples), list(index.classes))
    view.setModel(model)
    view.customContextMenuRequested.connect(lambda _pos: None)  # a bare Reveal menu
    marks = ExcludedMarks(view, current)
    # Its menu replaces the one connected before (each would open a menu of its own).
    assert view.receivers(SIGNAL("customContextMenuRequested(QPoint)")) == 1
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    return root, exp, view, marks, loader


def _has_band(view, row) -> bool:
    cell = view.visualRect(view.model().index(row))
    image = view.viewport().grab(cell).toImage()
    red = QColor("#c62828")
    return any(image.pixelColor(x, y) == red for x in range(image.width())
               for y in range(0, image.height(), 2))


def test_the_grid_marks_excluded_images_and_its_menu_excludes_and_includes(qtbot, tmp_path):
    root, exp, view, marks, loader = _grid(qtbot, tmp_path)
    first = view.model().index(0)
    path = first.data(PathRole)
    assert path == str(root / "cats" / "cats_00.png")
    assert not marks.is_excluded(path) and not _has_band(view, 0)

    pos = view.visualRect(first).center()
    menu = marks.menu(pos)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Reveal in file manager", "Exclude from training"]
    menu.actions()[1].trigger()
    assert exp.data.exclude == ["cats/cats_00.png"]
    assert marks.is_excluded(path)
    qtbot.waitUntil(lambda: _has_band(view, 0), timeout=5000)
    assert not _has_band(view, 1)
    assert "Excluded from training" in marks.delegate.tooltip(first)
    assert "Excluded" not in marks.delegate.tooltip(view.model().index(1))

    menu = marks.menu(pos)
    assert [a.text() for a in menu.actions()] == ["Reveal in file manager", "Include again"]
    menu.actions()[1].trigger()
    assert exp.data.exclude == []
    qtbot.waitUntil(lambda: not _has_band(view, 0), timeout=5000)
    loader.shutdown()


def test_the_menu_acts_on_the_selected_images(qtbot, tmp_path):
    root, exp, view, marks, loader = _grid(qtbot, tmp_path)
    exp.data.exclude = ["cats/cats_01.png"]
    model = view.model()
    for row in (0, 1, 2):
        view.selectionModel().select(model.index(row),
                                     view.selectionModel().SelectionFlag.Select)
    menu = marks.menu(view.visualRect(model.index(1)).center())
    assert [a.text() for a in menu.actions()] == [
        "Reveal in file manager", "Exclude from training (2)", "Include again (1)"]
    menu.actions()[1].trigger()
    assert sorted(exp.data.exclude) == ["cats/cats_00.png", "cats/cats_01.png",
                                        "cats/cats_02.png"]
    loader.shutdown()
