"""The Predict panel's sort, filters and Export CSV (:class:`FilterActions`): what the filters
hide, said where the rows are, and what Export CSV writes under them.

The filters (Class, Min. confidence) may hide every row: the list is then blank, so a line
above it says how many rows are hidden and offers to clear the filters. A Class filter on a
class that no row is predicted as any more (another model, without that class) is cleared,
and the status line says so. Export CSV writes
the rows shown (sorted and filtered, as the button's tooltip says); when the filters hide
every row it says so instead of "classify some images first".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from workbench.qt.common import MessageLabel
from workbench.qt.panels.predict.model import SORT_MODES, PredictionItem

#: The Class filter's first choice: no filter.
ALL_CLASSES = "All classes"


def _rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


def filters_text(proxy: Any) -> str:
    """The filters in use, in words: "class cat, confidence at least 90%"; "" for none."""
    parts = []
    if proxy.class_name is not None:
        parts.append(f"class {proxy.class_name}")
    if proxy.min_confidence > 0:
        parts.append(f"confidence at least {proxy.min_confidence * 100:.0f}%")
    return ", ".join(parts)


def hidden_text(shown: int, total: int, filters: str) -> str:
    """The empty-view line (every row hidden) or how many of the rows the filters hide;
    "" when they hide none."""
    hidden = total - shown
    if hidden <= 0 or not filters:
        return ""
    if shown == 0:
        return (f"No prediction matches the filters ({filters}): {_rows(hidden)} hidden. "
                f"Clear the filters to see them.")
    return f"Showing {shown} of {total} rows: the filters ({filters}) hide {hidden}."


class FilterNote(QWidget):
    """A line saying how many rows the filters hide, with a "Clear filters" button; hidden
    while they hide none.

    Signals
    -------
    clear_requested()
        "Clear filters" was pressed.
    """

    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = MessageLabel("")
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setToolTip("Show every row: all classes, any confidence")
        self.clear_button.clicked.connect(self.clear_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.clear_button)
        self.hide()

    def update_from(self, proxy: Any) -> None:
        """Show what ``proxy`` (a PredictionFilter) hides of its source's rows."""
        total = proxy.sourceModel().rowCount()
        text = hidden_text(proxy.rowCount(), total, filters_text(proxy))
        self.label.show_message(text, "warning" if proxy.rowCount() == 0 else "info")
        self.setVisible(bool(text))


class FilterActions:
    """The Predict panel's sort, filters and Export CSV (mixed into
    :class:`~.panel.PredictPanel`, which builds the combo boxes, the proxy and the model)."""

    def set_sort(self, mode: str) -> None:
        """Sort the rows by ``added``, ``name``, ``class`` or ``confidence``."""
        self.sort_combo.setCurrentIndex(SORT_MODES.index(mode))

    def set_class_filter(self, name: str | None) -> None:
        """Show only images predicted as ``name`` (None: all)."""
        index = self.class_combo.findText(name) if name else 0
        self.class_combo.setCurrentIndex(max(0, index))

    def set_min_confidence(self, fraction: float) -> None:
        """Show only images whose top class has at least this probability (0..1)."""
        self.min_conf.setValue(round(fraction * 100))

    @Slot()
    def clear_filters(self) -> None:
        """Show every row: all classes, any confidence."""
        self.set_class_filter(None)
        self.set_min_confidence(0)

    def shown_items(self) -> list[PredictionItem]:
        """The rows as the view shows them (sorted and filtered)."""
        return self.proxy.shown_items()

    @Slot(int)
    def _on_class_filter_changed(self, index: int) -> None:
        text = self.class_combo.itemText(index)
        self.proxy.set_class_name(None if index <= 0 else text)

    def _refresh_classes(self) -> str:
        """List the rows' predicted classes in the Class filter; returns what became of a
        filter on a class no row is predicted as now ("" when nothing did)."""
        current, name = self.class_combo.currentText(), self.proxy.class_name
        classes = self.model.classes()
        if [self.class_combo.itemText(i) for i in range(1, self.class_combo.count())] == classes:
            return ""
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems([ALL_CLASSES, *classes])
        self.class_combo.setCurrentIndex(max(0, self.class_combo.findText(current)))
        self.class_combo.blockSignals(False)
        self._on_class_filter_changed(self.class_combo.currentIndex())
        if name is None or name in classes or not self.model.items:
            return ""
        return f"the Class filter ({name}) was cleared: no row is predicted as {name} now"

    def _unfilter_other_classes(self) -> str:
        """Clear the Class filter when the model in use has no such class (its rows are
        about to be classified with it); returns what was done, for the status line."""
        name, classes = self.proxy.class_name, self.model_combo.bundle_classes()
        if name is None or classes is None or name in classes:
            return ""
        self.set_class_filter(None)
        return f"the Class filter ({name}) was cleared: the model has no class {name}"

    def _ask_csv_path(self) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv",
                                              "CSV files (*.csv);;All files (*)")
        return path

    def export_csv(self, path: str | None = None) -> str:
        """Write the rows shown (sorted and filtered) to a CSV file (asked for when ``path``
        is None); the status line says what was written, or why nothing was.

        Returns the path written, "" when nothing was (no rows, dialog cancelled, error).
        """
        return export_rows(self, path)


def export_rows(panel: Any, path: str | None) -> str:
    """Write ``panel``'s rows shown to a CSV file (asked for when ``path`` is None); say
    what was written, or why nothing was, on its status line. Returns the path, or ""."""
    from workbench.qt.panels.predict.model import csv_counts, predictions_csv

    items = panel.shown_items()
    total = panel.model.rowCount()
    if not items:
        text = ("Nothing to export: classify some images first." if not total else
                f"Nothing to export: the filters hide every row ({total}). Clear them to "
                f"export.")
        panel.status.show_message(text, "warning")
        return ""
    path = path or panel._ask_csv_path()
    if not path:
        return ""
    from workbench.core.io import atomic_write_text

    try:
        atomic_write_text(Path(path), predictions_csv(items))
    except OSError as e:
        panel.status.show_message(f"Cannot write {path}: {e.strerror or e}. Choose another "
                                  f"folder.", "error")
        return ""
    hidden = total - len(items)
    note = f" (the rows shown: the filters hide {hidden})" if hidden else ""
    panel.status.show_message(f"Wrote {csv_counts(items)} to {path}{note}", "ok")
    return str(path)


__all__ = ["FilterActions", "FilterNote", "export_rows", "filters_text", "hidden_text"]
