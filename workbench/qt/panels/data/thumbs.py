"""The Data panel's "Images" box: a lazy thumbnail grid of the dataset's images, all of
them or one class's, with a menu to reveal a file and a double-click that opens its
folder."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Slot
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.qt.accessible import name_field
from workbench.qt.keyboard import menu_keys
from workbench.qt.thumbnails import ThumbnailLoader, ThumbnailModel, ThumbnailView, path_at
from workbench.qt.panels.data.views import reveal_in_file_manager, reveal_menu

ALL_CLASSES = "All classes"


class ClassImages(QGroupBox):
    """Thumbnails of the dataset shown (:meth:`set_index`), filtered by the class combo."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Images", parent)
        self.index: Any = None
        self.class_combo = QComboBox()
        self.class_combo.currentIndexChanged.connect(self._on_class_chosen)
        self.grid_label = QLabel("")
        self.loader = ThumbnailLoader(self)
        self.thumb_model = ThumbnailModel(self.loader, self)
        self.thumbs = ThumbnailView()
        self.thumbs.setModel(self.thumb_model)
        self.thumbs.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.thumbs.customContextMenuRequested.connect(self._on_thumb_menu)
        menu_keys(self.thumbs)  # Shift+F10 opens a cell's menu (Exclude from training)
        self.thumbs.doubleClicked.connect(lambda i: reveal_in_file_manager(path_at(i)))
        lay = QVBoxLayout(self)
        combo_row = QHBoxLayout()
        label = QLabel("Show:")
        name_field(label, self.class_combo, "Show class")
        combo_row.addWidget(label)
        combo_row.addWidget(self.class_combo, 1)
        combo_row.addWidget(self.grid_label)
        lay.addLayout(combo_row)
        lay.addWidget(self.thumbs)

    def set_index(self, index: Any) -> None:
        """Show the images of ``index`` (None: none), every class first."""
        self.index = index
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        if index is not None and index.classes:
            self.class_combo.addItem(ALL_CLASSES)
            self.class_combo.addItems(list(index.classes))
        self.class_combo.blockSignals(False)
        self._on_class_chosen()

    def samples(self) -> list[tuple[str, int]]:
        """The training and validation images of the dataset shown."""
        if self.index is None:
            return []
        return list(self.index.samples) + list(self.index.val_samples or [])

    def show_class(self, name: str | None) -> None:
        """Show the thumbnails of class ``name`` (None: every class)."""
        i = self.class_combo.findText(name if name else ALL_CLASSES)
        if i >= 0:
            self.class_combo.setCurrentIndex(i)

    @Slot()
    def _on_class_chosen(self) -> None:
        samples = self.samples()
        name = self.class_combo.currentText()
        one_class = self.index is not None and name in self.index.classes
        if one_class:
            label = self.index.classes.index(name)
            samples = [s for s in samples if s[1] == label]
        # Every class shown: each caption names its image's class over its file (files
        # alike across class folders, img_0.png, were told apart only by their tooltips).
        self.thumbs.set_caption_lines(1 if one_class else 2)
        self.thumb_model.set_samples(samples, list(self.index.classes) if self.index else [],
                                     name_classes=not one_class)
        self.thumbs.scrollToTop()
        self.grid_label.setText(f"{len(samples):,} images" if self.index is not None else "")

    @Slot(QPoint)
    def _on_thumb_menu(self, pos: QPoint) -> None:
        index = self.thumbs.indexAt(pos)
        if index.isValid():
            reveal_menu(self, path_at(index), self.thumbs.viewport().mapToGlobal(pos))
