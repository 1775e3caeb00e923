"""The Health view's chosen image and what the action bar offers for it: the selected row,
the image chosen in it (a click on another image of the row chooses that one, as
Alt+Right / Alt+Left do), *Exclude
from training* / *Include again* through the experiment's ``data.exclude``, and the line
saying what is chosen and why a button is off. With several rows selected (Shift/Ctrl-click,
Shift+arrows), *Exclude N chosen* / *Include N chosen again* act on the chosen image of
each in one edit of ``data.exclude``; Move and Reveal act on one row only. *Include
again* and *Include all* (which asks first when more than a few images would come back)
say which images are back.

:class:`ChosenImage` is mixed into :class:`~.view.HealthView`: it uses the view's
``table``, ``model``, ``report``, ``index``, ``moves``, its buttons and message lines.
"""

from __future__ import annotations

from typing import Any

from workbench.core.data.health.labels import is_reliable

from workbench.qt.panels.data.health.excluded import (excluded_text, included_text,
                                                      set_excluded)
from workbench.qt.panels.data.health.findings import Finding, relative
from workbench.qt.panels.data.health.table import CHOOSE_HINT


#: *Include all* asks first when it would bring back more images than this.
ASK_OVER = 3


class ChosenImage:
    """The chosen image and its actions, for :class:`~.view.HealthView`."""

    def selected_rows(self) -> list[tuple[int, Finding]]:
        """``(source row, finding)`` of each selected row, in the order shown."""
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda i: i.row())
        return [(r, self.model.findings[r]) for r in map(self.table.source_row, rows)
                if r is not None]

    def selected(self) -> tuple[int, Finding] | None:
        """``(source row, finding)`` of the selected row; None when none is, or several."""
        rows = self.selected_rows()
        return rows[0] if len(rows) == 1 else None

    def exclude_targets(self) -> list[str]:
        """The chosen image of each selected row that Exclude can act on (each once: rows
        may choose the same image, a blank one also in a row of copies)."""
        return list(dict.fromkeys(p for p in self._chosen_in_rows() if p))

    def _chosen_in_rows(self) -> list[str]:
        """The chosen image of each selected row, "" where Exclude cannot act on it: an
        unreadable file's (never trained on anyway), or one moved or gone since."""
        paths = ("" if f.kind == "unreadable" else f.paths[self.model.chosen_image(row)]
                 for row, f in self.selected_rows())
        return [p if p and p not in self.model.moved and not self.gone(p) else ""
                for p in paths]

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
        sides = self.report.side_of if self.report is not None else {}
        test = [sides.get(p) == "test" for p in paths]
        self._say(excluded_text([r for r, t in zip(rels, test) if not t], excluded,
                                [r for r, t in zip(rels, test) if t]), "ok")

    def include_entries(self, entries: list[str]) -> None:
        """Take ``entries`` (as ``data.exclude`` names them) out of the exclusion list, and
        say which images are back."""
        old = list(self.experiment.data.exclude)
        new = [e for e in old if e not in entries]
        if new != old:
            self._change_exclude(new)
            self._say(included_text(self.index, old, new), "ok")

    def include_all(self, entries: list[str]) -> None:
        """*Include all*: take every entry out, after asking when more than
        :data:`ASK_OVER` images (or entries) would come back at once."""
        from workbench.core.data.usage import excluded_images

        n = len(excluded_images(self.index, entries) if self.index is not None else ()) \
            or len(entries)
        if n > ASK_OVER and not self.confirm(
                self, "Include all excluded images",
                f"Bring all {n} excluded images back into training and evaluation?\n\n"
                f"data.exclude is emptied: to leave them out again, exclude each one again."):
            return
        self.include_entries(entries)

    def _change_exclude(self, new: list[str]) -> None:
        if new != list(self.experiment.data.exclude):
            self.experiment.data.exclude = new
            self.experiment_changed.emit()

    def toggle_exclude(self) -> None:
        """Exclude the chosen images of the selected rows (those not excluded yet), or,
        when all of them are, include them again: one edit of ``data.exclude``."""
        paths = self.exclude_targets()
        todo = [p for p in paths if p not in self.model.excluded]
        if paths:
            self.set_excluded(todo or paths, bool(todo))

    def _update_actions(self, *_: Any) -> None:
        rows = self.selected_rows()
        if len(rows) > 1:
            self._update_for_rows(len(rows))
            return
        sel = self.selected()
        path = self.chosen_path()
        moved = path in self.model.moved
        excluded = path in self.model.excluded
        gone = not moved and self.gone(path)  # deleted or moved away since the check
        self.exclude_button.setEnabled(bool(self.exclude_targets()) and self.index is not None)
        test = sel is not None and sel[1].sides[self.model.chosen_image(sel[0])] == "test"
        self.exclude_button.setText("Include again" if excluded else
                                    f"Exclude from {'evaluation' if test else 'training'}")
        trusted = self.report is not None and is_reliable(self.report)
        self.move_button.setEnabled(sel is not None and sel[1].kind == "label" and not moved
                                    and not excluded and trusted and not gone)
        self.move_button.setToolTip(self.actions.move_tip if trusted else (
            "Off: the label check's network was too weak for its findings to be trusted "
            "(the line above says why, and what would make them so). Exclude the image if "
            "you are sure it is wrong"))
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
            more = f"  ({CHOOSE_HINT})" if len(f.paths) > 1 else ""
            text = f"Chosen: {relative(self.report, path)} ({where}){state}{more}"
        self.actions.chosen_label.setText(text)

    def _update_for_rows(self, n: int) -> None:
        """The buttons and the line for ``n`` (2 or more) selected rows."""
        chosen = self._chosen_in_rows()
        paths = list(dict.fromkeys(p for p in chosen if p))
        todo = sum(p not in self.model.excluded for p in paths)
        self.exclude_button.setEnabled(bool(paths) and self.index is not None)
        self.exclude_button.setText(f"Exclude {todo} chosen" if todo or not paths else
                                    f"Include {len(paths)} chosen again")
        self.move_button.setEnabled(False)
        self.move_button.setToolTip("Off with several rows selected: select one likely "
                                    "mislabelled image to move it")
        self.undo_button.setEnabled(bool(self.moves))
        self.reveal_button.setEnabled(False)
        left = chosen.count("")  # rows, not images: two rows may choose one image
        self.actions.chosen_label.setText(
            f"{n} rows selected: Exclude acts on the image chosen in each (framed)"
            + (f"; {left} of them cannot be excluded (unreadable, moved or no longer in "
               f"the folder)" if left else ""))
