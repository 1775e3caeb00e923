"""The Evaluate panel's model chooser: saved runs with a bundle, plus any bundle loaded.

The runs folder is listed off the GUI thread (:class:`~workbench.core.runs.store.RunStore`);
bundles chosen by hand or saved by a training run stay listed when it is listed again, while
their file is there: a model chosen that is gone (its run deleted) is said (``model_gone``).
A long run name is cut in the middle, so its date, accuracy and epoch stay in sight.
Models trained on other classes than the loaded dataset's (:meth:`ModelChooser.set_dataset_classes`)
are greyed, noted and listed last, and chosen by default only when no other model fits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QPushButton, QStyle,
                               QStyleOptionComboBox, QStylePainter, QWidget)

from workbench.core.runs.classes import bundle_classes, same_classes
from workbench.qt.model_classes import (CLASSES_ROLE, add_choice, ask_bundle, first_fitting,
                                        order_choices)
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.runs.model import bundle_choice_text, model_choices


def fit_choice_text(metrics: QFontMetrics, text: str, width: int) -> str:
    """``text`` (``name · date · val 98.1% (epoch 12)``) within ``width`` pixels: the name
    cut in the middle first, so what tells the models apart after it stays whole."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    name, sep, tail = text.partition(" · ")
    room = width - metrics.horizontalAdvance(sep + tail)
    if not sep or room < metrics.horizontalAdvance("xxxx…xxxx"):
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room) + sep + tail


class ModelCombo(QComboBox):
    """A combo box showing its choice as :func:`fit_choice_text` fits it (whole in the
    list and in the tooltip)."""

    def paintEvent(self, _event: Any) -> None:  # noqa: N802  (Qt override)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = fit_choice_text(self.fontMetrics(), option.currentText,
                                             field.width() - 4)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            self.setToolTip(self.currentText())  # the choice whole, however it is cut
        return super().event(event)


class ModelChooser(QWidget):
    """A combo box of bundles and a "Load bundle…" button.

    Parameters
    ----------
    runs_root
        The runs folder listed (default: the app's runs folder).

    Signals
    -------
    bundle_changed(path)
        Another bundle was chosen ("" when none is).
    runs_listed()
        The runs folder was listed into the combo box.
    model_gone(path)
        The model chosen is no longer there (moved, or its run deleted): the chooser chose
        its own.
    picked()
        The user chose a model (in the list, or Load bundle…), the one chosen or another;
        while ``bundle_changed`` says a change of theirs, :attr:`picking` is true.

    Without a choice of the user's (:meth:`set_bundle`, or picking an item), the chooser
    picks the model given to :meth:`restore` when it is listed, else the first that fits
    the dataset's classes, else the first.
    """

    bundle_changed = Signal(str)
    runs_listed = Signal()
    model_gone = Signal(str)
    picked = Signal()

    def __init__(self, runs_root: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs_root = runs_root
        # The file dialog, replaceable (tests answer it without a person).
        self.ask_bundle: Callable[[QWidget, str], str] = ask_bundle
        self._loaded: list[str] = []  # bundles set by hand or by training, kept on relisting
        self._shut_down = False
        self._runs: list[tuple[str, str, list[str] | None]] = []  # the last listing
        self._shown: tuple | None = None  # (choices, dataset classes) the combo box lists
        self._dataset: list[str] | None = None  # the loaded dataset's classes
        self._restored = ""  # the last session's model, chosen when nothing else is
        self._auto = True  # the current choice was the chooser's, not the user's
        self._picking = False  # bundle_changed is being said of the user's pick
        self._lister = TaskRunner(self, supersede=True)
        self._lister.finished.connect(self._on_runs_listed)
        self.combo = ModelCombo()
        self.combo.setMinimumContentsLength(30)
        self.combo.setPlaceholderText("No saved model yet: train one, or Load bundle…")
        self.combo.currentIndexChanged.connect(self._on_picked)  # a person's: unblocked
        self.combo.activated.connect(self._on_user_chose)
        self.load_button = QPushButton("Load bundle…")
        self.load_button.clicked.connect(self.choose_bundle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.load_button)

    def bundle_path(self) -> str:
        """The chosen bundle's path ("" when none)."""
        return self.combo.currentData() or ""

    def bundle_paths(self) -> list[str]:
        """Every bundle offered, in the combo box's order."""
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    @property
    def user_chose(self) -> bool:
        """Whether the model chosen is the user's choice, not the chooser's own."""
        return not self._auto and bool(self.bundle_path())

    @property
    def picking(self) -> bool:
        """Whether the change ``bundle_changed`` is saying is the user's pick (in the list
        or Load bundle…), not a choice made for them (:meth:`set_bundle`, the chooser's)."""
        return self._picking

    def bundle_classes(self) -> list[str] | None:
        """The chosen model's classes (None when unknown or none is chosen)."""
        i = self.combo.currentIndex()
        return self.combo.itemData(i, CLASSES_ROLE) if i >= 0 else None

    def set_bundle(self, path: str) -> None:
        """Choose the bundle at ``path`` (added when it is not listed yet)."""
        path = str(path)
        self._auto = False
        if path not in self._loaded:
            self._loaded.append(path)
        self._rebuild(path)  # a run continued since: its bundle is of a later epoch now

    def restore(self, path: str) -> None:
        """Choose ``path`` (the last session's model) unless the user chose one already; a
        later listing keeps it chosen."""
        self._restored = str(path)
        if self._auto:
            self.set_bundle(path)
            self._auto = True

    def set_dataset_classes(self, classes: list[str] | None) -> None:
        """The loaded dataset's classes: models of other classes are marked, listed last,
        and no longer the chooser's own choice when one that fits is listed."""
        self._dataset = list(classes) if classes else None
        self._rebuild(self.bundle_path())

    @Slot()
    def choose_bundle(self) -> None:
        path = self.ask_bundle(self, self.bundle_path())
        if path:
            self._picking = True
            try:
                self.set_bundle(path)
            finally:
                self._picking = False
            self.picked.emit()

    @Slot()
    def refresh_runs(self) -> None:
        """List the saved runs that have a bundle (off the GUI thread)."""
        if self._shut_down:
            return
        root = self.runs_root
        self._lister.submit(lambda _state: model_choices(root))

    def shutdown(self) -> None:
        self._shut_down = True
        self._lister.cancel_all()

    def _find(self, path: str) -> int:
        key = os.path.normcase(os.path.abspath(path))
        for i, p in enumerate(self.bundle_paths()):
            if os.path.normcase(os.path.abspath(p)) == key:
                return i
        return -1

    @Slot(int, object)
    def _on_runs_listed(self, _job: int, runs: list[tuple[str, str, list[str] | None]]) -> None:
        self._runs = list(runs)
        self._rebuild(self.bundle_path())
        self.runs_listed.emit()

    def _rebuild(self, current: str) -> None:
        """Fill the combo box again (listed runs, then bundles loaded; left as it is when they
        are what it lists, so an open list keeps its hovered row) and choose ``current``,
        or the chooser's own choice when the user made none; ``bundle_changed`` when the
        choice is another."""
        before = self.bundle_path()
        listed = {os.path.normcase(os.path.abspath(p)) for _, p, _ in self._runs}
        self._loaded = [p for p in self._loaded if os.path.exists(p)]  # deleted: not offered
        choices = list(self._runs) + [
            (bundle_choice_text(p), p, bundle_classes(p)) for p in self._loaded
            if os.path.normcase(os.path.abspath(p)) not in listed]
        shown = (order_choices(choices, self._dataset), self._dataset)
        gone = False
        self.combo.blockSignals(True)
        try:
            if shown != self._shown:  # unchanged: an open list is left as it is
                self._shown = shown
                self.combo.clear()
                for text, path, classes in shown[0]:
                    add_choice(self.combo, text, path, classes, self._dataset)
            i = self._find(current) if current else -1
            gone = i < 0 and bool(current)  # deleted: no longer listed
            self._auto = self._auto or gone
            if self._auto and (i < 0 or not same_classes(
                    self.combo.itemData(i, CLASSES_ROLE), self._dataset)):
                i = self._default_index()
            self.combo.setCurrentIndex(i)
        finally:
            self.combo.blockSignals(False)
        if self.bundle_path() != before:
            self._on_chosen()
        if gone:
            self.model_gone.emit(current)

    def _default_index(self) -> int:
        """The chooser's own choice: the restored model, else the first that fits the
        dataset, else the first (-1: none listed)."""
        i = self._find(self._restored) if self._restored else -1
        if i >= 0 and same_classes(self.combo.itemData(i, CLASSES_ROLE), self._dataset):
            return i
        fit = first_fitting(self.combo, self._dataset)
        return fit if fit >= 0 else (i if i >= 0 else (0 if self.combo.count() else -1))

    @Slot(int)
    def _on_user_chose(self, _index: int) -> None:
        self._auto = False
        self.picked.emit()

    @Slot(int)
    def _on_picked(self, _index: int) -> None:
        self._picking = True  # (_rebuild blocks the signal, then says its own change)
        try:
            self._on_chosen()
        finally:
            self._picking = False

    def _on_chosen(self, *_: Any) -> None:
        self.bundle_changed.emit(self.bundle_path())
