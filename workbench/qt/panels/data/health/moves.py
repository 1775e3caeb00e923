"""The Health view's file moves: *Move to suggested class* (after a confirmation) and
*Undo move*, kept per dataset folder (:mod:`workbench.core.data.health.saved`) so Undo
still works after a restart, an exclusion of the file moved following it, and the note that the findings shown are out of date after
one (a move re-deals the train/validation split of the classes it touches).

:class:`MoveActions` is mixed into :class:`~.view.HealthView`: it uses the view's
``index``, ``report``, ``model``, ``moves``, ``confirm`` and its message lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.data.health.actions import Move
from workbench.core.errors import DataError

from workbench.qt.panels.data.health.findings import relative


def moved_to(move: Move) -> str:
    """The class folder ``move`` put its image in."""
    return Path(move.target).parent.name


def stale_text(index: Any, data: Any, classes: list[str], undone: bool = False) -> str:
    """Why the findings shown are out of date after a move (or its undo) between
    ``classes``."""
    what = "A move was undone" if undone else "Files were moved"
    names = " and ".join(repr(c) for c in dict.fromkeys(classes))
    if getattr(index, "val_samples", None) is not None and data.use_folder_split:
        return (f"{what} since the check (class {names}): Check again to see the findings "
                f"of the folder as it is now.")
    whose = f"of {names}" if data.stratified else "of every class"
    return (f"{what} since the check: the train/validation split {whose} is dealt again, "
            f"so the sides and leaks shown are out of date. Check again to see them.")


def _class_folder(index: Any, path: str) -> str:
    from workbench.core.data.health.actions import part_of

    try:
        return part_of(index, path)[1]
    except DataError:
        return Path(path).parent.name


class MoveActions:
    """*Move to suggested class* and *Undo move* for :class:`~.view.HealthView`."""

    index: Any
    report: Any
    moves: list[Move]

    def move_to_suggested(self) -> None:
        """Move the selected likely mislabelled image into its suggested class's folder,
        after a confirmation; the folder is scanned again."""
        from workbench.core.data.health.actions import move_to_class

        sel = self.selected()
        if sel is None or sel[1].kind != "label" or self.index is None:
            return
        f = sel[1]
        path, given, to = f.paths[0], f.classes[0], f.suggested
        name = relative(self.report, path)
        if not self.confirm(self, "Move to another class",
                            f"Move {name} from class {given!r} to class {to!r}?\n\nThe file "
                            f"moves into the folder of {to!r}; Undo move puts it back."):
            return
        try:
            move = move_to_class(self.index, path, to)
        except DataError as e:
            self._say(f"Not moved: {e}", "error")
            return
        self.moves.append(move)
        self._keep_moves()
        self.model.set_moved(path, to)
        renamed = (f" under the name {Path(move.target).name}: {to}/ has a "
                   f"{Path(move.source).name} already" if move.renamed else "")
        self._say(f"Moved {name} from {given!r} to {to!r} "
                  f"({relative(self.report, move.target)}){renamed}. Undo move puts it "
                  f"back.{self._follow(move.source, move.target)}",
                  "warning" if move.renamed else "ok")
        self.mark_stale(stale_text(self.index, self.experiment.data, [given, to]))
        self.rescan_requested.emit()
        self._update_actions()

    def undo_move(self) -> None:
        """Move the last moved file back where it was; the folder is scanned again."""
        from workbench.core.data.health.actions import undo

        if not self.moves:
            return
        move = self.moves[-1]
        try:
            undo(move)
        except DataError as e:
            self._say(f"Cannot undo: {e}", "error")
            return
        self.moves.pop()
        self._keep_moves()
        self.model.set_moved(move.source, None)
        back = _class_folder(self.index, move.source)
        where = relative(self.report, move.source) if self.report is not None \
            else move.source
        self._say(f"Moved {where} back.{self._follow(move.target, move.source)}", "ok")
        self.mark_stale(stale_text(self.index, self.experiment.data,
                                   [back, moved_to(move)], undone=True))
        self.rescan_requested.emit()
        self._update_actions()

    def _follow(self, source: str, target: str) -> str:
        """Make the ``data.exclude`` entries naming ``source`` name ``target``, where the
        file went (:func:`~workbench.core.data.health.actions.followed`); what to add to
        the message ("" when none did)."""
        from workbench.core.data.health.actions import followed

        old = list(self.experiment.data.exclude)
        new = followed(old, self.index, source, target) if self.index is not None else old
        if new == old:
            return ""
        self._change_exclude(new)
        return " Its exclusion (data.exclude) follows it, so it stays out of training."

    def show_moves(self) -> None:
        """Mark the images of the rows that the remembered moves took away."""
        for move in self.moves:
            self.model.set_moved(move.source, moved_to(move))

    def _keep_moves(self) -> None:
        from workbench.core.data.health.saved import save_moves

        if self.index is not None:
            save_moves(self.index.root, self.moves)
