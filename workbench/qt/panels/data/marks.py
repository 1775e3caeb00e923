"""The images the experiment excludes (``data.exclude``), marked in the Data tab's
thumbnail grid, and the grid's context menu to exclude or include them.

:class:`ExcludedMarks` is installed on a :class:`~workbench.qt.thumbnails.ThumbnailView`:
its cells of excluded images are greyed with an "excluded" band and their tooltip says so,
and :meth:`ExcludedMarks.menu` offers *Exclude from training* / *Include again* beside
*Reveal in file manager*. Both edit the Experiment as the Health view does
(:func:`~workbench.qt.panels.data.health.excluded.set_excluded`): every view hears it.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from PySide6.QtCore import SIGNAL, QEvent, QModelIndex, QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter
from PySide6.QtWidgets import QAbstractItemView, QMenu, QStyleOptionViewItem, QToolTip

from workbench.qt.evented import subscribe
from workbench.qt.panels.data.health.excluded import set_excluded
from workbench.qt.thumbnails import ThumbnailDelegate, path_at

EXCLUDED_TIP = ("Excluded from training, validation, evaluation and tuning (the "
                "experiment's data.exclude): right-click it and choose Include again to "
                "bring it back")


def _wanted(exclude: list[str]) -> set[str]:
    return {e.replace("\\", "/") if os.path.isabs(e) else e.replace("\\", "/").strip("/")
            for e in exclude}


class ExcludedDelegate(ThumbnailDelegate):
    """A thumbnail cell, greyed with an "excluded" band when ``marks`` says its image is
    excluded; its tooltip then says so."""

    def __init__(self, marks: ExcludedMarks, size: int, parent: QObject | None = None):
        super().__init__(size, parent)
        self.marks = marks

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex) -> None:
        super().paint(painter, option, index)
        if not self.marks.is_excluded(path_at(index)):
            return
        square = self.icon_rect(option.rect)
        painter.save()
        painter.fillRect(square, QColor(255, 255, 255, 170))
        band = QRect(square.left(), square.center().y() - 9, square.width(), 18)
        painter.fillRect(band, QColor("#c62828"))
        painter.setPen(QColor("white"))
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, "excluded")
        painter.restore()

    def tooltip(self, index: QModelIndex) -> str:
        text = index.data(Qt.ItemDataRole.ToolTipRole) or ""
        if self.marks.is_excluded(path_at(index)):
            text = f"{text}\n{EXCLUDED_TIP}" if text else EXCLUDED_TIP
        return text

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,  # noqa: N802
                  option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            QToolTip.showText(event.globalPos(), self.tooltip(index), view)
            return True
        return super().helpEvent(event, view, option, index)


class ExcludedMarks(QObject):
    """Marks the excluded images of ``view`` and makes its context menu.

    Parameters
    ----------
    view
        The thumbnail grid; its delegate is replaced by an :class:`ExcludedDelegate`.
    current
        The :class:`~workbench.core.events.CurrentExperiment` whose ``data.exclude`` is
        shown and edited.
    index_of
        Returns the scan the grid shows (its paths are matched to the entries of
        ``data.exclude``, which are relative to its folder); default: ``current.dataset``.
    own_menu
        Take over the grid's context menu: the menus connected to it before (a bare
        *Reveal in file manager*) are disconnected and :meth:`exec_menu` shows this one,
        which begins with that entry.
    """

    def __init__(self, view: Any, current: Any, index_of: Callable[[], Any] | None = None,
                 own_menu: bool = True):
        super().__init__(view)
        self.view = view
        self.current = current
        self.index_of = index_of or (lambda: current.dataset)
        self.delegate = ExcludedDelegate(self, view.delegate.size, view)
        view.setItemDelegate(self.delegate)
        view.delegate = self.delegate
        subscribe(self, current.changed, self._on_experiment_changed)
        subscribe(self, current.replaced, lambda _exp: self.view.viewport().update())
        if own_menu:
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            if view.receivers(SIGNAL("customContextMenuRequested(QPoint)")):
                view.customContextMenuRequested.disconnect()
            view.customContextMenuRequested.connect(self.exec_menu)

    def is_excluded(self, path: str | None) -> bool:
        """Whether the experiment excludes ``path`` (an image of the scan shown)."""
        from workbench.core.data.split import relative_path

        index, exclude = self.index_of(), self.current.experiment.data.exclude
        if not path or index is None or not exclude:
            return False
        return relative_path(index, path) in _wanted(list(exclude))

    def _on_experiment_changed(self, section: str, field: str | None) -> None:
        if section == "data" and field in ("exclude", None):
            self.view.viewport().update()

    def paths_at(self, pos: QPoint) -> list[str]:
        """The images a context menu at ``pos`` acts on: the selected ones when the cell
        under ``pos`` is one of them, else that cell's."""
        index = self.view.indexAt(pos)
        if not index.isValid():
            return []
        selected = self.view.selectionModel().selectedIndexes()
        if index in selected:
            return [path_at(i) for i in selected]
        return [path_at(index)]

    def set_excluded(self, paths: list[str], excluded: bool = True) -> None:
        """Exclude ``paths`` from training (or include them again)."""
        index = self.index_of()
        if index is not None and paths:
            set_excluded(self.current.experiment, index, paths, excluded)

    def menu(self, pos: QPoint) -> QMenu | None:
        """The context menu of the cell at ``pos`` (viewport coordinates), or None."""
        from workbench.qt.panels.data.views import reveal_in_file_manager

        paths = self.paths_at(pos)
        if not paths:
            return None
        menu = QMenu(self.view)
        here = path_at(self.view.indexAt(pos))
        menu.addAction("Reveal in file manager",
                       lambda: reveal_in_file_manager(here, self.view))
        if self.index_of() is not None:
            out = [p for p in paths if self.is_excluded(p)]
            kept = [p for p in paths if p not in out]
            many = len(paths) > 1
            if kept:
                menu.addAction("Exclude from training" + (f" ({len(kept)})" if many else ""),
                               lambda: self.set_excluded(kept, True))
            if out:
                menu.addAction("Include again" + (f" ({len(out)})" if many else ""),
                               lambda: self.set_excluded(out, False))
        return menu

    def exec_menu(self, pos: QPoint) -> None:
        """Show :meth:`menu` at ``pos`` (the grid's ``customContextMenuRequested``)."""
        menu = self.menu(pos)
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))
