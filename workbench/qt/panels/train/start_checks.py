"""Whether the Train tab's Start can be pressed: a network that fits (the Model tab's
shapes), a dataset that can be trained on (its folder there, two classes, readable images)
and transforms that can be built and run on its images (the Augment tab's: a RandomCrop
larger than the images stops training). The first problem disables Start and
is said in the status line and Start's tooltip, naming the tab where it is fixed. The
dataset's typical image size, for the crop, is read off the GUI thread (:class:`ImageSizes`:
up to 200 headers, seconds on a network share); Start waits for it (:data:`MEASURING`).

:class:`StartChecks` is mixed into :class:`~.control.RunControl` (so into the Train panel,
which owns ``start_button``, ``status`` and the problems' fields).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from workbench.core.errors import WorkbenchError
from workbench.qt.panels.train.keys import START_TIP
from workbench.qt.panels.train.last_notes import follow_dataset
from workbench.qt.workers import TaskRunner

#: The status line before any run of this session (as the layout first shows it).
IDLE_TEXT = "Press Start to train the model on the loaded dataset."
#: The status line and Start's tooltip while the dataset's image size is read for a step
#: that may stop training on smaller images (Start waits: not a problem to fix).
MEASURING = "Reading the size of the dataset's images (a crop larger than them stops " \
            "training)…"


class ImageSizes(QObject):
    """The typical (height, width) of a scanned dataset's images
    (:func:`~workbench.core.data.augment.pipeline_hints.typical_image_size`), read off the
    GUI thread once per scan.

    Signals
    -------
    measured()
        :meth:`size_of` now knows the scan last asked about.
    """

    measured = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._known: tuple[Any, Any] | None = None  # (index, its size or None)
        self._asked: Any = None  # the scan being measured
        self._runner = TaskRunner(self, supersede=True)
        self._runner.finished.connect(self._on_finished)
        self._runner.errored.connect(lambda job, _message: self._on_finished(job, None))

    def size_of(self, index: Any) -> tuple[bool, Any]:
        """``(True, size)`` once ``index``'s size is known (None: no header readable), else
        ``(False, None)``, having started to read it."""
        if self._known is not None and self._known[0] is index:
            return True, self._known[1]
        if self._asked is not index:
            from workbench.core.data.augment.pipeline_hints import typical_image_size

            self._asked = index
            self._runner.submit(lambda state: typical_image_size(
                index, is_cancelled=state.is_cancelled))
        return False, None

    def shutdown(self) -> None:
        self._runner.cancel_all()

    @Slot(int, object)
    def _on_finished(self, _job: int, size: Any) -> None:
        self._known, self._asked = (self._asked, size), None
        self.measured.emit()


class StartChecks:
    """What keeps Start disabled, for :class:`~.control.RunControl`."""

    def set_network_problem(self, problem: str) -> None:
        """Disable Start while the network does not fit, saying why (``""``: it fits).

        Called whenever the network changes, so the loss editor's note about a
        LogSoftmax output is kept current here too."""
        self._show_output_layer()
        if problem == self._network_problem:
            return
        self._network_problem = problem
        self._show_problems()

    def set_data_problem(self, index) -> None:
        """Disable Start while the dataset cannot be trained on (its folder missing, one
        class, no readable image...), saying why: the run used to start and fail at once
        ("Training failed"). ``index``: the Data tab's scan (None: none yet)."""
        problem = missing_folder_problem(self.experiment.data.folder)
        if index is not None and not problem:
            try:
                index.check_trainable()
            except WorkbenchError as e:  # fixed in the folder: say what then updates the app
                from workbench.qt.panels.data.relist import with_rescan_hint
                problem = with_rescan_hint(str(e), str(index.root))
        if problem != self._data_problem:
            self._data_problem = problem
            self._show_problems()
            if problem and problem == missing_folder_problem(self.experiment.data.folder):
                self.folder_missing.emit(self.experiment.data.folder)  # the window says so
        self.check_augmentation()  # a crop larger than this dataset's images?

    def check_settings(self) -> None:
        """Check again what the experiment's settings alone decide: its dataset folder is
        there (moved since the last session, or since the last check?) and its transforms
        can be built."""
        self.set_data_problem(self.index if self.index is not None and
                              _same_folder(self.index.root, self.experiment.data.folder)
                              else None)  # and the transforms (check_augmentation)
        follow_dataset(self)  # the last run's notes: while its dataset is the one open

    def dataset_missing(self) -> bool:
        """Whether the experiment's dataset folder is gone (checked now): then Start is
        disabled and the line says so, as for the other problems."""
        self.check_settings()
        return bool(missing_folder_problem(self.experiment.data.folder))

    def check_augmentation(self) -> None:
        """Disable Start while the Augment tab's transforms cannot be built, naming the step
        as that tab does ("GaussianBlur (step 4) → kernel_size: ..."), or while a step
        stops training on the dataset's typical image (a RandomCrop larger than it, said as
        that tab's hint says it): the run used to start and fail at once. Known once torch
        is imported (the transform registry)."""
        problem = (augment_problem(self.experiment) or self._stopping_problem()) \
            if self._torch else ""
        if problem != self._augment_problem:
            self._augment_problem = problem
            self._show_problems()

    def _stopping_problem(self) -> str:
        """The Augment tab's hint on a step that stops training on most of the scanned
        dataset's images (:func:`~workbench.core.data.augment.at_start.stopping_hints`:
        from their typical size, its headers read off the GUI thread once per scan and only
        while a step may stop: :data:`MEASURING` until then), or ``""``."""
        from workbench.core.data.augment.at_start import may_stop, stopping_hints

        index = getattr(self, "index", None)
        if index is None or not may_stop(self.experiment) or \
                not _same_folder(index.root, self.experiment.data.folder):
            return ""
        sizes = getattr(self, "image_sizes", None)
        if sizes is None:
            sizes = self.image_sizes = ImageSizes(self)
            sizes.measured.connect(self.check_augmentation)
        known, size = sizes.size_of(index)
        if not known:
            return MEASURING
        hints = stopping_hints(self.experiment, size)
        return hints[0].text.rstrip(".") if hints else ""

    def _problem(self) -> tuple[str, str, str]:
        """``(problem, what, tab)`` of the first thing that keeps Start disabled, or
        ``("", "", "")``."""
        return next(((problem, what, tab) for problem, what, tab in (
            (self._network_problem, "network", "Model"),
            (self._data_problem, "dataset", "Data"),
            (self._augment_problem, "augmentation", "Augment")) if problem), ("", "", ""))

    def _show_problems(self) -> None:
        problem, what, tab = self._problem()
        named = f"{tab} tab" in problem  # the tab named once: some problems say where
        tip = f"Cannot train yet: {problem}" if named else \
            f"Fix the {what} on the {tab} tab first: {problem}"
        self.start_button.setToolTip(MEASURING if problem == MEASURING else
                                     tip if problem else START_TIP)
        if not self.is_running():
            self._set_running(False)
            said = self.status.text()
            about_start = said.startswith("Cannot train yet") or said in (IDLE_TEXT, MEASURING)
            if problem == MEASURING:  # Start waits a moment: a line about Start says so
                if about_start:
                    self.status.show_message(MEASURING)
            elif problem:
                where = "" if named else f" ({tab} tab)"
                self.status.show_message(f"Cannot train yet: {problem}{where}", "warning")
            elif about_start and said != IDLE_TEXT:
                self.status.show_message(IDLE_TEXT)


def missing_folder_problem(folder: str) -> str:
    """Why a dataset ``folder`` that is gone cannot be trained on, and what to do, as the
    Data tab says it (:mod:`workbench.qt.missing_dataset`); ``""`` when it is there (or
    is the demo dataset: no folder)."""
    if not folder or os.path.exists(folder):
        return ""
    return (f"the dataset folder {folder} is missing (moved, renamed, or on a drive that is "
            f"not connected): open it where it is now on the Data tab (File → Open dataset "
            f"folder…)")


def _same_folder(a, b) -> bool:
    """Whether the scan of folder ``a`` is of folder ``b`` (never of "": the demo dataset);
    case-insensitive on Windows (``same_path``)."""
    from workbench.qt.panels.data.health.findings import same_path

    return bool(b) and same_path(a, b)


def augment_problem(experiment) -> str:
    """Why ``experiment``'s transforms cannot be built, worded as the Augment tab words it
    (:func:`~workbench.core.data.augment.naming.describe_spec_error`); ``""`` when they
    can. Errors about other sections (data.mean) are left to the tab that edits them."""
    from workbench.core.data.augment.naming import describe_spec_error
    from workbench.core.data.augment.transforms import describe_pipeline

    try:
        for train in (True, False):
            describe_pipeline(experiment, train=train)
    except WorkbenchError as e:
        if str(getattr(e, "field", "") or "").startswith("augment."):
            return describe_spec_error(e, experiment.augment.transforms)
    return ""
