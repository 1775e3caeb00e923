"""The Evaluate panel's exports of its result: the CSV tables and a PNG of the view on show.

Plain functions over the panel (:class:`~workbench.qt.panels.evaluate.panel.EvaluatePanel`),
which asks for the folder or file name through its replaceable ``ask_folder`` and
``ask_png_path`` and says on its message line what was written, or why not.
"""

from __future__ import annotations

import os
from typing import Any


def export_csv(panel: Any) -> list[str]:
    """Ask for a folder and write per_class.csv, confusion.csv and predictions.csv there."""
    if panel.result is None:
        return []
    folder = panel.ask_folder(panel, "Export the evaluation as CSV files into", "")
    if not folder:
        return []
    from workbench.core.errors import WorkbenchError

    try:
        written = [str(p) for p in panel.result.write_csvs(folder)]
    except WorkbenchError as e:
        panel.message.show_message(str(e), "error")
        return []
    panel.message.show_message(f"Wrote {', '.join(os.path.basename(p) for p in written)} "
                               f"in {folder}", "ok")
    return written


def save_png(panel: Any) -> str:
    """Ask for a file name and save the view on show as a PNG image."""
    if panel.result is None:
        return ""
    names = {panel.per_class: "per_class", panel.confusion: "confusion",
             panel.calibration_page: "calibration", panel.worst: "largest_losses"}
    path = panel.ask_png_path(panel, f"{names[panel.results.currentWidget()]}.png")
    if not path:
        return ""
    if not path.lower().endswith(".png"):
        path += ".png"
    from workbench.qt.panels.evaluate.figures import save_figure

    if not save_figure(panel, path):
        panel.message.show_message(f"Cannot write {path}: choose a folder you can write to",
                                   "error")
        return ""
    panel.message.show_message(f"Saved {path}", "ok")
    return path
