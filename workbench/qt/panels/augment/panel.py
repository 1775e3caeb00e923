"""Augment panel: edit the training transforms and see what they do.

Left: the list of training transforms (add from the registry, grouped; remove; reorder by
drag; every edit undoable with Ctrl+Z, see :mod:`.edits`), the selected one's parameters
(a :class:`~workbench.qt.forms.ParamForm` built from the registry's declarations) with both
pipelines as text in the tabs beside them, and hints where an augmentation may
change what an image shows or a step misses the images, each with its one-click fix and an
Undo (:class:`~workbench.qt.panels.augment.hints_view.HintsView`). The list and the form
ask for the room they need (:mod:`workbench.qt.panels.augment.sizing`): the whole form and
the hints stay in view on a 1366x768 laptop at 125%. Right: the live preview
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
                               QListWidgetItem, QMenu, QPushButton, QSizePolicy, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError
from workbench.core.events import CurrentExperiment
from workbench.core.experiment import Experiment
from workbench.core.registry import Component

from workbench.qt.accessible import name_field
from workbench.qt.common import MessageLabel, run_standalone
from workbench.qt.evented import subscribe
from workbench.qt.forms import ParamForm
from workbench.qt.keyboard import chain_after, focus_stops
from workbench.qt.startup import LOADING_TEXT, when_torch_ready
from workbench.qt.panels.augment.edits import TransformEdits
from workbench.qt.panels.augment.hints_view import HintsView
from workbench.qt.panels.augment.preview import AugmentPreview
from workbench.qt.panels.augment.sizing import FormArea, StepList

_KEY = Qt.ItemDataRole.UserRole


def _transforms():
    from workbench.core.data.augment.transforms import TRANSFORMS  # imports torch and torchvision

    return TRANSFORMS


class AugmentPanel(TransformEdits, QWidget):
    """Edits ``experiment.augment.transforms`` with a live preview.

    Signals
    -------
    experiment_changed()
        The transform list or a parameter changed.
    preview_updated()
        The preview shows the current settings (forwarded from the preview).
    hints_updated()
        The dataset's class colours and typical image size are known and the hints take
        them into account.
    """

    experiment_changed = Signal()
    preview_updated = Signal()
    hints_updated = Signal()

    def __init__(self, experiment: Experiment | CurrentExperiment,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.current = CurrentExperiment.of(experiment)
        self._undo: tuple[str, list[Component]] | None = None  # the last fix, to undo
        self.form: ParamForm | None = None
        self._components: dict[int, Component] = {}
        self._next_key = 0
        self._syncing = False
        self._announcing = False  # this panel's own edit is being announced
        self._torch = False  # the transform registry is available

        self.list = StepList()  # as tall as its rows: the form gets the room
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
        self.form_area = FormArea()  # as tall as the form: all of it in view
        params = QWidget()
        fb = QVBoxLayout(params)
        fb.setContentsMargins(6, 6, 6, 6)
        fb.addWidget(self.entry_help)
        fb.addWidget(self.form_area)
        fb.addStretch(1)  # a short form's frame ends with it, not at the tab's bottom

        self.train_steps = QListWidget()
        self.eval_steps = QListWidget()
        for lst, name in ((self.train_steps, "Training pipeline"),
                          (self.eval_steps, "Validation pipeline")):
            name_field(None, lst, name)
            lst.setWordWrap(True)
            lst.setAlternatingRowColors(True)
            # The tabs are as tall as the parameters ask, not as a list's default size.
            lst.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        # The pipelines share the parameters' room (a tab each): on a 1366x768 laptop at
        # 125% the form, the pipelines and two hints one above the other left the form a
        # slit of two rows, behind two scroll bars.
        self.pipelines = QTabWidget()
        self.pipelines.addTab(params, "Parameters")
        self.pipelines.addTab(self.train_steps, "Training pipeline")
        self.pipelines.addTab(self.eval_steps, "Validation pipeline")
        self.pipelines.setTabToolTip(1, "The steps every training image goes through.")
        self.pipelines.setTabToolTip(2, "The steps every validation image goes through, "
                                        "and every image evaluated or predicted.")
        # Picked with a click or the arrow keys (not moved, removed or undone: the
        # pipeline tab stays, to watch it change).
        self.list.itemClicked.connect(self._show_parameters)
        self.list.picked.connect(self._show_parameters)
        self.hint_view = HintsView()
        self.hint_view.measured.connect(self._on_measured)
        self.hint_view.fix_requested.connect(self.apply_fix)
        self.hint_view.undo_requested.connect(self.undo_fix)
        self.hints = self.hint_view.rows
        self.remove_flips_button = self.hint_view.flip_button
        self.message = MessageLabel("")

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(list_box, 1)
        ll.addWidget(self.pipelines, 2)
        ll.addWidget(self.hint_view)
        ll.addWidget(self.message)
        self.message.hide()  # shown with an error only

        self.preview = AugmentPreview(self.current)
        self.preview.preview_updated.connect(self.preview_updated)
        splitter = QSplitter(objectName="augment.steps_preview")
        splitter.addWidget(left)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        # About a third for the steps, never narrower than their form: the draws' four
        # columns fit beside them at 125% on a 1366x768 laptop (1093 px wide).
        splitter.setSizes([430, 770])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._install_edit_keys()  # Ctrl+Z, Alt+Up/Down, Delete and the undo stack
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
                action.triggered.connect(lambda _=False, n=entry.name: self._add_picked(n))
        return menu

    def _add_picked(self, name: str) -> None:
        """Add ``name``, picked from the Add menu, and put the focus on its row: the focus
        frame went with the menu and stayed on Add, so Delete or Alt+Up did nothing."""
        self.add_transform(name)
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- binding ---------------------------------------------------------------------------
    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` (it replaces the current one, for every view of it)."""
        self.current.replace(experiment)

    def _on_experiment_replaced(self, _experiment: Experiment) -> None:
        self._set_undo(None)
        self.undo_stack.clear()  # the history was of the previous experiment
        self._rebuild_list()
        self.refresh()

    def _on_experiment_changed(self, section: str, _field: str | None) -> None:
        # The pipelines follow the input size, channels and normalisation too.
        if section in ("data", "augment") and not self._announcing:
            if section == "augment":  # the list changed elsewhere: the snapshots are stale
                self._set_undo(None)
                self.undo_stack.clear()
            self.refresh()

    def set_index(self, index: Any) -> None:
        """The loaded dataset: class names for the hints, images for the preview."""
        self.preview.set_index(index)
        self.hint_view.measure(index)
        self.refresh()

    @Slot()
    def _on_measured(self) -> None:
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

    @Slot(int)
    def _on_selected(self, row: int) -> None:
        # Taken out and deleted later, not by setWidget at once: an undo asked from a key in
        # one of its boxes (EditorUndoKeys) rebuilds the form inside that box's event.
        old = self.form_area.takeWidget()
        if old is not None:
            old.deleteLater()
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
        self.undo_keys.watch(self.form)
        self.form_area.setWidget(self.form)
        # Built after the window: Tab reached its fields after the whole preview.
        chain_after(self.form_area, focus_stops(self.form))

    @Slot()
    def _show_parameters(self) -> None:
        """Show the Parameters tab (a transform was picked in the list)."""
        self.pipelines.setCurrentIndex(0)

    def _changed(self) -> None:
        self._set_undo(None)  # after another edit, the snapshot would undo that one too
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
        self.message.hide()
        if not self._torch:
            for lst in (self.train_steps, self.eval_steps):
                lst.clear()
                lst.addItem(LOADING_TEXT)
            self._show_hints()
            return
        from workbench.core.data.augment.naming import describe_spec_error
        from workbench.core.data.augment.transforms import describe_pipeline

        ok = True
        for lst, train in ((self.train_steps, True), (self.eval_steps, False)):
            lst.clear()
            try:
                steps = describe_pipeline(self.experiment, train=train)
            except WorkbenchError as e:
                error = describe_spec_error(e, self.experiment.augment.transforms)
                self.message.show_message(error, "error")
                lst.addItem(f"Not built: {error}")
                ok = False
                continue
            for i, step in enumerate(steps, 1):
                lst.addItem(f"{i}. {step}")
        self.message.setVisible(not ok)
        self._show_hints()
        if ok:
            self.preview.schedule()
        else:  # the draws on show are not of this pipeline
            self.preview.mark_stale(self.message.text())

    def _list_shows_experiment(self) -> bool:
        shown = [self._components.get(self.list.item(r).data(_KEY))
                 for r in range(self.list.count())]
        return [id(c) for c in shown] == [id(c) for c in self.experiment.augment.transforms]

    def _show_hints(self) -> None:
        if not self._torch:  # the hints look the transforms' defaults up in the registry
            self.hint_view.show_hints([])
            return
        from workbench.core.data.augment.pipeline_hints import all_hints

        index = self.preview.index
        try:
            view = self.hint_view
            hints = all_hints(self.experiment, list(getattr(index, "classes", []) or []),
                              getattr(index, "root", "") or "", view.class_colours or None,
                              view.image_size)
        except WorkbenchError:
            hints = []
        self.hint_view.show_hints(hints)

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        # Cheap, and the data settings may have changed while another tab was shown.
        self.refresh()
        super().showEvent(event)

    def shutdown(self) -> None:
        self.hint_view.shutdown()
        self.preview.shutdown()


if __name__ == "__main__":
    sys.exit(run_standalone(lambda: AugmentPanel(Experiment()), "Augment"))
