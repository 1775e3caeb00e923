"""The training doctor's findings as a list: one row each, with its fix button.

A finding is the plain dict the trainer's ``on_finding`` hook carries and run.json keeps
(:class:`~workbench.core.train.doctor.findings.RunFinding`'s ``to_dict()``): ``{"kind",
"epoch", "severity", "message", "fix", "action"}``. A row shows the severity (icon and
colour), the epoch and the message, the fix on a line of its own under it, word-wrapped
(the whole text is also its tooltip), and, when the finding has an ``action``, a button
labelled with it. The core's texts are written for the command line too ("lower it (--lr
0.01)", "the LR finder (workbench lr-find)"): :func:`app_text` says them the app's way.

:class:`FindingsView` only shows findings and says which fix was asked for
(``fix_requested``); the Train tab applies it (:mod:`workbench.qt.panels.train.fixes`)
and then marks every finding shown as addressed (:meth:`FindingsView.mark_addressed`): the
row greyed with a note ("Applied: lr = 0.003." on the one applied, "Found before the fix
(lr = 0.003)." on the others) and its fix button disabled ("Applied" on the one applied),
so an outdated fix, or a second one over the first, cannot be pressed; findings the run
reports after it come with their buttons. Applied is not fixed: only the run can show
that. A finding the run shows to be no longer true (it
comes again with ``resolved``: a run at chance that learns after all, or one fixed by
continuing at the rate its fix set, a divergence once the continued run kept an epoch) is
greyed the same way, "Withdrawn: …" (its fix kept while the network has its cause)
(:func:`withdrawn_note`), in place of a fix's note: that is what run.json keeps, so the row
reads the same after a restart. The Runs tab shows a selected run's findings
with the same view, without buttons. Importing this module does not import torch.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QStyle,
                               QVBoxLayout, QWidget)

from workbench.qt.colours import LEVEL_COLOURS, readable_colour
from workbench.qt.keyboard import chain_after
# The texts as the app says them (read from here too: the line under the plots).
from workbench.qt.panels.train.finding_texts import app_text, sentence  # noqa: F401

SEVERITIES = ("error", "warning", "info")
#: Severity -> (standard icon, colours of its "Epoch N" and of the Doctor tab's title: on a
#: light window, on a dark one; :func:`severity_colour`).
_LOOK = {
    "error": (QStyle.StandardPixmap.SP_MessageBoxCritical, LEVEL_COLOURS["error"]),
    "warning": (QStyle.StandardPixmap.SP_MessageBoxWarning, LEVEL_COLOURS["warning"]),
    "info": (QStyle.StandardPixmap.SP_MessageBoxInformation, ("#1f5fa8", "#90caf9")),
}
#: The colour of a finding addressed by a fix (:meth:`FindingRow.address`).
ADDRESSED = "#808080"
#: How the note of a finding the doctor withdrew begins (:func:`withdrawn_note`).
WITHDRAWN = "Withdrawn: "
#: How the note of a finding whose fix was applied begins: applied, not yet shown fixed.
APPLIED = "Applied: "
#: What a tab or tool named by ``action["open"]`` is called in the button's tooltip.
OPENS = {"augment": "the Augment tab", "model": "the Model tab",
         "lr_finder": "the learning-rate finder"}


def normalised(finding: Any) -> dict[str, Any] | None:
    """``finding`` with every key present and of its type (run.json is a file anyone may
    edit); None when it is not a finding at all."""
    if not isinstance(finding, dict) or not finding.get("message"):
        return None
    severity = str(finding.get("severity") or "info").lower()
    try:
        epoch = int(finding.get("epoch") or 0)
    except (TypeError, ValueError):
        epoch = 0
    action = finding.get("action")
    if isinstance(action, dict) and action.get("label"):
        settings = action.get("set")
        action = {"label": button_label(action),
                  "set": dict(settings) if isinstance(settings, dict) else {},
                  "continue": bool(action.get("continue")),
                  "open": str(action.get("open") or "")}
    else:
        action = None
    return {"kind": str(finding.get("kind") or ""), "epoch": epoch,
            "severity": severity if severity in SEVERITIES else "info",
            "message": str(finding["message"]), "fix": str(finding.get("fix") or ""),
            "action": action, "resolved": str(finding.get("resolved") or "")}


def withdrawn_note(finding: dict[str, Any]) -> str:
    """The note of a finding the doctor withdrew (``resolved``: why), "" for one it did not."""
    why = finding.get("resolved") or ""
    return f"{WITHDRAWN}{why.rstrip('.')}." if why else ""


def button_label(action: dict[str, Any]) -> str:
    """A fix button's label saying what it does: a fix that only sets a rate is "Use lr
    0.001", not the core's "Train with lr 0.001" (it trains nothing: Start training does)."""
    label = str(action["label"])
    if label.startswith("Train with ") and not action.get("continue") and \
            not action.get("open"):
        return "Use " + label[len("Train with "):]
    return label


def run_findings(run_dir: str | Path) -> list[dict[str, Any]]:
    """The findings run.json of ``run_dir`` holds (``[]`` for a run from before the
    doctor, or an unreadable run.json)."""
    from workbench.core.runs.store import read_run_info

    found = read_run_info(run_dir).get("findings") if run_dir else None
    return [f for f in map(normalised, found if isinstance(found, list) else []) if f]


def action_text(action: dict[str, Any] | None) -> str:
    """What pressing the fix button does, in words (its tooltip)."""
    if not action:
        return ""
    parts = [f"set {path} = {value!r}" for path, value in action["set"].items()]
    if action["continue"]:
        parts.append("continue the run with it")
    if action["open"]:
        parts.append(f"open {OPENS.get(action['open'], action['open'])}")
    return (", ".join(parts) or "apply the fix").capitalize()


def worst(findings: list[dict[str, Any]]) -> str:
    """The most severe severity among ``findings`` ("info" when there are none)."""
    return next((s for s in SEVERITIES if any(f["severity"] == s for f in findings)), "info")


def severity_icon(widget: QWidget, severity: str) -> QIcon:
    return widget.style().standardIcon(_LOOK.get(severity, _LOOK["info"])[0])


def severity_colour(severity: str, palette: QPalette) -> str:
    """The colour that marks ``severity`` ("#rrggbb"), readable on ``palette``'s window,
    light or dark (:func:`~workbench.qt.colours.readable_colour`)."""
    return readable_colour(*_LOOK.get(severity, _LOOK["info"])[1], palette).name()


class FindingRow(QFrame):
    """One finding: severity icon, "Epoch N", message and fix, and its fix button.

    Signals
    -------
    fix_requested(finding)
        The fix button was pressed.
    """

    fix_requested = Signal(object)

    def __init__(self, finding: dict[str, Any], with_fix: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.finding = finding
        #: Why the finding no longer stands as it was ("" while it does): a fix applied, or
        #: the doctor withdrew it.
        self.note = withdrawn_note(finding)
        self.applied = False  # its own fix was the one applied
        #: Withdrawn, but the cause it names is still in the experiment: its fix stays.
        self.cause_remains = False
        #: News about the finding that leaves it open ("Updated: …"), "" when none.
        self.remark = ""
        severity = finding["severity"]
        icon = QLabel()
        icon.setPixmap(severity_icon(self, severity).pixmap(16, 16))
        icon.setToolTip(severity)
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        where = f"Epoch {finding['epoch']}" if finding["epoch"] else "Setup"
        self.text = QLabel()
        self._render()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        message, fix = self.app_texts()
        tip = f"{where} ({severity}, {finding['kind'] or 'finding'}): {message}"
        self.text.setToolTip(tip + (f"\n\nFix: {fix}" if fix else ""))
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 2, 2)
        row.addWidget(icon)
        row.addWidget(self.text, 1)
        self.button: QPushButton | None = None
        action = finding["action"]
        if with_fix and action is not None:
            self.button = QPushButton(action["label"])
            self.button.setToolTip(action_text(action))
            self.button.clicked.connect(lambda _=False: self.fix_requested.emit(self.finding))
            row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)

    def app_texts(self) -> tuple[str, str]:
        """The finding's message and fix as the app says them (:func:`app_text`), each a
        sentence; the fix ``""`` when it has none."""
        f = self.finding
        fix = sentence(app_text(f["fix"])) if f["fix"] else ""
        return sentence(app_text(f["message"])), fix

    def _render(self) -> None:
        f = self.finding
        where = f"Epoch {f['epoch']}" if f["epoch"] else "Setup"
        colour = ADDRESSED if self.note else severity_colour(f["severity"], self.palette())
        message, fix = self.app_texts()
        # The fix on a line of its own: run on after the message, the two read as one.
        shown = f"<br><i>Fix: {html.escape(fix, quote=False)}</i>" if fix else ""
        note = f"&nbsp; <b>{html.escape(self.note, quote=False)}</b>" if self.note else ""
        remark = f"<br><b>{html.escape(self.remark, quote=False)}</b>" if self.remark else ""
        body = f"{html.escape(message, quote=False)}{shown}{note}{remark}"
        if self.note:
            body = f"<span style='color: {ADDRESSED};'>{body}</span>"
        #: The row's text without markup (a line break where the row has one).
        self.plain = f"{where}: {message}" + (f"\nFix: {fix}" if fix else "") \
            + (f" {self.note}" if self.note else "") \
            + (f"\n{self.remark}" if self.remark else "")
        self.text.setText(f"<b style='color: {colour};'>{where}:</b> {body}")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802  (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plain"):
            self._render()  # "Epoch N" in the colour readable on the new window

    def address(self, note: str, applied: bool = False) -> None:
        """Show the finding as addressed by a fix: greyed, with ``note``; ``applied``: its
        own fix was the one applied (its button then says "Applied")."""
        self.note, self.applied = note, applied
        self._render()
        if self.button is not None:
            self.button.setText("Applied" if applied else self.finding["action"]["label"])

    def set_remark(self, text: str) -> None:
        """Say ``text`` under the finding (news that leaves it open); "" says nothing."""
        self.remark = text
        self._render()


class FindingsView(QWidget):
    """The findings of one run, in the order they came, each a :class:`FindingRow`.

    Parameters
    ----------
    with_fixes
        Show the fix buttons (the Train tab); without, the rows only say what to do.
    title
        A heading above the rows (with the count), or none.

    Signals
    -------
    fix_requested(finding)
        A row's fix button was pressed (``finding["action"]`` says what to do).
    changed(count)
        The findings shown changed, or a fix addressed some; ``count`` are shown now
        (:meth:`open_findings`: those no fix has addressed).
    """

    fix_requested = Signal(object)
    changed = Signal(int)

    def __init__(self, with_fixes: bool = True, title: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.with_fixes = with_fixes
        self._title = title
        self.title = QLabel("")
        self.title.setVisible(bool(title))
        self.findings: list[dict[str, Any]] = []
        self.rows: list[FindingRow] = []
        self._running = False
        self._box = QWidget()
        self._rows = QVBoxLayout(self._box)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(2)
        self._rows.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self._box)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the fix buttons
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.scroll)

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        # As tall as the rows wrapped at the width there is (a maximum height caps it;
        # beyond, they scroll), not the scroll area's small default.
        width = max(100, self.scroll.viewport().width())
        rows = self._box.layout()
        content = rows.heightForWidth(width) if rows.hasHeightForWidth() else \
            rows.sizeHint().height()
        title = self.title.sizeHint().height() + 2 if not self.title.isHidden() else 0
        return QSize(super().sizeHint().width(), title + content + 4)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the rows wrap anew: another height fits them

    def clear(self) -> None:
        self.set_findings([])

    def set_findings(self, findings: list[Any]) -> None:
        """Show ``findings`` (dicts as run.json holds them) instead of those shown."""
        for row in self.rows:
            self._rows.removeWidget(row)  # gone now, not at the next event loop
            row.hide()
            row.deleteLater()
        self.findings, self.rows = [], []
        for f in findings:
            self._add(f)
        self._changed()

    def add_finding(self, finding: Any) -> bool:
        """Add one finding (as the run reports it); False when it is shown already (a
        resumed run's earlier findings are read from run.json and may come again)."""
        added = self._add(finding)
        if added:
            self._changed()
        return added

    def _changed(self) -> None:
        n = len(self.findings)
        self.title.setText(f"<b>{html.escape(self._title)}</b>: {n} finding"
                           f"{'' if n == 1 else 's'}")
        self.updateGeometry()
        self.changed.emit(n)

    def _add(self, finding: Any) -> bool:
        f = normalised(finding)
        key = (lambda g: (g["kind"], g["epoch"], g["message"]))
        same = [r for r in self.rows if f is not None and key(r.finding) == key(f)]
        if same and f["resolved"] and not same[0].finding["resolved"]:  # withdrawn now
            same[0].finding["resolved"] = f["resolved"]
            # Over a fix's note ("Fixed: …"): run.json says this, and a restart shows it.
            same[0].address(withdrawn_note(f))
            self._enable(same[0])
            return True
        if f is None or same:
            return False
        row = FindingRow(f, self.with_fixes)
        row.fix_requested.connect(self.fix_requested)
        self.findings.append(f)
        self.rows.append(row)
        self._rows.insertWidget(self._rows.count() - 1, row)  # above the stretch
        if row.button is not None:  # made after the window: Tab reached it after the plots
            chain_after(self, [r.button for r in self.rows if r.button is not None])
        self._enable(row)
        return True

    def set_running(self, running: bool) -> None:
        """While a run trains, fixes that change its settings wait for its end (it trains
        a snapshot); those that only open a tab stay available."""
        self._running = running
        for row in self.rows:
            self._enable(row)

    def mark_addressed(self, applied: dict[str, Any], what: str) -> None:
        """A fix was applied: ``applied`` (a finding shown) set ``what`` (in words). Every
        finding shown was found before it, at the settings it changed, so each is greyed
        with a note and its fix that sets or continues is disabled (a fix that only opens
        a tab stays); one addressed by an earlier fix keeps its note."""
        key = (lambda g: (g.get("kind"), g.get("epoch"), g.get("message")))
        for row in self.rows:
            if row.note:
                continue
            if key(row.finding) == key(applied):
                row.address(f"{APPLIED}{what}.", applied=True)
            else:
                row.address(f"Found before the fix ({what}).")
            self._enable(row)
        self._changed()  # the Doctor tab counts and colours only the open ones

    def mark_fixed_elsewhere(self, i: int, note: str) -> None:
        """Row ``i``'s cause was fixed on another tab, or the restored run was continued
        with its fix (``note`` says so), or came back (``note`` ""): only that row is
        greyed, or open again."""
        row = self.rows[i]
        if row.note == note:
            return
        row.address(note)
        self._enable(row)
        self._changed()

    def keep_fix(self, i: int, keep: bool) -> None:
        """Row ``i`` (withdrawn) names a cause still in the experiment: its fix stays."""
        self.rows[i].cause_remains = keep
        self._enable(self.rows[i])

    def set_remark(self, i: int, text: str) -> None:
        """Say ``text`` under row ``i`` (:meth:`FindingRow.set_remark`)."""
        self.rows[i].set_remark(text)
        self.updateGeometry()

    def open_findings(self) -> list[dict[str, Any]]:
        """The findings shown that no fix has addressed yet."""
        return [row.finding for row in self.rows if not row.note]

    def addressed(self) -> list[str]:
        """Each row's note ("" for a finding no fix has addressed)."""
        return [row.note for row in self.rows]

    def _enable(self, row: FindingRow) -> None:
        if row.button is None:
            return
        action = row.finding["action"]
        opens_only = not action["set"] and not action["continue"] and \
            action["open"] in ("augment", "model")
        if row.note and not opens_only and not row.cause_remains:
            row.button.setEnabled(False)
            row.button.setToolTip(f"{row.note} Train again, or continue the run, to see "
                                  f"whether it still holds.")
            return
        row.button.setEnabled(not self._running or opens_only)
        row.button.setToolTip(action_text(action) if row.button.isEnabled() else
                              f"{action_text(action)}: available when the run has ended")

    def fix_button(self, i: int) -> QPushButton | None:
        """Finding ``i``'s fix button (None when it has none)."""
        return self.rows[i].button if 0 <= i < len(self.rows) else None

    def texts(self) -> list[str]:
        """Each row's text without markup."""
        return [row.plain for row in self.rows]


def _main() -> int:
    from workbench.qt.common import run_standalone

    def make() -> FindingsView:
        view = FindingsView()
        if len(sys.argv) > 1:
            view.set_findings(run_findings(sys.argv[1]))
        else:
            view.set_findings([
                {"kind": "diverged", "epoch": 3, "severity": "error",
                 "message": "The loss became NaN.", "fix": "Lower the learning rate.",
                 "action": {"label": "Continue at lr 0.0001", "set":
                            {"optimizer.params.lr": 1e-4}, "continue": True, "open": ""}},
                {"kind": "overfitting", "epoch": 8, "severity": "warning",
                 "message": "Validation loss rises while training loss falls.",
                 "fix": "Add augmentation.", "action": {"label": "Open Augment", "set": {},
                                                        "continue": False,
                                                        "open": "augment"}}])
        view.fix_requested.connect(lambda f: print("fix:", f["action"]))
        return view

    return run_standalone(make, "Training doctor")


if __name__ == "__main__":
    sys.exit(_main())
