"""What the training doctor says: a :class:`RunFinding`, kept in run.json as
``"findings": [{"kind", "epoch", "severity", "message", "fix", "action"}]``.

``kind`` is one of :data:`KINDS`; these names are a contract that scripts read. ``fix`` is
for a person (with the command-line flag where there is one); ``action`` is the same fix
for a program, applied by the app's fix button: ``{"label": button text, "set": {dotted
experiment path: value}, "continue": whether to continue the run with it, "open": a tab or
tool to open ("augment", "model", "lr_finder") or ""}``, or None when it is a judgement
call. ``resolved`` is "" while the finding holds, and says why it no longer does once the
run has shown otherwise (:mod:`.resolved`: a run at chance that learns after all).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Every kind of finding, in the order a person should read them.
KINDS = ("diverged", "not_learning", "loss_floor", "exploding_gradients",
         "vanishing_gradients", "dead_units", "lr_too_high", "lr_too_low", "class_imbalance",
         "class_never_predicted", "overfitting", "underfitting")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class RunFinding:
    """One thing the training doctor noticed, once per run and settings (see the module
    docstring)."""

    kind: str
    epoch: int
    severity: str
    message: str
    fix: str = ""
    action: dict[str, Any] | None = field(default=None)
    resolved: str = ""  # why it no longer holds ("" while it does): withdrawn

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as run.json and the ``on_finding`` hook carry it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunFinding":
        return cls(str(d["kind"]), int(d.get("epoch") or 0), str(d.get("severity", "info")),
                   str(d.get("message", "")), str(d.get("fix", "")), d.get("action"),
                   str(d.get("resolved") or ""))

    def line(self) -> str:
        """One line for the console: ``doctor: <kind> at epoch N (severity): message``."""
        where = f" at epoch {self.epoch}" if self.epoch else ""
        if self.resolved:  # said before: only that it no longer holds
            return f"doctor: {self.kind}{where} withdrawn: {self.resolved}"
        end = "" if not self.fix or self.message.endswith((".", "!", "?")) else "."
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"doctor: {self.kind}{where} ({self.severity}): {self.message}{end}{fix}"


def action(label: str, set_: dict[str, Any] | None = None, continue_: bool = False,
           open_: str = "") -> dict[str, Any]:
    """A fix button's :attr:`RunFinding.action`."""
    return {"label": label, "set": dict(set_ or {}), "continue": bool(continue_),
            "open": open_}
