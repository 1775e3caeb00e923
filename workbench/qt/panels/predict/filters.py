"""What the Predict panel's filters hide, said where the rows are, and what Export CSV writes
under them.

The filters (Class, Min. confidence) may hide every row: the list is then blank, so a line
above it says how many rows are hidden and offers to clear the filters. Export CSV writes
the rows shown (sorted and filtered, as the button's tooltip says); when the filters hide
every row it says so instead of "classify some images first".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from workbench.qt.common import MessageLabel


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


__all__ = ["FilterNote", "export_rows", "filters_text", "hidden_text"]
