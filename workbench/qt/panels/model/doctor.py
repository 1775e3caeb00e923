"""The model doctor's findings: what may go wrong with this network, and one-click fixes.

The findings come from :func:`workbench.core.model.doctor.diagnose` (headless; looked up
once torch is imported, and optional). Each row shows its severity (icon and colour), its
title and a "Fix" button when the finding carries a fix. Below the list, the selected
finding's explanation (why it matters, what happens in training) is shown in full, word
wrapped: the worst finding's at first, another's once it is clicked or reached with the
arrow keys. A finding the user picked stays selected while the network is edited; else the
selection follows the worst finding, and a new finding worse than the one shown is selected
(a Softmax added to a network whose tip was shown: its why shows without a click). Info
findings are tips ("Tip: ..."), not problems: the title counts them apart ("no problems
found; 1 tip"), as ``workbench train`` prints only warnings. A learner does not hover, so
the explanation is never a tooltip only, and the pane keeps room for its rows (up to
three) and a few lines of explanation however small the window. It asks for the height
of all its rows and of the whole explanation (up to :data:`MAX_EXPLANATION_LINES` lines)
and its list is never taller than its rows (no empty box under one finding): the Model tab
gives the layer cards the rest (:mod:`.doctor_share`).
The panel applies fixes (as undoable commands): this widget only says which was asked for.
A screen reader, which hears nothing of a row's widgets, hears each row's severity and
title ("Warning: layer 5 (Dropout) drops 90% of its inputs") and its explanation: the
item's accessible text and description (the item has no text, which would show under them).

The doctor and the cards agree: while a layer does not fit (its card is red), the first
row says so, naming the layer and what to change (the builder's message), never "No
problems found"; the doctor's own checks follow it.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QStyle, QVBoxLayout,
                               QWidget)

from workbench.core.errors import WorkbenchError

from workbench.qt.accessible import name_field
from workbench.qt.colours import level_colour, rows_palette

_ROW = Qt.ItemDataRole.UserRole
#: Rows of the findings list (as many as there are, up to this), and lines of the
#: explanation below it, that always have room; the explanation asks for up to
#: MAX_EXPLANATION_LINES, then scrolls.
MIN_ROWS = 3
MIN_EXPLANATION_LINES = 4
MAX_EXPLANATION_LINES = 8
#: Height of a row: the fix button's (a title that wraps makes its row taller).
ROW_HEIGHT = 30

# Severity words a finding may use -> (standard icon, title colour's level, sort order).
_SEVERITY = {
    "error": (QStyle.StandardPixmap.SP_MessageBoxCritical, "error", 0),
    "warning": (QStyle.StandardPixmap.SP_MessageBoxWarning, "warning", 1),
    "info": (QStyle.StandardPixmap.SP_MessageBoxInformation, "info", 2),
}


def severity_key(severity: Any) -> str:
    """``"error"``, ``"warning"`` or ``"info"`` for whatever the finding calls it."""
    s = str(getattr(severity, "value", severity)).lower()
    if s.startswith(("err", "crit", "fatal")):
        return "error"
    if s.startswith("warn"):
        return "warning"
    return "info"


def _row_text(f: Any) -> str:
    """A finding's row title: "layer 3: ..." for a finding of a layer, "Tip: ..." for
    an info finding."""
    layer = getattr(f, "layer", None)
    text = str(f.title)
    if isinstance(layer, int) and f"layer {layer + 1}" not in text.lower():
        text = f"layer {layer + 1}: {text}"
    return f"Tip: {text}" if severity_key(f.severity) == "info" else text


def misfit_finding(summary: Any) -> Any:
    """The core doctor's finding for ``summary``'s misfit, or None when it fits (a summary
    exists only once torch is imported, so the core module is imported only then)."""
    if not getattr(summary, "error", None):
        return None
    from workbench.core.model.doctor import misfit_finding as core_misfit

    return core_misfit(summary)


def fit_message(layers: list, summary: Any, findings: list) -> tuple[str, str]:
    """The line above the doctor: ``(text, level)``. A network whose layers fit but that
    the doctor says cannot be trained (one 128 GB to train, say) is not called fine; nor,
    in green, one the doctor right below warns about (the line points to its warnings)."""
    if not layers:
        return ("The network has no layers: choose a preset, or add layers from the list "
                "on the left.", "warning")
    if summary.error:
        return summary.error, "error"
    errors = [f for f in findings if severity_key(f.severity) == "error"]
    if errors:
        return (f"The layers fit together, but the network cannot be trained as it is: "
                f"{errors[0].title} (the Model doctor below has the fix).", "error")
    warnings = sum(severity_key(f.severity) == "warning" for f in findings)
    if warnings:
        return (f"The layers fit together, but the Model doctor has {warnings} "
                f"warning{'s' if warnings != 1 else ''} below.", "warning")
    return "The layers fit together.", "ok"


class DoctorList(QWidget):
    """The findings, worst first, each with its fix button.

    Signals
    -------
    fix_requested(int)
        The "Fix" button of finding ``i`` (in :attr:`findings`) was pressed.
    layer_requested(int)
        A finding about layer ``i`` (0-based) was clicked: select its card.
    """

    fix_requested = Signal(int)
    layer_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.findings: list[Any] = []
        self._diagnose: Callable | None = None
        #: The key (:func:`_key`) of the finding the user picked (click, arrow keys): it
        #: stays selected; None while the selection is the automatic one.
        self._picked: tuple | None = None
        self.title = QLabel("<b>Model doctor</b>")
        self.title.setToolTip("Checks the network for common mistakes: click a finding to "
                              "read why it matters below the list; its Fix button repairs "
                              "it (Ctrl+Z undoes the fix).")
        self.list = QListWidget()
        name_field(None, self.list, "Model doctor findings")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.currentRowChanged.connect(self._on_current_row_changed)
        # A row is as high as its fix button (or its title, where that wraps: _fit_rows).
        self._row_height = max(ROW_HEIGHT, QPushButton("Fix").sizeHint().height() + 4)
        self.list.hide()  # until there are findings: "No problems found." needs no box
        selected = self._soften_selection()
        self.list.viewport().installEventFilter(self)
        # The selected finding's explanation: a label in a frameless scroll area, so a long
        # one scrolls rather than pushing the layer cards up.
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.setContentsMargins(6, 4, 6, 4)
        # The selected row's colour: the text below reads as that row's.
        self.explanation.setStyleSheet(f"QLabel {{ background: {selected}; }}")
        self.explanation_area = QScrollArea()
        self.explanation_area.setWidget(self.explanation)
        self.explanation_area.setWidgetResizable(True)
        self.explanation_area.setFrameShape(QFrame.Shape.NoFrame)
        self.explanation_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # it draws no focus
        self.explanation_area.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lines = self.fontMetrics().lineSpacing() * MIN_EXPLANATION_LINES
        self.explanation_area.setMinimumHeight(lines + 8 + 4)  # the label's margins, and air
        self.explanation_area.setVisible(False)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 2)
        layout.addWidget(self.note)
        layout.addWidget(self.explanation_area, 3)

    def _soften_selection(self) -> str:
        """Give the selected row a light background (the rows' coloured titles stay readable
        on it; the style's own highlight is dark in some) and return its colour."""
        pal = self.list.palette()
        base, mark = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Highlight)
        mix = QColor(*(round(0.75 * a + 0.25 * b) for a, b in
                       zip(base.getRgb()[:3], mark.getRgb()[:3])))
        self.list.setStyleSheet(f"QListWidget::item:selected {{ background: {mix.name()}; }}")
        return mix.name()

    def load(self) -> None:
        """Find the doctor (once torch is imported); without it, say so."""
        try:
            from workbench.core.model.doctor import diagnose
        except ImportError:
            self._diagnose = None
            self.show_note("The model doctor is not available in this version.")
        else:
            self._diagnose = diagnose

    def check(self, experiment: Any, num_classes: int, summary: Any) -> None:
        """Show what the doctor finds in ``experiment``'s network (``summary``: its shapes);
        a misfit in ``summary`` comes first."""
        misfit = misfit_finding(summary)
        if self._diagnose is None:
            if misfit is not None:
                self.set_findings([misfit])
            return
        try:
            findings = list(self._diagnose(experiment, num_classes, summary))
        except WorkbenchError as e:
            if misfit is not None:
                self.set_findings([misfit])
                return
            self.show_note(f"The model doctor could not check this network: {e}")
            return
        self.set_findings(([misfit] if misfit is not None else []) + findings)

    def show_note(self, text: str) -> None:
        """No findings to show, and why (not available, loading...)."""
        self.findings = []
        self._picked = None
        self.list.clear()
        self.list.hide()
        self._show_explanation(-1)
        self.note.setText(text)
        self.note.setVisible(True)

    def set_findings(self, findings: list[Any]) -> None:
        shown, before = self.selected_finding(), {_key(f) for f in self.findings}
        self.findings = sorted(findings, key=_rank)
        self.list.blockSignals(True)  # the explanation is shown once, after the rows
        self.list.clear()
        for i, f in enumerate(self.findings):
            item = QListWidgetItem()  # no text: it would show under the row's widget
            item.setData(_ROW, i)
            # What a screen reader says of the row (it hears nothing of the row's widget).
            sev = severity_key(f.severity)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, _row_text(f) if sev == "info"
                         else f"{sev.capitalize()}: {_row_text(f)}")
            item.setData(Qt.ItemDataRole.AccessibleDescriptionRole,
                         str(getattr(f, "explanation", "") or ""))
            self.list.addItem(item)
            self.list.setItemWidget(item, self._row_widget(i, f))
        self.list.setVisible(bool(self.findings))
        self._fit_rows()
        self.list.setCurrentRow(self._row_to_select(shown, before) if self.findings else -1)
        self.list.blockSignals(False)
        self._show_explanation(self.list.currentRow())
        self.note.setText("No problems found." if not findings else "")
        self.note.setVisible(not findings)
        self.title.setText(_title(self.findings))

    def _row_to_select(self, shown: Any, before: set) -> int:
        """The row to select in the new :attr:`findings` (``shown``: the finding selected
        before; ``before``: the previous list's keys). The user's pick stays while it is
        listed, unless a new finding is worse: then that one is shown. Else the worst one, a
        new one first (an edit elsewhere rebuilds the rows: the one shown stays while it is
        among the worst)."""
        keys, ranks = [_key(f) for f in self.findings], [_rank(f) for f in self.findings]
        new = [i for i, k in enumerate(keys) if k not in before]
        if self._picked in keys:
            row = keys.index(self._picked)
            worse = [i for i in new if ranks[i] < ranks[row]]
            if worse:
                self._picked = None
            return worse[0] if worse else row
        self._picked = None
        fresh = [i for i in new if ranks[i] == min(ranks)]
        if fresh:
            return fresh[0]
        row = keys.index(_key(shown)) if shown is not None and _key(shown) in keys else 0
        return row if ranks[row] == ranks[0] else 0

    def _row_widget(self, i: int, f: Any) -> QWidget:
        sev = severity_key(f.severity)
        pixmap, level, _ = _SEVERITY[sev]
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(4, 2, 4, 2)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        icon.setToolTip("tip" if sev == "info" else sev)
        title = QLabel(_row_text(f))
        title.setWordWrap(True)
        colour = level_colour(level, rows_palette(self.list.palette()))  # light or dark rows
        if colour is not None:
            title.setStyleSheet(f"color: {colour.name()};")
        explanation = str(getattr(f, "explanation", "") or "")
        for widget in (w, title):
            widget.setToolTip(explanation)
        row.addWidget(icon)
        row.addWidget(title, 1)
        fix = getattr(f, "fix", None)
        if fix is not None:
            button = QPushButton(f"Fix: {fix.label}")
            button.setToolTip(f"{fix.label} (Ctrl+Z undoes it)")
            button.clicked.connect(lambda _=False, n=i: self.fix_requested.emit(n))
            row.addWidget(button)
        return w

    def eventFilter(self, watched, event) -> bool:  # noqa: N802  (Qt override)
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_rows()  # the rows' titles wrap (or unwrap) at the list's new width
        return super().eventFilter(watched, event)

    def _fit_rows(self) -> None:
        """Make each row as high as it needs at the list's width: one line for a title that
        fits, more for one that wraps (a label's own size hint guesses two lines or more)."""
        width = self.list.viewport().width()
        for i in range(self.list.count()):
            item = self.list.item(i)
            row = self.list.itemWidget(item)
            if row is None:
                continue
            height = row.heightForWidth(width) if row.hasHeightForWidth() else -1
            height = max(height, row.minimumSizeHint().height(), self._row_height)
            if item.sizeHint().height() != height:
                item.setSizeHint(QSize(0, height))
        # As tall as the rows (up to MIN_ROWS of them, then it scrolls), never taller.
        rows = [self.list.item(i).sizeHint().height() for i in range(self.list.count())]
        frame = 2 * self.list.frameWidth()
        self.list.setMinimumHeight(sum(rows[:MIN_ROWS] or [self._row_height]) + frame)
        self.list.setMaximumHeight(max(sum(rows), self._row_height) + frame)
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802  (Qt override)
        """Every finding's row and the whole explanation (up to MAX_EXPLANATION_LINES
        lines; the rest scrolls): the height this pane asks of the Model tab."""
        height = self.layout().minimumSize().height()
        if self.list.isVisibleTo(self):
            height += self.list.maximumHeight() - self.list.minimumHeight()
        area = self.explanation_area
        if area.isVisibleTo(self):
            lines = self.fontMetrics().lineSpacing() * MAX_EXPLANATION_LINES + 12
            width = area.viewport().width() if area.isVisible() else self.width()
            text = self.explanation.heightForWidth(max(width, 100)) + 2
            height += max(0, min(text, lines) - area.minimumHeight())
        return QSize(super().sizeHint().width(), height)

    def selected_finding(self) -> Any:
        """The finding whose explanation is shown, or ``None``."""
        i = self.list.currentRow()
        return self.findings[i] if 0 <= i < len(self.findings) else None

    @Slot(int)
    def _on_current_row_changed(self, row: int) -> None:
        # Signals are blocked while set_findings selects a row: this is the user's pick.
        self._picked = _key(self.findings[row]) if 0 <= row < len(self.findings) else None
        self._show_explanation(row)

    def _show_explanation(self, row: int) -> None:
        f = self.findings[row] if 0 <= row < len(self.findings) else None
        text = str(getattr(f, "explanation", "") or "") if f is not None else ""
        self.explanation.setText(text)
        self.explanation_area.setVisible(f is not None)
        self.explanation_area.verticalScrollBar().setValue(0)
        self.updateGeometry()  # the text's height: the pane's wanted height

    def fix_button(self, i: int) -> QPushButton | None:
        """Finding ``i``'s fix button (``None`` when it has no fix)."""
        item = self.list.item(i)
        w = self.list.itemWidget(item) if item is not None else None
        return w.findChild(QPushButton) if w is not None else None

    @Slot(QListWidgetItem)
    def _on_clicked(self, item: QListWidgetItem) -> None:
        i = item.data(_ROW)
        if 0 <= i < len(self.findings):  # a click on the row already selected picks it too
            self._picked = _key(self.findings[i])
        layer = getattr(self.findings[i], "layer", None) if 0 <= i < len(self.findings) else None
        if isinstance(layer, int):
            self.layer_requested.emit(layer)


def _rank(f: Any) -> int:
    """0 for an error, 1 for a warning, 2 for a tip (info): the list's order."""
    return _SEVERITY[severity_key(f.severity)][2]


def _title(findings: list) -> str:
    """The pane's title: its problems (errors and warnings) as findings, its tips apart, as
    ``workbench train`` says the warnings only ("no problems found; 1 tip")."""
    tips = sum(severity_key(f.severity) == "info" for f in findings)
    problems = len(findings) - tips
    parts = [f"{problems} finding{'s' if problems != 1 else ''}"] if problems else []
    if tips:
        parts.append(f"{tips} tip{'s' if tips != 1 else ''}")
    if not findings:
        return "<b>Model doctor</b>"
    return f"<b>Model doctor</b> ({', '.join(parts)})" if problems else \
        f"<b>Model doctor</b>: no problems found; {parts[0]}"


def _key(f: Any) -> tuple:
    """What identifies a finding across refreshes (a new list is diagnosed after each edit;
    its title may change with the edit, as a dropout rate's does)."""
    return (getattr(f, "code", None), getattr(f, "layer", None))
