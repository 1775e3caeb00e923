"""The Health view's chosen image and what the action bar offers for it: the selected row,
the image chosen in it (a click on another image of the row chooses that one), *Exclude
from training* / *Include again* through the experiment's ``data.exclude``, and the line
saying what is chosen and why a button is off.

:class:`ChosenImage` is mixed into :class:`~.view.HealthView`: it uses the view's
``table``, ``model``, ``report``, ``index``, ``moves``, its buttons and message lines.
"""

from __future__ import annotations

from typing import Any

from workbench.core.data.health.labels import is_reliable

from workbench.qt.panels.data.health.excluded import excluded_text, set_excluded
from workbench.qt.panels.data.health.findings import Finding, relative


class ChosenImage:
    """The chosen image and its actions, for :class:`~.view.HealthView`."""

    def selected(self) -> tuple[int, Finding] | None:
        """``(source row, finding)`` of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        row = self.table.source_row(rows[0]) if rows else None
        return None if row is None else (row, self.model.findings[row])

    def chosen_path(self) -> str:
        """The chosen image of the selected row ("" when none is selected)."""
        sel = self.selected()
        return sel[1].paths[self.model.chosen_image(sel[0])] if sel else ""

    def select(self, finding: Finding, image: int | None = None) -> None:
        """Select ``finding``'s row (and choose its ``image``), as a click does."""
        row = self.model.findings.index(finding)
        if image is not None:
            self.model.choose(row, image)
        self.table.selectRow(self.table.proxy.mapFromSource(self.model.index(row, 0)).row())

    def set_excluded(self, paths: list[str], excluded: bool = True) -> None:
        """Exclude ``paths`` from training (or include them again) through the experiment's
        ``data.exclude``: every tab hears it."""
        if self.index is None:
            return
        rels, changed = set_excluded(self.experiment, self.index, paths, excluded)
        if changed:
            self.experiment_changed.emit()
        test = self.report is not None and all(self.report.side_of.get(p) == "test" for p in paths)
        self._say(excluded_text(rels, excluded, "evaluation on the test part" if test
                                else "training"), "ok")

    def include_entries(self, entries: list[str]) -> None:
        """Take ``entries`` (as ``data.exclude`` names them) out of the exclusion list."""
        self._change_exclude([e for e in self.experiment.data.exclude if e not in entries])

    def _change_exclude(self, new: list[str]) -> None:
        if new != list(self.experiment.data.exclude):
            self.experiment.data.exclude = new
            self.experiment_changed.emit()

    def toggle_exclude(self) -> None:
        path = self.chosen_path()
        if path:
            self.set_excluded([path], path not in self.model.excluded)

    def _update_actions(self, *_: Any) -> None:
        sel = self.selected()
        path = self.chosen_path()
        moved = path in self.model.moved
        excluded = path in self.model.excluded
        skipped = sel is not None and sel[1].kind == "unreadable"  # never trained on anyway
        gone = not moved and self.gone(path)  # deleted or moved away since the check
        self.exclude_button.setEnabled(bool(path) and not moved and not skipped
                                       and not gone and self.index is not None)
        test = sel is not None and sel[1].sides[self.model.chosen_image(sel[0])] == "test"
        self.exclude_button.setText("Include again" if excluded else
                                    f"Exclude from {'evaluation' if test else 'training'}")
        trusted = self.report is not None and is_reliable(self.report)
        self.move_button.setEnabled(sel is not None and sel[1].kind == "label" and not moved
                                    and not excluded and trusted and not gone)
        self.move_button.setToolTip(self.actions.move_tip if trusted else (
            "Off: the label check's network was too weak for its findings to be trusted "
            "(see the line above). Exclude the image if you are sure it is wrong, or check "
            "the labels again with a stronger network"))
        self.undo_button.setEnabled(bool(self.moves))
        self.reveal_button.setEnabled(bool(path) and not gone)
        if sel is None:
            text = "Select a finding; click one of its images to choose it." \
                if self.table.proxy.rowCount() else ""
        else:
            f, i = sel[1], self.model.chosen_image(sel[0])
            where = f"{f.classes[i]}, {f.sides[i]}" if f.sides[i] else f.classes[i]
            state = (" — excluded" if excluded else
                     f" — moved to {self.model.moved[path]}" if moved else
                     " — no longer in the folder" if gone else "")
            more = "  (click another image of the row to choose it)" if len(f.paths) > 1 \
                else ""
            text = f"Chosen: {relative(self.report, path)} ({where}){state}{more}"
        self.actions.chosen_label.setText(text)
