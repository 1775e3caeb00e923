"""The runs table's model: one row per :class:`~workbench.core.runs.store.RunRecord`.

Cells show formatted text (``3 min 12 s``, ``87.5``); :data:`SORT_ROLE` gives the raw value
so a :class:`~PySide6.QtCore.QSortFilterProxyModel` sorts numbers as numbers and dates as
dates. The name cell is editable: an edit is announced with :attr:`RunsTableModel.name_edited`
and the panel writes it to the run's folder.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QApplication

from workbench.core.data.sizes import hw_text
from workbench.core.runs.names import dataset_label
from workbench.core.runs.rate_history import rates_text
from workbench.core.runs.store import RunRecord, read_run_info
from workbench.core.train.metric_words import metric_text

from workbench.qt.colours import level_colour, rows_palette

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
#: What the filter matches: the cell's text, but a run's notes whole (the cell shows their
#: first line, and a word on the second was not found).
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
#: The table's columns: (key, header).
COLUMNS = (("name", "Name"), ("dataset", "Dataset"), ("created", "Date"), ("status", "Status"),
           ("epochs", "Epochs"), ("val_acc", "Val acc %"), ("bal_acc", "Bal acc %"),
           ("duration", "Duration"), ("optimizer", "Optimizer"), ("lr", "LR"),
           ("batch", "Batch"), ("preset", "Preset"), ("notes", "Notes"))
COLUMN = {key: i for i, (key, _) in enumerate(COLUMNS)}
#: Header tooltips, for the columns whose words need one.
HEADER_TIPS = {"val_acc": "val_acc: the saved model's validation accuracy, as Evaluate gives "
                          "it on the validation split and Tune for a study of val_acc. Hover a "
                          "cell for its epoch and the run's best epoch.",
               "bal_acc": "val_bal_acc: the saved model's validation balanced accuracy (the "
                          "mean of each class's recall: Evaluate's macro recall on the "
                          "validation split), as Tune gives it for a study of val_bal_acc. "
                          "Blank where the run did not record it. Hover a cell for the run's "
                          "class balance.",
               "dataset": "The dataset the run trained on, named as run names begin (its "
                          "folder's name). Hover a cell for its folder.",
               "preset": "The model preset the run started from. After \"·\", a backbone's "
                         "weights: pretrained (loaded from a weights file) or random (none "
                         "found). Hover a cell for the file and how the features were made."}
_NUMERIC = {"epochs", "val_acc", "bal_acc", "duration", "lr", "batch"}
# Statuses a person should notice: a run that did not end as planned. Their colours are
# the app's levels, readable on the table's rows, light or dark (colours.level_colour).
_STATUS_LEVELS = {"running": "accent", "diverged": "error", "out_of_memory": "error",
                  "failed": "error", "interrupted": "warning"}
_MISSING = -math.inf  # unknown numbers sort below every known one

Index = QModelIndex | QPersistentModelIndex


def format_duration(seconds: float | None) -> str:
    """``"0.2 s"``, ``"45 s"``, ``"3 min 12 s"``, ``"2 h 05 min"``; ``""`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    if 0 < seconds < 0.95:  # a run of one tiny epoch: "0 s" read as nothing done
        return f"{seconds:.1f} s" if seconds >= 0.05 else "< 0.1 s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def format_date(iso: str) -> str:
    """An ISO 8601 time as ``"2024-05-01 14:03"`` (the text itself when it is no time)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso or ""


def model_choice_text(r: RunRecord) -> str:
    """A run's saved model as a model chooser lists it: ``name · date · val 98.1%
    (epoch 12)``, so two runs never read alike."""
    parts = [r.name, format_date(r.created)]
    if r.model_val_acc is not None:
        parts.append(f"val {r.model_val_acc * 100:.1f}%" +
                     (f" (epoch {r.model_epoch})" if r.model_epoch is not None else ""))
    elif r.model_epoch is not None:
        parts.append(f"epoch {r.model_epoch}")
    return " · ".join(p for p in parts if p)


def model_choices(root: str | Path | None = None) -> list[tuple[str, str, list[str] | None]]:
    """The saved runs under ``root`` (default: the app's runs folder) that have a bundle, as
    the model choosers (Evaluate, Predict) list them: ``(text, bundle path, its classes)``.
    It reads the runs folder and each bundle's classes (cached): call it off the GUI
    thread where it may be large."""
    from workbench.core.runs.classes import bundle_classes
    from workbench.core.runs.store import RunStore

    store = RunStore(root)
    store.refresh()
    return [(model_choice_text(r), r.bundle_path, bundle_classes(r.bundle_path))
            for r in store.runs() if r.has_bundle]


def bundle_choice_text(path: str) -> str:
    """A bundle file as a model chooser lists it: the run's text when it is a run's
    bundle.pt; a run's checkpoint as the run with the checkpoint's own epoch and score
    (``seedcnn · date · val 88.8% (epoch 10) · checkpoint best.pt``); else ``file name
    (folder) · date`` (``· moved or deleted`` when the file is gone)."""
    from workbench.core.runs.classes import checkpoint_epoch
    from workbench.core.runs.record import is_run_folder, read_record

    p = Path(path)
    if p.name == "bundle.pt" and is_run_folder(p.parent):
        return model_choice_text(read_record(p.parent))
    run = p.parent.parent
    saved = checkpoint_epoch(p) if p.parent.name == "checkpoints" and \
        is_run_folder(run) else None
    if saved is not None:  # (last.pt: the model of a run that wrote no bundle)
        r, acc = read_record(run), saved[1].get("val_acc")
        r.model_epoch, r.model_val_acc = saved[0], acc if isinstance(acc, float) and \
            math.isfinite(acc) else None
        return f"{model_choice_text(r)} · checkpoint {p.name}"
    where = f"{p.name} ({p.parent.name})" if p.parent.name else p.name
    try:
        stamp = datetime.fromtimestamp(os.path.getmtime(p)).isoformat(timespec="seconds")
    except OSError:
        return f"{where} · moved or deleted"
    return f"{where} · {format_date(stamp)}"


def model_description(r: RunRecord) -> str:
    """What the run's saved model is, for a person: which epoch's weights, what they scored,
    and the run's best epoch by its monitor (:func:`best_text`) when that is another one."""
    scored = _scores(r)
    if r.checkpoint_model and r.model_epoch is not None:
        text = (f"No bundle.pt (the run was cut off before writing one): Predict and Evaluate "
                f"open its checkpoint, {r.model_file}, which holds epoch {r.model_epoch}'s "
                f"weights{scored}. Continue in Train to go on from it and save a bundle.")
    elif not r.has_bundle:
        text = "No saved model (bundle.pt)."
    elif r.model_epoch is None:
        text = "The saved model (bundle.pt)."
    else:
        by = f" by {r.best_metric}" if r.best_metric else ""
        which = (f"the best epoch's{by}, restored" if r.model_restored_best
                 else "the last finished epoch's")
        if by and r.best_epoch == r.model_epoch and not r.model_restored_best:
            which += f", the best{by}"
        text = (f"The saved model (bundle.pt) holds epoch {r.model_epoch}'s weights "
                f"({which}){scored}.")
    best = best_text(r)
    return f"{text} {best}." if best else text


def _scores(r: RunRecord) -> str:
    """": validation accuracy 99.1%, balanced accuracy 75.0%" of the run's model."""
    scores = (("validation accuracy", r.model_val_acc),
              ("balanced accuracy", r.model_val_bal_acc))
    parts = [f"{words} {value * 100:.1f}%" for words, value in scores if value is not None]
    return f": {', '.join(parts)}" if parts else ""


def best_text(r: RunRecord) -> str:
    """The run's best epoch where its model holds another epoch's weights: "Best epoch by
    val_bal_acc (the run's monitor): epoch 3, 100.0%", as run.json says it; for a run from
    before run.json said, its highest validation accuracy. "" when there is nothing else."""
    if r.best_metric and r.best_epoch is not None:
        if r.best_epoch == r.model_epoch:
            return ""
        value = "" if r.best_value is None else f", {metric_text(r.best_metric, r.best_value)}"
        return f"Best epoch by {r.best_metric} (the run's monitor): epoch {r.best_epoch}{value}"
    if r.best_val_acc is None or (r.model_val_acc is not None
                                  and abs(r.best_val_acc - r.model_val_acc) <= 1e-12):
        return ""
    another = " (another epoch)" if r.model_epoch is not None else ""
    return f"Highest validation accuracy: {r.best_val_acc * 100:.1f}%{another}"


def balance_text(r: RunRecord) -> str:
    """"class balance: the weighted sampler" (the HTML report's words; "" where the run
    does not say)."""
    from workbench.core.data.stats import BALANCE_NAMES

    return f"class balance: {BALANCE_NAMES.get(r.balance, r.balance)}" if r.balance else ""


def balanced_description(r: RunRecord) -> str:
    """The Bal acc % cell's tooltip: what the figure is, and the run's class balance."""
    if r.model_val_bal_acc is None:
        text = ("No balanced accuracy recorded for this run's model (no validation split, "
                "no model, or a run from before Workbench recorded it).")
    else:
        epoch = "" if r.model_epoch is None else f" (epoch {r.model_epoch}'s weights)"
        text = (f"The saved model's{epoch} validation balanced accuracy, val_bal_acc: the "
                f"mean of each class's recall.")
    balance = balance_text(r)
    return f"{text}\n{balance[0].upper()}{balance[1:]}." if balance else text


def backbone_word(r: RunRecord) -> str:
    """Whether the run's backbone had "pretrained" or "random" weights
    (both, for two backbones that differ); "" without a backbone, or not recorded."""
    found = re.findall(r"\b(pretrained|random) ?[,(]", r.backbone_weights)
    return ", ".join(dict.fromkeys(found))


def backbone_description(r: RunRecord) -> str:
    """Where the run's backbone weights came from, how the features were made (run.json's
    words): the first lines of the Preset cell's tooltip."""
    lines = [f"Backbone weights: {r.backbone_weights}" if r.backbone_weights else "",
             f"Backbone features: {r.feature_mode}" if r.feature_mode else ""]
    return "\n".join(line for line in lines if line)


def preset_text(r: RunRecord) -> str:
    """The Preset column: the preset, and its backbone's weights after it ("resnet18 ·
    pretrained"). One column for both: a Backbone column of its own pushed the Notes column
    out of sight at 1100x706."""
    return " · ".join(part for part in (r.preset, backbone_word(r)) if part)


def dataset_text(r: RunRecord) -> str:
    """The Dataset column: the dataset's short name, as run names begin
    (:func:`~workbench.core.runs.names.dataset_label`); "" where the run does not say."""
    return "" if r.data_folder is None else dataset_label(r.data_folder)


def _epochs(r: RunRecord) -> str:
    return f"{r.epochs_done}/{r.epochs_planned}" if r.epochs_planned else str(r.epochs_done)


_TEXT: dict[str, Callable[[RunRecord], str]] = {
    "name": lambda r: r.name,
    "dataset": dataset_text,
    "created": lambda r: format_date(r.created),
    "status": lambda r: r.status.replace("_", " ") + (" ⚠" if r.problem else ""),
    "epochs": _epochs,
    # The saved model's (bundle.pt), which Evaluate and Predict load: not the best epoch's.
    "val_acc": lambda r: "" if r.model_val_acc is None else f"{r.model_val_acc * 100:.1f}",
    "bal_acc": lambda r: ("" if r.model_val_bal_acc is None
                          else f"{r.model_val_bal_acc * 100:.1f}"),
    "duration": lambda r: format_duration(r.duration_s),
    "optimizer": lambda r: r.optimizer,
    "lr": lambda r: "" if r.lr is None else f"{r.lr:.3g}",
    "batch": lambda r: "" if r.batch_size is None else str(r.batch_size) + (
        f" × {r.processes}" if r.processes > 1 else ""),
    "preset": preset_text,
    "notes": lambda r: r.notes.splitlines()[0] if r.notes.strip() else "",
}

_SORT: dict[str, Callable[[RunRecord], Any]] = {
    "name": lambda r: r.name.lower(),
    "dataset": lambda r: dataset_text(r).lower(),
    "created": lambda r: r.created,
    "status": lambda r: r.status,
    "epochs": lambda r: float(r.epochs_done),
    "val_acc": lambda r: _MISSING if r.model_val_acc is None else r.model_val_acc,
    "bal_acc": lambda r: _MISSING if r.model_val_bal_acc is None else r.model_val_bal_acc,
    "duration": lambda r: _MISSING if r.duration_s is None else r.duration_s,
    "optimizer": lambda r: r.optimizer.lower(),
    "lr": lambda r: _MISSING if r.lr is None else r.lr,
    "batch": lambda r: _MISSING if r.batch_size is None else float(r.batch_size),
    "preset": lambda r: preset_text(r).lower(),
    "notes": lambda r: r.notes.lower(),
}


def _tooltip(key: str, r: RunRecord, shared: bool = False) -> str:
    if key == "name":
        if shared:
            return (f"{r.path}\nAnother run folder holds a run of this name too (a copied "
                    f"folder?): the folder's name is shown after it. Rename one (double-click"
                    f" or F2) to tell them apart in Evaluate and Predict.")
        return r.path
    if key == "status":
        lines = [r.message] if r.message and r.message != r.status else []
        if r.status == "stopped":
            done = _epochs(r)
            lines.insert(0, f"Stopped before its planned end, after {done} epochs: "
                            "Continue in Train trains the epochs left from its last "
                            "checkpoint." if r.epochs_planned else "Stopped before its end.")
        if r.status == "interrupted":
            lines.insert(0, "Its process ended mid-run (it crashed, was killed or the machine "
                            "went down). Continue in Train resumes it from its last "
                            "checkpoint.")
        if r.problem:
            lines.append(f"Could not read everything: {r.problem}")
        if r.device:
            lines.append(f"Device: {r.device}")
        return "\n".join(lines)
    if key == "notes":
        return r.notes
    if key == "dataset" and r.data_folder is not None:
        return r.data_folder or "The built-in demo dataset"
    if key == "val_acc":
        return model_description(r)
    if key == "bal_acc":
        return balanced_description(r)
    if key in ("optimizer", "lr", "batch", "preset"):
        size = hw_text(r.input_size) if r.input_size else "?"  # width first, as everywhere
        settings = f"scheduler: {r.scheduler or '?'}, input size: {size}"
        rates = rates_text(read_run_info(r.path)) if key == "lr" else ""  # when hovered
        settings = f"learning rate: {rates}\n{settings}" if rates else settings
        if r.balance:
            settings += f", {balance_text(r)}"
        backbone = backbone_description(r) if key == "preset" else ""
        if key == "batch" and r.processes > 1:  # torchrun: the batch is each process's
            backbone = (f"{r.batch_size} images a step on each of {r.processes} processes "
                        f"(torchrun; its last session): {r.per_update or '?'} per update")
        return f"{backbone}\n{settings}" if backbone else settings
    return ""


class RunsTableModel(QAbstractTableModel):
    """The runs as table rows (in the order given; sorting is the proxy's job).

    Signals
    -------
    name_edited(path, name)
        The user typed a new name into a run's name cell.
    """

    name_edited = Signal(str, str)

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._records: list[RunRecord] = []
        self._shared: set[str] = set()

    # -- contents ------------------------------------------------------------------------
    def set_records(self, records: list[RunRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self._count_names()
        self.endResetModel()

    def _count_names(self) -> None:
        """The names more than one listed run holds (a copied run folder keeps its name)."""
        seen: dict[str, int] = {}
        for r in self._records:
            key = r.name.casefold()
            seen[key] = seen.get(key, 0) + 1
        self._shared = {key for key, n in seen.items() if n > 1}

    def _shown_name(self, r: RunRecord) -> str:
        if r.name.casefold() in self._shared:
            return f"{r.name}  ({Path(r.path).name})"
        return r.name

    def records(self) -> list[RunRecord]:
        return list(self._records)

    def record(self, row: int) -> RunRecord:
        return self._records[row]

    def row_of(self, path: str) -> int | None:
        for i, r in enumerate(self._records):
            if r.path == path:
                return i
        return None

    def update_record(self, record: RunRecord) -> None:
        """Show ``record`` in place of the row with the same path."""
        row = self.row_of(record.path)
        if row is None:
            return
        self._records[row] = record
        self._count_names()  # a rename may part or join two names: every row's name cell
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._records) - 1,
                                                           len(COLUMNS) - 1))

    def remove_paths(self, paths: list[str]) -> None:
        for path in paths:
            row = self.row_of(path)
            if row is not None:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row]
                self.endRemoveRows()
        self._count_names()
        if self._records:
            column = COLUMN["name"]
            self.dataChanged.emit(self.index(0, column),
                                  self.index(len(self._records) - 1, column))

    # -- Qt model interface --------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(COLUMNS[section][0])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._records[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._shown_name(r) if key == "name" else _TEXT[key](r)
        if role == Qt.ItemDataRole.EditRole:
            return r.name if key == "name" else _TEXT[key](r)
        if role == SORT_ROLE:
            return _SORT[key](r)
        if role == FILTER_ROLE:
            return r.notes if key == "notes" else _TEXT[key](r)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(key, r, r.name.casefold() in self._shared) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            level = _STATUS_LEVELS.get(r.status)
            return QBrush(level_colour(level, rows_palette(QApplication.palette()))) \
                if level else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and COLUMNS[index.column()][0] == "name":
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (role != Qt.ItemDataRole.EditRole or not index.isValid()
                or COLUMNS[index.column()][0] != "name"):
            return False
        r = self._records[index.row()]
        name = str(value).strip()
        if name == r.name:
            return False
        # The panel writes the name to run.json and then updates the row (or says why not).
        self.name_edited.emit(r.path, name)
        return True
