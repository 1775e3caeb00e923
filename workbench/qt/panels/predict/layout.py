"""The Predict panel's widgets and their layout (kept apart from its behaviour)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence, QPainter, QPalette, QPen, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QComboBox, QDoubleSpinBox,
                               QFileDialog, QFrame, QHBoxLayout, QLabel, QListView, QMenu,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from workbench.qt.accessible import name_field
from workbench.qt.colours import follow_palette
from workbench.qt.common import MessageLabel, image_file_filter
from workbench.qt.panels.predict.delegate import PredictionDelegate
from workbench.qt.panels.predict.filters import ALL_CLASSES, FilterNote
from workbench.qt.panels.predict.jobs import NO_MODEL_TEXT
from workbench.qt.panels.predict.model import SORT_MODES, ItemRole
from workbench.qt.panels.predict.runs import RunChooser

SORT_LABELS = {"added": "Order added", "name": "Name", "class": "Predicted class",
               "confidence": "Confidence"}


class DropHint(QFrame):
    """The empty list's hint, in a dashed frame: a quiet text, readable on a light or a
    dark palette and chosen again when it changes (a style sheet's fixed #777 read at
    3.9:1 on the light window; any style sheet froze the palette it was built with)."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        font = QFont(self.font())
        font.setPointSizeF(14)
        self.setFont(font)  # the label's, which follow_palette leaves inherited
        self.label = QLabel(text)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setMargin(40)
        follow_palette(self.label)
        QVBoxLayout(self).addWidget(self.label)

    def paintEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 2,
                            Qt.PenStyle.DashLine))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)


def ask_images(parent: QWidget, start: str) -> list[str]:
    """The "Open images" file dialog, starting in ``start``; the files chosen (or none).

    The panel calls it through its ``ask_images`` attribute, which tests replace."""
    paths, _ = QFileDialog.getOpenFileNames(parent, "Open images", start, image_file_filter())
    return list(paths)


def row_menu(panel: Any, item: Any, can_explain: bool) -> QMenu:
    """The context menu of one of ``panel``'s rows: Explain… and Copy path."""
    menu = QMenu(panel)
    explain = QAction("Explain…", menu)
    explain.setEnabled(can_explain)
    explain.triggered.connect(lambda: panel.request_explain(item.path))
    copy = QAction("Copy path", menu)
    copy.triggered.connect(lambda: QApplication.clipboard().setText(item.path))
    menu.addAction(explain)
    menu.addAction(copy)
    return menu


def show_row_menu(panel: Any, pos: Any) -> None:
    """The context menu of the row under ``pos`` (in the view's viewport), if any."""
    index = panel.view.indexAt(pos)
    if index.isValid():
        menu = panel.context_menu(index.data(ItemRole))
        menu.exec(panel.view.viewport().mapToGlobal(pos))


def build_panel(self: Any) -> None:
    """Create the widgets of ``self`` (a PredictPanel), connect them and lay them out."""
    self.model_combo = RunChooser()
    self.model_combo.bundle_chosen.connect(self.set_bundle)
    self.model_combo.other_requested.connect(self.choose_bundle)
    self.load_button = QPushButton("Load bundle…")
    self.load_button.clicked.connect(self.choose_bundle)
    self.bundle_label = MessageLabel(NO_MODEL_TEXT)
    model_label = QLabel("Model:")
    top = QHBoxLayout()
    top.addWidget(model_label)
    top.addWidget(name_field(model_label, self.model_combo))
    top.addWidget(self.load_button)
    top.addWidget(self.bundle_label, 1)
    # Shown while the model's classes are not the loaded dataset's.
    self.classes_warning = MessageLabel("")
    self.classes_warning.hide()

    self.open_button = QPushButton("Open images…")
    self.open_button.clicked.connect(self.choose_images)
    self.paste_button = QPushButton("Paste")
    self.paste_button.setToolTip("Classify the image or image files on the clipboard "
                                 "(Ctrl+V)")
    self.paste_button.clicked.connect(self.paste)
    self.clear_button = QPushButton("Clear")
    self.clear_button.clicked.connect(self.clear)
    self.export_button = QPushButton("Export CSV…")
    self.export_button.setToolTip("Save the rows shown (sorted and filtered) as CSV: clear "
                                  "the filters to save every row")
    self.export_button.clicked.connect(lambda: self.export_csv())
    self.sort_combo = QComboBox()
    for mode in SORT_MODES:
        self.sort_combo.addItem(SORT_LABELS[mode], mode)
    self.sort_combo.currentIndexChanged.connect(
        lambda _: self.proxy.set_sort_mode(self.sort_combo.currentData()))
    self.class_combo = QComboBox()
    self.class_combo.addItem(ALL_CLASSES)
    self.class_combo.setMinimumWidth(120)
    self.class_combo.currentIndexChanged.connect(self._on_class_filter_changed)
    self.min_conf = QDoubleSpinBox()
    self.min_conf.setRange(0, 100)
    self.min_conf.setDecimals(0)
    self.min_conf.setSuffix(" %")
    self.min_conf.setToolTip("Show only images whose top class has at least this "
                             "probability")
    self.min_conf.valueChanged.connect(lambda v: self.proxy.set_min_confidence(v / 100))
    tools = QHBoxLayout()
    for w in (self.open_button, self.paste_button, self.clear_button, self.export_button):
        tools.addWidget(w)
    tools.addStretch(1)
    for text, w, name in (("Sort:", self.sort_combo, "Sort"),
                          ("Class:", self.class_combo, "Show class"),
                          ("Min. confidence:", self.min_conf, "Minimum confidence")):
        label = QLabel(text)
        tools.addWidget(label)
        tools.addWidget(name_field(label, w, name))

    self.progress = QProgressBar()
    self.progress.setFormat("%v / %m images")
    self.cancel_button = QPushButton("Cancel")
    self.cancel_button.clicked.connect(self.cancel)
    self.status = MessageLabel("")
    progress_row = QHBoxLayout()
    progress_row.addWidget(self.progress, 1)
    progress_row.addWidget(self.cancel_button)
    progress_row.addWidget(self.status, 1)
    self.progress.hide()
    self.cancel_button.hide()

    self.hint = DropHint("Drop image files or folders here to classify them, or paste an "
                         "image (Ctrl+V).")
    self.view = QListView()
    self.view.setModel(self.proxy)
    name_field(None, self.view, "Predictions")
    self.view.setItemDelegate(PredictionDelegate(self.view))
    # Equal rows: the view lays out thousands of them without asking each one its size.
    self.view.setUniformItemSizes(True)
    self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    self.view.customContextMenuRequested.connect(lambda pos: show_row_menu(self, pos))
    self.view.hide()
    # Says what the filters hide (a blank list otherwise: every row filtered out).
    self.filter_note = FilterNote()
    self.filter_note.clear_requested.connect(self.clear_filters)
    for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                   self.proxy.layoutChanged, self.model.rowsInserted, self.model.modelReset,
                   self.class_combo.currentIndexChanged, self.min_conf.valueChanged):
        signal.connect(lambda *_: self.filter_note.update_from(self.proxy))
    # Clear and Export CSV… have nothing to act on before the first row.
    for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
        signal.connect(lambda *_: _enable_row_buttons(self))
    _enable_row_buttons(self)
    paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
    paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    paste.activated.connect(self.paste)

    layout = QVBoxLayout(self)
    layout.addLayout(top)
    layout.addWidget(self.classes_warning)
    layout.addLayout(tools)
    layout.addLayout(progress_row)
    layout.addWidget(self.filter_note)
    layout.addWidget(self.hint, 1)
    layout.addWidget(self.view, 1)


def _enable_row_buttons(panel: Any) -> None:
    has_rows = panel.model.rowCount() > 0
    panel.clear_button.setEnabled(has_rows)
    panel.export_button.setEnabled(has_rows)
