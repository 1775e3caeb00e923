"""The Train panel's widgets and their layout (kept apart from its behaviour).

Run setup and controls on the left, the settings tabs beside them (and the training
doctor's findings as one more tab, :mod:`.fixes`, while the run has some), and below a
splitter the progress, status and live plots. The plots keep a readable height: the
settings scroll, and the handle between them shares the height as the user likes. A
settings page shows whole rows only (:class:`WholeRowsScroll`): at a laptop's 1366x768 its
last visible row was cut through the middle, which read as a broken form.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QAbstractSlider,
                               QAbstractSpinBox, QApplication, QComboBox, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from workbench.qt.common import BoundedMessageLabel
from workbench.qt.plots.header import MIN_PLOT_HEIGHT
from workbench.qt.plots.training import TrainingPlots
from workbench.qt.panels.train.fixes import TrainFindings
from workbench.qt.panels.train.keys import add_run_keys
from workbench.qt.panels.train.loss import LossEditor
from workbench.qt.panels.train.options import RunOptionsEditor
from workbench.qt.panels.train.run_end import show_running
from workbench.qt.panels.train.settings import (ComponentEditor, optimizer_problem,
                                              schedule_autos, scheduler_problem)
from workbench.qt.panels.train.setup import RunSetup
from workbench.qt.panels.train.start_fix import StartFix


class PlotsArea(QWidget):
    """Holds the plots and asks for their minimum height only: they grow by stretch.

    Their wrapped headers give the plots a height for each width, which a box layout
    keeps as a minimum: the message lines above them gave up their lines first.
    """

    def __init__(self, plots: QWidget):
        super().__init__()
        self.plots = plots
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(plots)

    def hasHeightForWidth(self) -> bool:  # noqa: N802  (Qt override)
        return False

    def minimumSizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        """The least height at the width the plots have, once shown: Qt's own minimum
        wraps each header as if the plots were their narrowest (~70 px too much at the
        default 1100x706, so after a run the whole tab scrolled and cut the plots)."""
        hint = super().minimumSizeHint()
        inner = self.plots.layout()
        if not self.isVisible() or inner is None:
            return hint
        return QSize(hint.width(), inner.totalMinimumHeightForWidth(self.width()))

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        return QSize(super().sizeHint().width(), self.minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the headers wrap anew: the minimum height changed


class MessageRoom(QObject):
    """Moves the splitter's handle up when a message line needs more lines than it has.

    The room comes from the settings above (which scroll), down to their minimum, never
    from the plots and never from the window: a long message shows in full where there is
    room and is cut short (its tooltip then has it all) where there is not.
    """

    def __init__(self, splitter: QSplitter, labels: tuple[QWidget, ...]):
        super().__init__(splitter)
        self.splitter, self.labels = splitter, labels
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after the layout has placed the new text
        self._timer.timeout.connect(self.fit)
        splitter.widget(1).installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.LayoutRequest:
            self._timer.start()
        return False

    def fit(self) -> None:
        """Give the message lines the height they ask for, if the settings can spare it."""
        short = sum(max(0, label.sizeHint().height() - label.height())
                    for label in self.labels if label.isVisible())
        sizes = self.splitter.sizes()
        if short <= 0 or len(sizes) != 2 or not self.splitter.isVisible():
            return
        top = self.splitter.widget(0)
        least = max(top.minimumHeight(), top.minimumSizeHint().height())
        give = min(short, sizes[0] - least)
        if give > 0:
            self.splitter.setSizes([sizes[0] - give, sizes[1] + give])


#: The height of each plot the first share of the tab keeps, where the window allows:
#: the settings above then show as many whole rows as fit (and scroll).
ROOMY_PLOT_HEIGHT = 150


class FirstShare(QObject):
    """Shares the splitter's height once, when the tab is first shown at its real size:
    the settings get the height they ask for, but never so much that a plot is lower than
    :data:`ROOMY_PLOT_HEIGHT` (nor less than their own minimum). Later the handle is the
    user's (and :class:`MessageRoom`'s)."""

    def __init__(self, splitter: QSplitter):
        super().__init__(splitter)
        self.splitter = splitter
        self.done = False
        splitter.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Show and not self.done:
            QTimer.singleShot(0, self, self.share)  # once the layouts have run
        return False

    def share(self) -> None:
        sizes = self.splitter.sizes()
        if self.done or len(sizes) != 2 or not self.splitter.isVisible():
            return
        self.done = True
        self.splitter.removeEventFilter(self)
        top, bottom = self.splitter.widget(0), self.splitter.widget(1)
        roomy = (bottom.minimumSizeHint().height()
                 + 2 * max(0, ROOMY_PLOT_HEIGHT - MIN_PLOT_HEIGHT))  # two rows of plots
        least = max(top.minimumHeight(), top.minimumSizeHint().height())
        height = max(least, min(top.sizeHint().height(), sum(sizes) - roomy))
        self.splitter.setSizes([height, sum(sizes) - height])


#: What a settings page is read in: each is a line (or a block of lines) that the edge of
#: the visible part must not cut through. Containers (group boxes, plain widgets) are
#: looked into instead.
ROW_WIDGETS = (QLabel, QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit,
               QAbstractSlider, QAbstractScrollArea, QProgressBar)


def row_spans(page: QWidget) -> list[tuple[int, int]]:
    """``(top, bottom)`` in ``page``'s coordinates of each row widget shown in it, and of
    each group box's title line."""
    spans: list[tuple[int, int]] = []
    stack = [page]
    while stack:
        for child in stack.pop().findChildren(QWidget, options=Qt.FindChildOption
                                              .FindDirectChildrenOnly):
            if child.isHidden() or child.isWindow():
                continue
            top = child.mapTo(page, QPoint(0, 0)).y()
            if isinstance(child, ROW_WIDGETS):
                spans.append((top, top + child.height()))
                continue
            if isinstance(child, QGroupBox) and child.title():
                spans.append((top, top + child.fontMetrics().height()))
            stack.append(child)
    return spans


def line_above(spans: list[tuple[int, int]], y: int, lowest: int) -> int | None:
    """The lowest line at or above ``y`` (and not above ``lowest``) that cuts no span."""
    while y >= lowest:
        crossed = [top for top, bottom in spans if top < y < bottom]
        if not crossed:
            return y
        y = min(crossed)
    return None


def line_below(spans: list[tuple[int, int]], y: int) -> int:
    """The highest line at or below ``y`` that cuts no span."""
    while True:
        crossed = [bottom for top, bottom in spans if top < y < bottom]
        if not crossed:
            return y
        y = max(crossed)


class WholeRowsScroll(QScrollArea):
    """A scroll area (for a settings page) that never shows a row cut through.

    Where the page goes on below, the visible part ends at the last row that fits whole
    (the few pixels under it stay blank, like the space after a form); scrolling stops at
    a row's edge, moving on in the direction it went. At the end of the page the top row
    may be cut, so the last rows can always be reached.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its rows, not to it
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        self.trimmed = 0  # pixels left blank at the bottom
        self._value = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # once the page's layout has placed its rows
        self._timer.timeout.connect(self.fit)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802  (Qt override)
        super().setWidget(widget)
        # A form rebuilt inside a group box may move rows without resizing the page: its
        # containers' layout requests say so too.
        for container in [widget] + widget.findChildren(QWidget):
            if not isinstance(container, ROW_WIDGETS):
                container.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            self._timer.start()
        return False

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        """The page's height now (Qt's is the page's first, before its form was built)."""
        page = self.widget()
        hint = super().sizeHint()
        return hint if page is None else QSize(hint.width(), page.sizeHint().height())

    @Slot(QWidget, QWidget)
    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """Scroll sideways no further than the focus needs, and back to the left edge once
        it leaves: after Tab reached the schedule's Type at 12 pt, the page stayed
        scrolled, "Type:", "lr" and "betas" cut at its left."""
        page = self.widget()
        if page is None or new is None or QApplication.mouseButtons() != Qt.MouseButton.NoButton \
                or not (page.isAncestorOf(new) or old is not None and page.isAncestorOf(old)):
            return  # a click leaves the page where it is: what was clicked is in view
        bar = self.horizontalScrollBar()
        if not page.isAncestorOf(new):
            bar.setValue(0)
            return
        left = new.mapTo(page, QPoint(0, 0)).x()
        right = left + new.width()
        # After Qt's own scroll to the focus (a 50 px margin beyond it, never back left).
        QTimer.singleShot(0, self, lambda: bar.setValue(
            max(0, min(left, right - self.viewport().width()))))

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().showEvent(event)
        self._timer.start()

    def fit(self) -> None:
        """End the visible part at a row's edge (or at the viewport's, when the rest of
        the page shows or no edge is in its lower half)."""
        page = self.widget()
        if page is None:
            return
        full = self.viewport().height() + self.trimmed
        top = self.verticalScrollBar().value()
        trim = 0
        if top + full < page.height():
            cut = line_above(row_spans(page), top + full, top + full // 2)
            trim = top + full - cut if cut is not None else 0
        if trim != self.trimmed:
            self.trimmed = trim
            self.setViewportMargins(0, 0, 0, trim)

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        bar, page = self.verticalScrollBar(), self.widget()
        previous, self._value = self._value, value
        if page is not None and 0 < value < bar.maximum():
            spans = row_spans(page)
            snapped = (line_below(spans, value) if value > previous
                       else line_above(spans, value, 0))
            if snapped is not None and snapped != value:
                bar.setValue(min(snapped, bar.maximum()))  # comes back here, then fits
                return
        self.fit()


def build_panel(panel: Any) -> None:
    """Create the Train panel's widgets as attributes of ``panel`` and lay them out."""
    panel.setup = RunSetup(panel.experiment, device=panel._run_device)
    panel.setup.epochs_changed.connect(panel._on_epochs_edited)
    panel.setup.batch_size_changed.connect(panel.settings_changed)
    panel.epochs_spin = panel.setup.epochs_spin
    panel.batch_spin = panel.setup.batch_spin
    panel.name_edit = panel.setup.name_edit
    panel.optimizer_editor = ComponentEditor("Optimizer", "optimizer", optimizer_problem)
    panel.optimizer_editor.combo.setToolTip("Choosing an optimizer resets its settings "
                                           "(learning rate included) to its defaults.")
    panel.optimizer_editor.changed.connect(panel.settings_changed)
    panel.optimizer_editor.changed.connect(panel.setup.update_memory)  # Adam keeps more
    panel.optimizer_combo = panel.optimizer_editor.combo
    panel.schedule_editor = ComponentEditor("Schedule", "scheduler", scheduler_problem,
                                            autos=schedule_autos)
    panel.schedule_editor.combo.setToolTip("How the learning rate changes during the run; "
                                          "choosing one resets its settings to its "
                                          "defaults.")
    panel.schedule_editor.changed.connect(panel.settings_changed)
    panel.loss_editor = LossEditor(panel.experiment)
    panel.loss_editor.changed.connect(panel.settings_changed)
    panel.options_editor = RunOptionsEditor(panel.experiment)
    panel.options_editor.changed.connect(panel.settings_changed)
    panel.options_editor.changed.connect(panel.setup.update_memory)  # the device
    panel.lr_find_button = QPushButton("Find learning rate…")
    panel.lr_find_button.setToolTip("Sweep the learning rate over a few batches and pick "
                                   "one from the loss curve (the network is restored "
                                   "afterwards)")
    panel.lr_find_button.clicked.connect(panel.open_lr_finder)
    panel.lr_dialog = None

    panel.start_button = QPushButton("Start training")
    panel.start_button.clicked.connect(panel.start)
    panel.stop_button = QPushButton("Stop")
    panel.stop_button.setEnabled(False)
    panel.stop_button.setToolTip("Stop after the current batch; finished epochs are kept "
                                "and saved (an unfinished epoch is not)")
    panel.stop_button.clicked.connect(panel.stop)
    panel.pause_button = QPushButton("Pause")
    panel.pause_button.setEnabled(False)
    panel.pause_button.setToolTip("Hold the run before its next batch; Resume goes on "
                                 "exactly where it stopped")
    panel.pause_button.clicked.connect(panel.toggle_pause)
    panel.continue_button = QPushButton("Continue…")
    panel.continue_button.setEnabled(False)
    panel.continue_button.setToolTip("Train the last run further, from its last checkpoint, "
                                    "with its own settings: finish its planned epochs or "
                                    "add more (you choose)")
    panel.continue_button.clicked.connect(panel.continue_run)
    add_run_keys(panel)  # Ctrl+Return, Ctrl+P, Ctrl+.
    row1, row2 = QHBoxLayout(), QHBoxLayout()
    row1.addWidget(panel.start_button)
    row1.addWidget(panel.pause_button)
    row1.addWidget(panel.stop_button)
    row2.addWidget(panel.continue_button)
    row2.addWidget(panel.lr_find_button)
    left = QVBoxLayout()
    left.setContentsMargins(0, 0, 0, 0)
    left.addWidget(panel.setup)
    left.addLayout(row1)
    left.addLayout(row2)
    left.addStretch(1)
    left_box = QWidget()
    left_box.setLayout(left)
    left_box.setMinimumWidth(330)
    left_box.setMaximumWidth(420)

    optim_page = QWidget()
    optim_row = QHBoxLayout(optim_page)
    optim_row.setContentsMargins(0, 0, 0, 0)
    optim_row.addWidget(panel.optimizer_editor, 1)
    optim_row.addWidget(panel.schedule_editor, 1)
    panel.settings_tabs = QTabWidget()
    for page, title in ((optim_page, "Optimizer && schedule"), (panel.loss_editor, "Loss"),
                        (panel.options_editor, "Device && run")):
        scroll = WholeRowsScroll()
        scroll.setWidget(page)
        panel.settings_tabs.addTab(scroll, title)
    panel.settings_tabs.setMinimumHeight(120)  # settings scroll; the plots keep their room
    # The training doctor's findings: one more tab there, while the run has some.
    panel.findings = TrainFindings(panel)
    top = QWidget()
    top_row = QHBoxLayout(top)
    top_row.setContentsMargins(0, 0, 0, 0)
    top_row.addWidget(left_box)
    top_row.addSpacing(12)
    top_row.addWidget(panel.settings_tabs, 1)
    # The run controls are never cut: the settings beside them scroll instead. (No fixed
    # minimum: the controls' height, known once their forms are built, is the minimum.)

    panel.progress = QProgressBar()
    panel.progress.setRange(0, 1)
    panel.progress.setValue(0)
    panel.progress.setFormat("")
    # A run that ended short of its plan greys the bar (.run_end); the next one restores it.
    panel.training_started.connect(lambda: show_running(panel))
    # The message lines ask for a few lines and need one (none while empty): a long error
    # or several notes never make the window taller; cut short, they end in "…" and the
    # whole text is their tooltip.
    panel.status = BoundedMessageLabel("Press Start to train the model on the loaded dataset.",
                                       max_lines=3)
    panel.run_label = BoundedMessageLabel("", max_lines=2)
    # What the run decided at its start that the learner should know (e.g. a backbone
    # trained from random weights because no pretrained file was found).
    panel.notes_label = BoundedMessageLabel("", max_lines=3)
    panel.notes_label.hide()
    # The decoded-image cache fills during the first epoch; later epochs skip decoding.
    panel.cache_bar = QProgressBar()
    panel.cache_bar.setFixedWidth(180)
    panel.cache_bar.setFormat("%v / %m")
    panel.cache_bar.setToolTip("Images decoded into the cache so far")
    panel.cache_bar.hide()
    panel.cache_label = BoundedMessageLabel("", max_lines=2)
    # The cache bar shares the progress bar's row, and the cache line keeps its height while
    # empty: a run starting changes neither height, so the plots are not resized and
    # repainted all at once (the longest stall scripts/bench_ui.py saw).
    panel.cache_label.setMinimumHeight(panel.cache_label.fontMetrics().lineSpacing())
    progress_row = QHBoxLayout()
    progress_row.addWidget(panel.progress, 1)
    progress_row.addWidget(panel.cache_bar)
    messages = QVBoxLayout()
    messages.setSpacing(0)  # lines of one text block; an empty line takes no room
    for label in (panel.status, panel.notes_label, panel.cache_label):
        messages.addWidget(label)

    panel.plots = TrainingPlots()
    bottom = QWidget()
    lower = QVBoxLayout(bottom)
    lower.setContentsMargins(0, 0, 0, 0)
    lower.setSpacing(4)
    lower.addLayout(progress_row)
    lower.addLayout(messages)
    lower.addWidget(PlotsArea(panel.plots), 1)
    # The run line, and the Augment tab's fix beside it when it names a label hint.
    panel.start_fix = StartFix(panel)
    lower.addLayout(panel.start_fix.row())

    # Settings above, plots below; drag the handle to share the height. The plots never
    # shrink below a readable size: the settings scroll instead.
    panel.splitter = QSplitter(Qt.Orientation.Vertical, objectName="train.settings_plots")
    panel.splitter.addWidget(top)
    panel.splitter.addWidget(bottom)
    panel.splitter.setChildrenCollapsible(False)
    panel.splitter.setStretchFactor(0, 0)
    panel.splitter.setStretchFactor(1, 1)
    panel.splitter.setSizes([max(top.minimumSizeHint().height(), 250), 10000])
    panel.first_share = FirstShare(panel.splitter)
    panel.message_room = MessageRoom(panel.splitter, (panel.status, panel.notes_label,
                                                      panel.cache_label, panel.run_label))
    # On a screen too small for even the minimum (a window forced shorter than it), the
    # tab scrolls: the plots keep their height instead of being squashed together.
    panel.scroll = QScrollArea()
    panel.scroll.setWidget(panel.splitter)
    panel.scroll.setWidgetResizable(True)
    panel.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    panel.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    layout = QVBoxLayout(panel)
    layout.addWidget(panel.scroll)
