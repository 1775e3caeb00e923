"""How the model choosers (Evaluate, Predict) show a model whose classes are not the loaded
dataset's: a note on its item, grey text, listed after the models that match, and a warning
line for the model in use. The classes come from
:func:`~workbench.core.runs.classes.bundle_classes`. Also the file dialog in which Evaluate,
Predict and Export choose a bundle by hand (:func:`ask_bundle`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from workbench.core.runs.classes import same_classes
from workbench.qt.colours import muted_rows_brush

#: How many class names a note lists before "…".
SHOWN = 4
#: The item data role holding a choice's classes (a list, or None when unknown).
CLASSES_ROLE = Qt.ItemDataRole.UserRole + 7


def ask_bundle(parent: QWidget, current: str = "",
               title: str = "Load a trained bundle") -> str:
    """The file dialog choosing a trained bundle, starting beside ``current`` (the bundle in
    use), else in the runs folder; the path chosen, or "" when cancelled."""
    import os

    from workbench.core.io import runs_dir

    start = os.path.dirname(current) if current else str(runs_dir())
    path, _ = QFileDialog.getOpenFileName(parent, title, start,
                                          "Workbench bundles (*.pt);;All files (*)")
    return path


def class_list(classes: list[str], shown: int = SHOWN) -> str:
    """``apple, banana, cherry, …``: the first ``shown`` names."""
    names = list(classes[:shown]) + (["…"] if len(classes) > shown else [])
    return ", ".join(names)


def other_classes_note(classes: list[str]) -> str:
    """The note after a model's item text: ``(other classes: apple, banana, …)``."""
    return f"(other classes: {class_list(classes)})"


def mismatch_warning(model: list[str] | None, dataset: list[str] | None) -> str:
    """A line saying that the model's classes are not the dataset's ("" when they are, or
    either is unknown)."""
    if same_classes(model, dataset):
        return ""
    return (f"This model knows {class_list(model)}; the dataset open has "
            f"{class_list(dataset)}: its predictions are among the model's classes.")


def order_choices(choices: list[tuple[str, str, list[str] | None]],
                  dataset: list[str] | None) -> list[tuple[str, str, list[str] | None]]:
    """``(text, path, classes)`` choices, those that fit ``dataset`` first (each group in
    its own order)."""
    fit = [c for c in choices if same_classes(c[2], dataset)]
    return fit + [c for c in choices if not same_classes(c[2], dataset)]


def add_choice(combo: QComboBox, text: str, path: str, classes: list[str] | None,
               dataset: list[str] | None, row: int = -1) -> int:
    """Add a model to ``combo`` at ``row`` (the end when -1), marked when its classes are not
    ``dataset``'s; returns its row."""
    row = combo.count() if row < 0 else row
    fits = same_classes(classes, dataset)
    combo.insertItem(row, text if fits else f"{text} {other_classes_note(classes)}", path)
    tip = path if fits else (f"{path}\nTrained on other classes: {', '.join(classes)}; the "
                             f"dataset open has {', '.join(dataset)}.")
    combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
    combo.setItemData(row, classes, CLASSES_ROLE)
    if not fits:
        combo.setItemData(row, muted_rows_brush(combo.view()), Qt.ItemDataRole.ForegroundRole)
    return row


def first_fitting(combo: QComboBox, dataset: list[str] | None) -> int:
    """The first row of ``combo`` with a model that fits ``dataset`` (-1 when none)."""
    for i in range(combo.count()):
        if combo.itemData(i) and same_classes(combo.itemData(i, CLASSES_ROLE), dataset):
            return i
    return -1
