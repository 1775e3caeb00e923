"""A Backbone card's "Choose…" button beside its ``weights_file`` field.

With no internet, a weights file downloaded elsewhere and copied over is the only way to
get pretrained weights in: the button opens a file dialog filtered to the formats a
Backbone reads (PyTorch's ``.pth``/``.pt``/``.bin`` and ``.safetensors``), starting where
the current file is (else the Downloads folder), and the chosen path is an ordinary edit
of the field (one undo step, the card's notes look at the file at once).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

#: The file dialog's filter: what :func:`~workbench.core.model.backbone_weights.
#: weights_file_problem` accepts.
WEIGHTS_FILTER = "Weights files (*.pth *.pt *.safetensors *.bin);;All files (*)"


def ask_weights_file(parent: QWidget, current: str) -> str:
    """The weights file the user chooses (``""``: cancelled), starting at ``current``'s
    folder, else ~/Downloads, else home."""
    start = Path(os.path.expanduser(current)).parent if current else Path.home() / "Downloads"
    if not start.is_dir():
        start = Path.home()
    path, _ = QFileDialog.getOpenFileName(parent, "Choose the backbone's pretrained weights "
                                                  "file", str(start), WEIGHTS_FILTER)
    return path


def add_choose_button(form: Any, name: str = "weights_file") -> QPushButton | None:
    """Put a "Choose…" button right of ``form``'s ``name`` line edit, in the same grid
    cell (the field keeps its row across the card); None when the form has no such
    field."""
    field = form.editors.get(name)
    grid = form.layout()
    if not isinstance(field, QLineEdit) or grid is None:
        return None
    index = grid.indexOf(field)
    if index < 0:
        return None
    row, column, rows, columns = grid.getItemPosition(index)
    grid.removeWidget(field)
    box = QWidget(form)
    line = QHBoxLayout(box)
    line.setContentsMargins(0, 0, 0, 0)
    line.addWidget(field, 1)
    button = QPushButton("Choose…", box)
    button.setToolTip("Choose the pretrained weights file (.pth, .pt, .safetensors or .bin) "
                      "you downloaded, e.g. on another machine, or a run's bundle.pt for its "
                      "backbone")
    line.addWidget(button)
    grid.addWidget(box, row, column, rows, columns)

    def choose() -> None:
        path = ask_weights_file(form, field.text().strip())
        if path:
            field.setText(path)
            field.editingFinished.emit()  # as if typed: the form says it changed

    button.clicked.connect(choose)
    return button
