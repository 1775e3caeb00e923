"""The Predict panel's model chooser: saved runs that have a bundle, plus any bundle file.

Models trained on other classes than the loaded dataset's
(:meth:`RunChooser.set_dataset_classes`) are greyed, noted and listed last.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QWidget

from workbench.core.runs.classes import bundle_classes
from workbench.qt.model_classes import add_choice, first_fitting, order_choices
from workbench.qt.workers import describe_exception
from workbench.qt.panels.runs.model import bundle_choice_text, model_choices

OTHER_BUNDLE = "Other bundle file…"
#: The item data role holding the ``(text, classes)`` a model's item was made of.
_MADE_OF = Qt.ItemDataRole.UserRole + 8


class RunChooser(QComboBox):
    """A combo of the saved runs with a bundle (by name), then "Other bundle file…".

    Signals
    -------
    bundle_chosen(path)
        The user picked a run (or a bundle file listed earlier).
    other_requested()
        The user picked "Other bundle file…": the owner opens its file dialog.
    """

    bundle_chosen = Signal(str)
    other_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.setToolTip("Saved runs that have a trained bundle")
        self.current_path = ""
        self._runs: list[tuple[str, str, list[str] | None]] = []  # the last listing
        self._shown: tuple | None = None  # (runs, dataset classes) the list was filled with
        self.dataset_classes: list[str] | None = None  # the loaded dataset's (None: unknown)
        self.activated.connect(self._on_activated)

    def refresh(self) -> str:
        """List the runs again (on this thread); returns why they could not be listed (""
        when they were). :class:`~.follow.RunsFollower` lists them off the GUI thread."""
        try:
            runs, problem = model_choices(), ""
        except Exception as e:  # noqa: BLE001  (a damaged runs folder must not break the tab)
            runs, problem = [], f"Cannot list the saved runs: {describe_exception(e)}"
        self.set_runs(runs)
        return problem

    def set_runs(self, runs: list[tuple[str, str, list[str] | None]]) -> None:
        """List ``runs`` (:func:`~workbench.qt.panels.runs.model.model_choices`'s), the
        model in use kept shown."""
        self._runs = list(runs)
        self._fill()

    def set_dataset_classes(self, classes: list[str] | None) -> None:
        """The loaded dataset's classes: models of other classes are marked and listed last."""
        self.dataset_classes = list(classes) if classes else None
        self._fill()

    def has_runs(self) -> bool:
        """Whether the last listing found a saved run with a model."""
        return bool(self._runs)

    def bundle_classes(self) -> list[str] | None:
        """The classes of the model in use (None when unknown or none is)."""
        return bundle_classes(self.current_path) if self.current_path else None

    def default_path(self) -> str:
        """The model to use while the user has chosen none: the newest saved run's that
        fits the loaded dataset; "" when no dataset is loaded or none fits (a model trained
        on other classes is never chosen for the user)."""
        row = first_fitting(self, self.dataset_classes) if self.dataset_classes else -1
        return (self.itemData(row) or "") if row >= 0 else ""

    def _fill(self) -> None:
        """List the runs again; left as it is when they are what it lists (an open list
        keeps its hovered row)."""
        shown = (order_choices(self._runs, self.dataset_classes), self.dataset_classes)
        if shown != self._shown:
            self._shown = shown
            self.blockSignals(True)
            self.clear()
            self.addItem("(choose a saved run)", "")
            for text, path, classes in shown[0]:
                self.setItemData(add_choice(self, text, path, classes, self.dataset_classes),
                                 (text, classes), _MADE_OF)
            self.addItem(OTHER_BUNDLE, None)
            self.blockSignals(False)
        self.select(self.current_path)

    def select(self, path: str) -> None:
        """Show ``path`` as the current model (a file outside the runs is listed as itself)."""
        self.current_path = path
        index = self.findData(path) if path else 0
        made_of = (bundle_choice_text(path), bundle_classes(path)) if path else None
        # A run continued since: its bundle (same path) is of a later epoch now.
        if path and (index < 0 or self.itemData(index, _MADE_OF) != made_of):
            if index >= 0:
                self.removeItem(index)
            index = add_choice(self, made_of[0], path, made_of[1], self.dataset_classes,
                               index if index >= 0 else self.count() - 1)
            self.setItemData(index, made_of, _MADE_OF)
        self.blockSignals(True)
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        path = self.itemData(index)
        if path is None:
            self.other_requested.emit()
            self.select(self.current_path)  # the dialog may be cancelled: show what is used
        elif path and path != self.current_path:
            self.bundle_chosen.emit(path)
