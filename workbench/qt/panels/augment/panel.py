"""Augment panel: edit the training transforms and see what they do.

Left: the list of training transforms (add from the registry, grouped; remove; reorder by
drag), the selected one's parameters (a :class:`~workbench.qt.forms.ParamForm` built from
the registry's declarations), both pipelines as text and hints where an augmentation may
change what an image shows. Right: the live preview
(:class:`~workbench.qt.panels.augment.preview.AugmentPreview`).

Every edit goes into ``experiment.augment.transforms``, is announced through the Experiment's
events and emits ``experiment_changed``; the panel shows what the Experiment says changed in
``data`` or ``augment`` (a new dataset's defaults, the input size) or that it was replaced.

The transform registry needs torch and torchvision. At start-up the panel shows the list of
transform names at once; the Add menu, the parameter form, the pipelines, the hints and
the preview fill in when the background import (:mod:`workbench.qt.startup`) is done.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMenu, QPushButton, QScrollArea, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

from workbench.qt.common import MessageLabel, run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.forms import ParamForm
from workbench.qt.startup import LOADING_TEXT, torch_loader, when_torch_ready
from workbench.qt.workers import TaskRunner
from workbench.qt.panels.augment.preview import AugmentPreview

_KEY = Qt.ItemDataRole.UserRole


def _transforms():
    from workbench.core.data.augment.transforms import TRANSFORMS  # imports torch and torchvision

    return TRANSFORMS


class AugmentPanel(QWidget):
    """Edits ``experiment.augment.transforms`` with a live preview.

    Signals
    -------
    experiment_changed()
        The transform list or a parameter changed.
    preview_updated()
        The preview shows the current settings (forwarded from the preview).
    hints_updated()
        The dataset's class colours are known and the hints take them into account.
    """

    experiment_changed = Signal()
    preview_updated = Signal()
    hints_updated = Signal()

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self.class_colours: dict[str, list[float]] = {}
        self._colour_runner = TaskRunner(self, supersede=True)
        self._colour_runner.finished.connect(self._on_colours_found)
        self.form: ParamForm | None = None
        self._components: dict[int, Component] = {}
        self._next_key = 0
        self._syncing = False
        self._announcing = False  # this panel's own edit is being announced
        self._torch = False  # the transform registry is available

        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setToolTip("Training transforms, applied top to bottom. Drag to reorder.")
        self.list.currentRowChanged.connect(self._on_selected)
        model = self.list.model()
        model.rowsMoved.connect(self._on_rows_changed)
        model.rowsInserted.connect(self._on_rows_changed)
        model.rowsRemoved.connect(self._on_rows_changed)

        self.add_button = QToolButton()
        self.add_button.setText("Add ▾")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setEnabled(False)  # the menu comes with the registry (_on_torch_ready)
        self.add_button.setToolTip(LOADING_TEXT)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button = QPushButton("Up")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton("Down")
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        list_box = QGroupBox("Training transforms (drag to reorder)")
        lb = QVBoxLayout(list_box)
        lb.addWidget(self.list, 1)
        lb.addLayout(buttons)

        self.entry_help = QLabel("")
        self.entry_help.setWordWrap(True)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_box = QGroupBox("Parameters")
        fb = QVBoxLayout(self.form_box)
        fb.addWidget(self.entry_help)
        fb.addWidget(self.form_area, 1)

        self.train_steps = QListWidget()
        self.eval_steps = QListWidget()
        for lst in (self.train_steps, self.eval_steps):
            lst.setWordWrap(True)
            lst.setAlternatingRowColors(True)
        self.pipelines = QTabWidget()
        self.pipelines.addTab(self.train_steps, "Training pipeline")
        self.pipelines.addTab(self.eval_steps, "Validation / prediction pipeline")
        self.hints = MessageLabel("")
        # The one-click answer to a flip hint: digits and letters must not be mirrored.
        self.remove_flips_button = QPushButton("Remove the flip")
        self.remove_flips_button.setToolTip("Remove the flips the hint above warns about: a "
                                            "mirrored or upside-down image of these classes "
                                            "may show another class, or none.")
        self.remove_flips_button.clicked.connect(self.remove_label_changing_flips)
        self.remove_flips_button.hide()
        self.message = MessageLabel("")

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(list_box, 3)
        ll.addWidget(self.form_box, 3)
        ll.addWidget(self.pipelines, 3)
        ll.addWidget(self.hints)
        flips_row = QHBoxLayout()
        flips_row.addWidget(self.remove_flips_button)
        flips_row.addStretch(1)
        ll.addLayout(flips_row)
        ll.addWidget(self.message)

        self.preview = AugmentPreview(self.current)
        self.preview.preview_updated.connect(self.preview_updated)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([430, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        when_torch_ready(self._on_torch_ready, self)
        if not self._torch:
            self._rebuild_list()
            self.refresh()
        subscribe(self, self.current.replaced, self._on_experiment_replaced)
        subscribe(self, self.current.changed, self._on_experiment_changed)
        subscribe(self, self.current.dataset_changed, self.set_index, replay=True)

    @property
    def experiment(self) -> Experiment:
        return self.current.experiment

    @Slot()
    def _on_torch_ready(self) -> None:
        self._torch = True
        self.add_button.setMenu(self._add_menu())
        self.add_button.setToolTip("Add a transform after the selected one.")
        self.add_button.setEnabled(True)
        row = self.list.currentRow()
        self._rebuild_list()  # tooltips and the selected transform's form
        if 0 <= row < self.list.count():
            self.list.setCurrentRow(row)
        self.refresh()

    def _add_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for group, entries in _transforms().groups().items():
            sub = menu.addMenu(group.capitalize())
            sub.setToolTipsVisible(True)
            for entry in entries:
                action = sub.addAction(entry.name)
                action.setToolTip(entry.help)
                action.triggered.connect(lambda _=False, n=entry.name: self.add_transform(n))
        return menu

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        self._rebuild_list()
        self.refresh()

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        # The pipelines follow the input size, channels and normalisation too.
        if section in ("data", "augment") and not self._announcing:
            self.refresh()

    def set_index(self, index: Any) -> None:
        """The loaded dataset: class names for the hints, images for the preview."""
        self.preview.set_index(index)
        self.class_colours: dict[str, list[float]] = {}
        if index is not None and getattr(index, "samples", None):
            # A few images per class, decoded off the GUI thread, tell whether the classes
            # differ mainly by colour (then colour jitter or grayscale may change the label).
            from workbench.core.data.augment.hints import class_mean_colours

            self._colour_runner.submit(
                lambda state: class_mean_colours(index, is_cancelled=state.is_cancelled))
        self.refresh()

    @Slot(int, object)
    def _on_colours_found(self, job: int, colours: dict) -> None:
        self.class_colours = dict(colours)
        self._show_hints()
        self.hints_updated.emit()

    def _new_item(self, comp: Component) -> QListWidgetItem:
        self._next_key += 1
        self._components[self._next_key] = comp
        item = QListWidgetItem(comp.type)
        item.setData(_KEY, self._next_key)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)
        if self._torch:
            try:
                item.setToolTip(_transforms().get(comp.type).help)
            except WorkbenchError:
                item.setToolTip("Unknown transform: remove it or fix the experiment file.")
        return item

    def _rebuild_list(self) -> None:
        self._syncing = True
        try:
            self.list.clear()
            self._components.clear()
            for comp in self.experiment.augment.transforms:
                self.list.addItem(self._new_item(comp))
        finally:
            self._syncing = False
        self.list.setCurrentRow(0 if self.list.count() else -1)
        self._on_selected(self.list.currentRow())

    @Slot()
    def _on_rows_changed(self, *_: Any) -> None:
        # A drag-move may arrive as insert + remove: read the list once it has settled.
        if not self._syncing:
            QTimer.singleShot(0, self._sync_from_list)

    def _sync_from_list(self) -> None:
        order = []
        for row in range(self.list.count()):
            comp = self._components.get(self.list.item(row).data(_KEY))
            if comp is not None and all(comp is not c for c in order):
                order.append(comp)
        if [id(c) for c in order] != [id(c) for c in self.experiment.augment.transforms]:
            self.experiment.augment.transforms[:] = order
            self._changed()

    # -- edits -----------------------------------------------------------------------------
    def add_transform(self, name: str) -> None:
        """Insert transform ``name`` (default parameters) after the selected one."""
        if not self._torch:  # called before the Add menu exists: wait for the registry
            torch_loader().ensure_loaded()
        entry = _transforms().get(name)
        comp = Component(name, entry.defaults())
        row = self.list.currentRow() + 1 if self.list.currentRow() >= 0 else self.list.count()
        self.experiment.augment.transforms.insert(row, comp)
        self._syncing = True
        try:
            self.list.insertItem(row, self._new_item(comp))
        finally:
            self._syncing = False
        self.list.setCurrentRow(row)
        self._changed()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        del self.experiment.augment.transforms[row]
        self._syncing = True
        try:
            self.list.takeItem(row)
        finally:
            self._syncing = False
        self._on_selected(self.list.currentRow())
        self._changed()

    def move_selected(self, step: int) -> None:
        row = self.list.currentRow()
        new = row + step
        if row < 0 or not 0 <= new < self.list.count():
            return
        items = self.experiment.augment.transforms
        items.insert(new, items.pop(row))
        self._syncing = True
        try:
            self.list.insertItem(new, self.list.takeItem(row))
        finally:
            self._syncing = False
        self.list.setCurrentRow(new)
        self._changed()

    @Slot()
    def remove_label_changing_flips(self) -> None:
        """Remove the flips a hint warns about (see ``label_changing_flips``)."""
        rows = self._label_changing_flips()
        if not rows:
            return
        transforms = self.experiment.augment.transforms
        transforms[:] = [t for i, t in enumerate(transforms) if i not in rows]
        self._rebuild_list()
        self._changed()

    def _label_changing_flips(self) -> list[int]:
        from workbench.core.data.augment.hints import label_changing_flips

        index = self.preview.index
        try:
            return label_changing_flips(list(getattr(index, "classes", []) or []),
                                        list(self.experiment.augment.transforms),
                                        getattr(index, "root", "") or "")
        except WorkbenchError:
            return []

    @Slot(int)
    def _on_selected(self, row: int) -> None:
        if self.form is not None:
            self.form.deleteLater()
            self.form = None
        comps = self.experiment.augment.transforms
        if not 0 <= row < len(comps):
            self.entry_help.setText("Select a transform to edit its parameters.")
            self.form_area.setWidget(QWidget())
            return
        comp = comps[row]
        if not self._torch:
            self.entry_help.setText(f"<b>{comp.type}</b>: {LOADING_TEXT}")
            self.form_area.setWidget(QWidget())
            return
        try:
            entry = _transforms().get(comp.type)
        except WorkbenchError as e:
            self.entry_help.setText(str(e))
            self.form_area.setWidget(QWidget())
            return
        self.entry_help.setText(f"<b>{entry.name}</b>: {entry.help}")
        auto = {p.name: list(self.experiment.data.input_size) for p in entry.params
                if p.auto == "data.input_size"}
        self.form = ParamForm(entry, comp.params, auto_values=auto)
        self.form.changed.connect(self._on_params)
        self.form_area.setWidget(self.form)

    @Slot(dict)
    def _on_params(self, values: dict) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.experiment.augment.transforms):
            self.experiment.augment.transforms[row].params = dict(values)
            self._changed()

    def _changed(self) -> None:
        self._announcing = True  # every other view of the transforms hears it from there
        try:
            self.experiment.augment.announce("transforms")
        finally:
            self._announcing = False
        self.refresh()
        self.experiment_changed.emit()

    # -- views -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the pipeline lists and hints, and refresh the preview."""
        if not self._syncing and not self._list_shows_experiment():
            # Another panel replaced the transforms (a new dataset left a flip out).
            self._rebuild_list()
        self.message.show_message("")
        if not self._torch:
            for lst in (self.train_steps, self.eval_steps):
                lst.clear()
                lst.addItem(LOADING_TEXT)
            self._show_hints()
            return
        from workbench.core.data.augment.transforms import describe_pipeline

        ok = True
        for lst, train in ((self.train_steps, True), (self.eval_steps, False)):
            lst.clear()
            try:
                steps = describe_pipeline(self.experiment, train=train)
            except WorkbenchError as e:
                self.message.show_message(str(e), "error")
                ok = False
                continue
            for i, step in enumerate(steps, 1):
                lst.addItem(f"{i}. {step}")
        self._show_hints()
        if ok:
            self.preview.schedule()

    def _list_shows_experiment(self) -> bool:
        shown = [self._components.get(self.list.item(r).data(_KEY))
                 for r in range(self.list.count())]
        return [id(c) for c in shown] == [id(c) for c in self.experiment.augment.transforms]

    def _show_hints(self) -> None:
        if not self._torch:  # the hints look the transforms' defaults up in the registry
            self.hints.setVisible(False)
            self.remove_flips_button.setVisible(False)
            return
        from workbench.core.data.augment.hints import augmentation_hints

        index = self.preview.index
        classes = list(getattr(index, "classes", []) or [])
        try:
            hints = augmentation_hints(classes, list(self.experiment.augment.transforms),
                                       self.class_colours or None,
                                       folder=getattr(index, "root", "") or "")
        except WorkbenchError:
            hints = []
        self.hints.show_message("\n".join(f"Hint: {h}" for h in hints),
                                "warning" if hints else "info")
        self.hints.setVisible(bool(hints))
        flips = self._label_changing_flips() if hints else []
        self.remove_flips_button.setText("Remove the flip" if len(flips) == 1
                                         else "Remove the flips")
        self.remove_flips_button.setVisible(bool(flips))

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        # Cheap, and the data settings may have changed while another tab was shown.
        self.refresh()
        super().showEvent(event)

    def shutdown(self) -> None:
        self._colour_runner.cancel_all()
        self.preview.shutdown()


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: AugmentPanel(Experiment()), "Augment"))
