"""The Tune panel's search-space editor: which Experiment fields to search, and their ranges.

:func:`candidate_fields` lists the fields worth searching in an Experiment (learning rate,
weight decay, optimizer type, batch size, epochs, class balance, each Dropout's ``p``, each
Linear's or Conv2d's width, each augmentation's probability) with a sensible default range
around the current value. :class:`SpaceEditor` shows them as a table, one row per field
(tick its name to search it), and turns the ticked rows into the ``params`` of a SPACE.json
(see :mod:`workbench.core.tune.space`), which the core then checks.

The rows follow the Experiment: :meth:`SpaceEditor.set_experiment` lists its fields again
(the panel calls it when the tab is shown and before a study starts), keeping the ticks
and ranges of the fields still there and taking out those of layers or transforms that
are gone, so a study never searches a field of an earlier network.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHeaderView, QTableWidget,
                               QTableWidgetItem, QWidget)

from workbench.core.errors import SpecError
from workbench.core.experiment import Experiment
from workbench.core.tune.advice import BALANCE_PATH, balance_choices
from workbench.core.tune.space import path_exists
from workbench.qt.accessible import name_field
from workbench.qt.keyboard import chain_after, tab_leaves

KINDS = ("float", "int", "categorical")
#: The Field column's cell is the row's tick box too: one column less to fit in the width.
COLUMNS = ("Field", "Type", "Low", "High", "Log", "Choices")
COL = {name: i for i, name in enumerate(COLUMNS)}
#: Optimizers offered when the optimizer type is searched (all in the core's registry).
OPTIMIZER_CHOICES = ["Adam", "AdamW", "SGD"]
#: The widest the Choices column grows to fit its lists, in characters.
MAX_CHOICES_WIDTH = 32
#: Parameter names of augmentation transforms that are a probability (0 to 1).
_PROBABILITY_NAMES = ("p", "prob", "probability")
#: What a user sets in a row, kept when the Experiment's fields are listed again.
_USER_KEYS = ("checked", "type", "low", "high", "log", "choices")
#: The Field item's role holding what the row was listed as (its candidate label; None
#: for a row loaded from a space file), so a path that now names another layer's
#: field does not inherit the old field's range.
_ORIGIN = Qt.ItemDataRole.UserRole
#: The Log item's role keeping its tick while the row is categorical (no box shown).
_LOG = Qt.ItemDataRole.UserRole + 1
#: The Field item's role saying the experiment takes only whole numbers there (a batch
#: size, a width): its Type box offers no float range, whose values would be refused.
_INTEGER = Qt.ItemDataRole.UserRole + 2


def candidate_fields(experiment: Experiment) -> list[dict[str, Any]]:
    """The searchable fields of ``experiment``, each with a default range.

    Returns
    -------
    list of dict
        ``{"path", "label", "type", "low", "high", "log", "choices", "checked"}``; ``path``
        is the dotted SPACE.json path (``model.layers[3].params.p``); the label numbers
        layers and transforms from 1, as the Model and Augment tabs do ("Layer 4 (Dropout)
        p"). The learning rate is ticked by default: it is the one search nearly everyone
        wants.
    """
    out: list[dict[str, Any]] = []

    def add(path: str, label: str, kind: str, low: Any = None, high: Any = None,
            log: bool = False, choices: list | None = None, checked: bool = False) -> None:
        out.append({"path": path, "label": label, "type": kind, "low": low, "high": high,
                    "log": log, "choices": choices, "checked": checked,
                    "integer": kind == "int"})

    params = experiment.optimizer.params or {}
    lr = params.get("lr")
    lr = float(lr) if isinstance(lr, (int, float)) and lr > 0 else 1e-3
    add("optimizer.params.lr", "Learning rate", "float", _round(lr / 10), _round(lr * 10),
        log=True, checked=True)
    add("optimizer.params.weight_decay", "Weight decay", "float", 1e-6, 1e-2, log=True)
    add("optimizer.type", "Optimizer", "categorical",
        choices=_with_current(OPTIMIZER_CHOICES, experiment.optimizer.type))
    bs = int(experiment.data.batch_size)
    add("data.batch_size", "Batch size", "int", max(1, bs // 4), max(2, bs * 2), log=True)
    epochs = int(experiment.training.epochs)
    add("training.epochs", "Epochs", "int", max(1, epochs // 2), max(2, epochs * 2))
    add(BALANCE_PATH, "Class balance", "categorical", choices=balance_choices())
    for i, layer in enumerate(experiment.model.layers):
        p = layer.params or {}
        where = f"model.layers[{i}]"
        if layer.type.startswith("Dropout") and isinstance(p.get("p"), (int, float)):
            add(f"{where}.params.p", f"Layer {i + 1} ({layer.type}) p", "float", 0.0, 0.7)
        for width in ("out_features", "out_channels"):
            value = p.get(width)
            # None is the output layer's "number of classes": not a width to search.
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                add(f"{where}.params.{width}", f"Layer {i + 1} ({layer.type}) {width}", "int",
                    max(1, value // 4), max(2, value * 2), log=True)
    for i, t in enumerate(experiment.augment.transforms):
        for name, value in (t.params or {}).items():
            if name.lower() in _PROBABILITY_NAMES and isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                add(f"augment.transforms[{i}].params.{name}",
                    f"Augment {i + 1} ({t.type}) {name}", "float", 0.0, 1.0)
    return out


def _round(x: float) -> float:
    return float(f"{x:.3g}")


def _with_current(choices: list[str], current: str) -> list[str]:
    return choices if current in choices else [current, *choices]


class SpaceEditor(QTableWidget):
    """A table of :func:`candidate_fields`: tick a row's field name to search that field.

    Low, High and Choices are typed as text (choices comma-separated) and read by
    :meth:`space_params`, which names the row and cell of any value it cannot read.

    Signals
    -------
    edited()
        A row was ticked or a range changed.
    width_wanted()
        :meth:`preferred_width` changed (other fields, longer choices loaded).
    """

    edited = Signal()
    width_wanted = Signal()

    def __init__(self, experiment: Experiment, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        tab_leaves(self)  # arrows move between cells, Space ticks, F2 edits
        self.setAccessibleName("Search space")  # a screen reader's name for the table
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.horizontalHeaderItem(COL["Field"]).setToolTip("Tick a field to search it")
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        # One line a row, never wrapped into a cut second line; cut in the middle ("…"): a
        # field's name begins with its layer and ends with its parameter, which tell it apart.
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL["Field"], QHeaderView.ResizeMode.Stretch)
        for name in ("Type", "Log"):
            header.setSectionResizeMode(COL[name], QHeaderView.ResizeMode.ResizeToContents)
        # Ranges and choices are short; the field names get the width that is left. The
        # Choices column shows the offered optimizers whole (it read "Adam, Adam…").
        digits = self.fontMetrics().horizontalAdvance("0.00001") + 16
        for name, width in (("Low", digits), ("High", digits),
                            ("Choices", self.choices_width(", ".join(OPTIMIZER_CHOICES)))):
            header.setSectionResizeMode(COL[name], QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(COL[name], width)
        self._choices_width = self.columnWidth(COL["Choices"])  # wanted, when there is room
        self._wanted = 0  # the preferred_width said with width_wanted
        self.paths: list[str] = []
        self._filling = False
        self.itemChanged.connect(self._on_item_changed)
        self.set_experiment(experiment)

    def choices_width(self, text: str) -> int:
        """Width of the Choices column that shows ``text`` whole (at most
        :data:`MAX_CHOICES_WIDTH` characters' worth: longer lists end in "…", whole in the
        cell's tooltip)."""
        metrics = self.fontMetrics()
        return min(metrics.horizontalAdvance(text),
                   metrics.averageCharWidth() * MAX_CHOICES_WIDTH) + 16

    def field_width(self) -> int:
        """Width the Field column needs to show every field name whole."""
        metrics = self.fontMetrics()
        items = [self.item(r, COL["Field"]) for r in range(self.rowCount())]
        return max((metrics.horizontalAdvance(i.text()) for i in items if i is not None),
                   default=0) + 40  # box

    def preferred_width(self) -> int:
        """Width of the whole table with every field name whole (no horizontal scrolling)."""
        others = sum(self.columnWidth(c) for c in range(self.columnCount())
                     if c not in (COL["Field"], COL["Choices"])) + self._choices_width
        return (self.field_width() + others + self.verticalScrollBar().sizeHint().width()
                + 2 * self.frameWidth())

    # -- experiment -> rows ----------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> list[str]:
        """List ``experiment``'s fields, keeping what the user set (tick, type, range,
        choices) on the fields still there.

        A row of a layer or transform that is gone (or whose path now names another
        layer's field) is taken out; a row loaded from a space file stays while its path
        still leads somewhere (the core checks it when the study starts).

        Returns
        -------
        list of str
            The names of the ticked rows taken out (to tell the user), in table order.
        """
        kept = self._rows()
        fields = candidate_fields(experiment)
        for f in fields:
            old = kept.get(f["path"])
            if old is not None and old["origin"] in (None, f["label"]):
                f.update({k: old[k] for k in _USER_KEYS})
        offered = {f["path"]: f for f in fields}
        dropped = []
        for path, row in kept.items():
            if path in offered and row["origin"] in (None, offered[path]["label"]):
                continue
            if path not in offered and row["origin"] is None and path_exists(experiment,
                                                                                 path):
                fields.append(row)
            elif row["checked"]:
                dropped.append(row["label"])
        self._fill(fields)
        return dropped

    def set_params(self, params: dict[str, Any],
                   unchecked: dict[str, Any] | None = None) -> None:
        """Tick exactly the rows of SPACE.json ``params`` (adding rows for unknown paths);
        ``unchecked`` (:meth:`unchecked_params`) gives unticked rows their ranges (a type
        or choices of the wrong kind, a hand edit, are left at float and none)."""
        rows = self._rows()
        for row in rows.values():
            row["checked"] = False
        for specs, checked in ((unchecked or {}, False), (params, True)):
            for path, spec in specs.items():
                row = rows.setdefault(path, {"path": path, "label": path, "origin": None})
                kind, choices = spec.get("type"), spec.get("choices")
                row.update({"checked": checked,
                            "type": kind if isinstance(kind, str) else "float",
                            "low": spec.get("low"), "high": spec.get("high"),
                            "log": bool(spec.get("log", False)),
                            "choices": choices if isinstance(choices, list) else None})
        self._fill(list(rows.values()))

    def unchecked_params(self) -> dict[str, Any]:
        """The unticked rows' ranges as typed (``{path: {"type", "low", "high", "log",
        "choices"}}``, a cell that is not a value as its text), kept with the session so a
        range set aside for now is there after a restart."""
        return {path: {k: row[k] for k in ("type", "low", "high", "log", "choices")}
                for path, row in self._rows().items() if not row["checked"]}

    def _fill(self, fields: list[dict[str, Any]]) -> None:
        self._filling = True
        try:
            self.setRowCount(0)
            self.paths = []
            for f in fields:
                self._add_row(f)
        finally:
            self._filling = False
        # The Type boxes are made after the window: Tab reached them after the whole tab.
        chain_after(self, [self.cellWidget(r, COL["Type"]) for r in range(self.rowCount())])
        # Loaded choices may be longer than the optimizers offered: widen, never narrow.
        texts = [self.item(r, COL["Choices"]).text() for r in range(self.rowCount())]
        self._choices_width = max([self._choices_width]
                                  + [self.choices_width(t) for t in texts])
        self._fit_columns()
        if self.preferred_width() != self._wanted:  # the table may be given more room
            self._wanted = self.preferred_width()
            self.width_wanted.emit()

    def _fit_columns(self) -> None:
        """The field names first: where the table is too narrow for every column whole
        (a large font), Choices (one row's, whole in its tooltip) gives up its width down to
        its title's; only then are the names cut, in the middle."""
        others = sum(self.columnWidth(c) for c in range(self.columnCount())
                     if c not in (COL["Field"], COL["Choices"]))
        room = self.viewport().width() - others - self.field_width()
        least = self.fontMetrics().horizontalAdvance("Choices") + 16
        self.setColumnWidth(COL["Choices"], max(least, min(self._choices_width, room)))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if not self._filling:
            self._fit_columns()

    def _add_row(self, f: dict[str, Any]) -> None:
        r = self.rowCount()
        self.insertRow(r)
        self.paths.append(f["path"])
        label = QTableWidgetItem(f.get("label") or f["path"])
        label.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        label.setCheckState(Qt.CheckState.Checked if f.get("checked")
                            else Qt.CheckState.Unchecked)
        label.setToolTip(f"{label.text()}: {f['path']}")
        # A candidate's label; None for a row from a space file (kept by :meth:`_rows`).
        label.setData(_ORIGIN, f.get("origin", f.get("label")))
        label.setData(_INTEGER, bool(f.get("integer")))
        self.setItem(r, COL["Field"], label)
        combo = name_field(None, QComboBox(), f"Type of {label.text()}")
        kind = f.get("type") or "float"
        # An integer field is searched as an int range or choices; a float range loaded
        # from a file stays shown as it is (Start then says why it is refused).
        combo.addItems([k for k in KINDS if k != "float" or not f.get("integer")
                        or kind == "float"])
        if f.get("integer"):
            combo.setToolTip("This field takes whole numbers: an int range or choices")
        combo.setCurrentText(kind)
        self.setCellWidget(r, COL["Type"], combo)
        for col, key in (("Low", "low"), ("High", "high")):
            value = f.get(key)
            self.setItem(r, COL[col], QTableWidgetItem("" if value is None else _text(value)))
        log = QTableWidgetItem()
        log.setData(_LOG, bool(f.get("log")))
        self.setItem(r, COL["Log"], log)
        choices = f.get("choices")
        text = ", ".join(_text(c) for c in choices) if choices else ""
        item = QTableWidgetItem(text)
        item.setToolTip(text)
        self.setItem(r, COL["Choices"], item)
        self._show_log(r)
        path = f["path"]
        combo.currentTextChanged.connect(lambda _t: self._on_type_changed(path))

    def _show_log(self, r: int) -> None:
        """The Log tick box of a range row; none on a categorical row (choices have no
        scale), which keeps its tick for when it is a range again."""
        item = self.item(r, COL["Log"])
        if self.cellWidget(r, COL["Type"]).currentText() == "categorical":
            item.setData(_LOG, self._log_ticked(item))
            item.setData(Qt.ItemDataRole.CheckStateRole, None)  # no box drawn
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setToolTip("Choices have no scale")
        else:
            if item.data(Qt.ItemDataRole.CheckStateRole) is None:
                item.setCheckState(Qt.CheckState.Checked if item.data(_LOG)
                                   else Qt.CheckState.Unchecked)
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip("Search the range on a log scale")

    @staticmethod
    def _log_ticked(item: QTableWidgetItem) -> bool:
        if item.data(Qt.ItemDataRole.CheckStateRole) is None:
            return bool(item.data(_LOG))
        return item.checkState() == Qt.CheckState.Checked

    def _on_type_changed(self, path: str) -> None:
        if path in self.paths:
            self._show_log(self.row_of(path))
        self.edited.emit()

    # -- rows -> SPACE.json ----------------------------------------------------------------
    def row_of(self, path: str) -> int:
        return self.paths.index(path)

    def label_of(self, path: str) -> str:
        """The name a row shows for ``path`` ("Learning rate"); the path itself for a field
        not listed (a stored trial's field the Experiment no longer has)."""
        if path in self.paths:
            return self.item(self.row_of(path), COL["Field"]).text()
        return path

    def set_checked(self, path: str, checked: bool = True) -> None:
        self.item(self.row_of(path), COL["Field"]).setCheckState(
            Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_cell(self, path: str, column: str, text: str) -> None:
        """Type ``text`` into a cell (Low, High or Choices) or pick a Type."""
        r = self.row_of(path)
        if column == "Type":
            self.cellWidget(r, COL["Type"]).setCurrentText(text)
        else:
            self.item(r, COL[column]).setText(text)

    def checked_paths(self) -> list[str]:
        return [p for r, p in enumerate(self.paths)
                if self.item(r, COL["Field"]).checkState() == Qt.CheckState.Checked]

    def space_params(self) -> dict[str, Any]:
        """The ticked rows as SPACE.json ``params``.

        Raises
        ------
        SpecError
            ``space.params.<path>.<low|high|choices>`` when a cell is not a value.
        """
        params: dict[str, Any] = {}
        for path in self.checked_paths():
            row = self._read_row(self.row_of(path))
            spec: dict[str, Any] = {"type": row["type"]}
            where = f"space.params.{path}"
            if row["type"] == "categorical":
                text = self.item(self.row_of(path), COL["Choices"]).text()
                spec["choices"] = [_value(t.strip()) for t in text.split(",") if t.strip()]
            else:
                for key in ("low", "high"):
                    text = self.item(self.row_of(path), COL[key.title()]).text().strip()
                    spec[key] = _number(text, row["type"], f"{where}.{key}")
                if row["log"]:
                    spec["log"] = True
            params[path] = spec
        return params

    def _read_row(self, r: int) -> dict[str, Any]:
        choices = self.item(r, COL["Choices"]).text()
        low, high = (self.item(r, COL[c]).text().strip() for c in ("Low", "High"))
        field = self.item(r, COL["Field"])
        return {"path": self.paths[r], "label": field.text(), "origin": field.data(_ORIGIN),
                "integer": bool(field.data(_INTEGER)),
                "checked": field.checkState() == Qt.CheckState.Checked,
                "type": self.cellWidget(r, COL["Type"]).currentText(),
                "low": _value(low) if low else None, "high": _value(high) if high else None,
                "log": self._log_ticked(self.item(r, COL["Log"])),
                "choices": [_value(t.strip()) for t in choices.split(",") if t.strip()] or None}

    def _rows(self) -> dict[str, dict[str, Any]]:
        return {self.paths[r]: self._read_row(r) for r in range(self.rowCount())}

    def _on_item_changed(self, _item: QTableWidgetItem) -> None:
        if not self._filling:
            self.edited.emit()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _value(text: str) -> Any:
    """A typed cell as a JSON scalar when it reads as one (``0.5``, ``true``), else text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def _number(text: str, kind: str, where: str) -> int | float:
    word = "an integer" if kind == "int" else "a number"
    if not text:
        raise SpecError(where, f"empty: type {word}")
    try:
        value = float(text)
    except ValueError:
        raise SpecError(where, f"expected {word}, got {text!r}") from None
    if kind == "int":
        if not value.is_integer():
            raise SpecError(where, f"expected {word}, got {text!r}")
        return int(value)
    return value
