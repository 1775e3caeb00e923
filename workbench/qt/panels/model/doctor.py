"""The model doctor's findings: what may go wrong with this network, and one-click fixes.

The findings come from :func:`workbench.core.model.doctor.diagnose` (headless; looked up
once torch is imported, and optional). Each row
shows its severity (icon and colour), its title, its explanation as tooltip, and a "Fix"
button when the finding carries a fix. The panel applies fixes (as undoable commands): this
widget only says which was asked for.

The doctor and the cards agree: while a layer does not fit (its card is red), the first
row says so, naming the layer and what to change (the builder's message), never "No
problems found"; the doctor's own checks follow it.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QStyle, QVBoxLayout, QWidget)

from workbench.core.errors import WorkbenchError

_ROW = Qt.ItemDataRole.UserRole

# Severity words a finding may use -> (standard icon, text colour, sort order).
_SEVERITY = {
    "error": (QStyle.StandardPixmap.SP_MessageBoxCritical, "#c62828", 0),
    "warning": (QStyle.StandardPixmap.SP_MessageBoxWarning, "#a05a00", 1),
    "info": (QStyle.StandardPixmap.SP_MessageBoxInformation, "", 2),
}


def severity_key(severity: Any) -> str:
    """``"error"``, ``"warning"`` or ``"info"`` for whatever the finding calls it."""
    s = str(getattr(severity, "value", severity)).lower()
    if s.startswith(("err", "crit", "fatal")):
        return "error"
    if s.startswith("warn"):
        return "warning"
    return "info"


def misfit_finding(summary: Any) -> Any:
    """The core doctor's finding for ``summary``'s misfit, or None when it fits (a summary
    exists only once torch is imported, so the core module is imported only then)."""
    if not getattr(summary, "error", None):
        return None
    from workbench.core.model.doctor import misfit_finding as core_misfit

    return core_misfit(summary)


def fit_message(layers: list, summary: Any, findings: list) -> tuple[str, str]:
    """The line above the doctor: ``(text, level)``. A network whose layers fit but that
    the doctor says cannot be trained (one 128 GB to train, say) is not called fine."""
    if not layers:
        return ("The network has no layers: choose a preset, or add layers from the list "
                "on the left.", "warning")
    if summary.error:
        return summary.error, "error"
    errors = [f for f in findings if severity_key(f.severity) == "error"]
    if errors:
        return (f"The layers fit together, but the network cannot be trained as it is: "
                f"{errors[0].title} (the Model doctor below has the fix).", "error")
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
        self.title = QLabel("<b>Model doctor</b>")
        self.title.setToolTip("Checks the network for common mistakes: each finding says "
                              "why it matters; hover for the details.")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.itemClicked.connect(self._on_clicked)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)

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
        self.list.clear()
        self.note.setText(text)
        self.note.setVisible(True)

    def set_findings(self, findings: list[Any]) -> None:
        order = {k: v[2] for k, v in _SEVERITY.items()}
        self.findings = sorted(findings, key=lambda f: order[severity_key(f.severity)])
        self.list.clear()
        for i, f in enumerate(self.findings):
            item = QListWidgetItem()
            item.setData(_ROW, i)
            self.list.addItem(item)
            row = self._row_widget(i, f)
            item.setSizeHint(row.sizeHint().expandedTo(QSize(0, 30)))
            self.list.setItemWidget(item, row)
        self.note.setText("No problems found." if not findings else "")
        self.note.setVisible(not findings)
        self.title.setText(f"<b>Model doctor</b> ({len(findings)} finding"
                           f"{'s' if len(findings) != 1 else ''})" if findings else
                           "<b>Model doctor</b>")

    def _row_widget(self, i: int, f: Any) -> QWidget:
        sev = severity_key(f.severity)
        pixmap, colour, _ = _SEVERITY[sev]
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(4, 2, 4, 2)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        icon.setToolTip(sev)
        layer = getattr(f, "layer", None)
        text = str(f.title)
        if isinstance(layer, int) and f"layer {layer + 1}" not in text.lower():
            text = f"layer {layer + 1}: {text}"
        title = QLabel(text)
        title.setWordWrap(True)
        if colour:
            title.setStyleSheet(f"color: {colour};")
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

    def fix_button(self, i: int) -> QPushButton | None:
        """Finding ``i``'s fix button (``None`` when it has no fix)."""
        item = self.list.item(i)
        w = self.list.itemWidget(item) if item is not None else None
        return w.findChild(QPushButton) if w is not None else None

    @Slot(QListWidgetItem)
    def _on_clicked(self, item: QListWidgetItem) -> None:
        i = item.data(_ROW)
        layer = getattr(self.findings[i], "layer", None) if 0 <= i < len(self.findings) else None
        if isinstance(layer, int):
            self.layer_requested.emit(layer)
