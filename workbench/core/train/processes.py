"""How many processes trained each session of a run, and so how many images one update
saw: under ``torchrun`` each of N processes trains ``data.batch_size`` images a step, and
the optimizer steps on all N x batch of them (fewer steps an epoch than one process takes).

:class:`ProcessCount` is one of the trainer's own callbacks: it keeps every session's count
in the checkpoint (``"callbacks": {"processes": {"sessions": [...]}}``, each
``{"from_epoch", "world_size", "batch_size", "per_update"}``), says it as a start note
("trained on 2 processes (batch 32 each, 64 per update)", so run.json's ``start_notes``
keep it per start and ``workbench report`` labels it with its epochs), and, when a resume
trains on another number of processes than the checkpoint's last session, or another batch
per update (``data.batch_size`` or ``training.accumulate`` edited), says what that does to
the batch of an update.
"""

from __future__ import annotations

from typing import Any

from workbench.core.train.callbacks.base import Callback

STATE_KEY = "processes"


def session(from_epoch: int, world_size: int, batch_size: int,
            accumulate: int = 1) -> dict[str, int]:
    """One session's record: from which epoch it trained, on how many processes, each with
    ``batch_size`` images a step, ``per_update`` images to an optimizer step."""
    world, batch = max(1, int(world_size)), int(batch_size)
    return {"from_epoch": int(from_epoch), "world_size": world, "batch_size": batch,
            "per_update": world * batch * max(1, int(accumulate))}


def processes_text(s: dict[str, int]) -> str:
    """"2 processes (batch 32 each, 64 per update)", "1 process (batch 32)"."""
    n, batch, update = s["world_size"], s["batch_size"], s["per_update"]
    if n == 1:
        return f"1 process (batch {batch}" + (f", {update} per update)" if update != batch
                                              else ")")
    return f"{n} processes (batch {batch} each, {update} per update)"


def start_note(s: dict[str, int]) -> str:
    """The note of a session on several processes ("" on one)."""
    return f"trained on {processes_text(s)}" if s["world_size"] > 1 else ""


def change_note(before: dict[str, int], last_epoch: int, now: dict[str, int]) -> str:
    """The note of a resume that trains on another number of processes, or another batch
    per update, than the session ``before`` (which trained up to ``last_epoch``); "" when
    both are the same."""
    if before["world_size"] == now["world_size"] and \
            before["per_update"] == now["per_update"]:
        return ""
    first = before["from_epoch"]
    epochs = f"epoch {first}" if first >= last_epoch else f"epochs {first}-{last_epoch}"
    note = (f"{epochs} ran on {before['world_size']} process"
            f"{'es' if before['world_size'] > 1 else ''} ({before['per_update']} images per "
            f"update); this session trains on {processes_text(now)}")
    if before["per_update"] == now["per_update"]:
        return f"{note}: the same batch per update"
    # The batch each process takes that gives the update its earlier size, when one does.
    each, rest = divmod(before["per_update"], now["per_update"] // now["batch_size"])
    keep = f" or set data.batch_size to {each}" if each and not rest else ""
    return f"{note}: scale the learning rate{keep} to train as before"


class ProcessCount(Callback):
    """Keeps each session's process count in the checkpoint; :attr:`notes` are this
    session's start notes (once a resumed run's checkpoint state is loaded)."""

    state_key = STATE_KEY

    def __init__(self, now: dict[str, int]):
        self.now = now
        self.earlier: list[dict[str, int]] = []
        self.change = ""

    def state_dict(self) -> dict[str, Any]:
        return {"sessions": [dict(s) for s in self.earlier + [self.now]]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The checkpoint's sessions (those before this one's first epoch), and the note
        when the last of them ran on another number of processes or batch per update."""
        kept = []
        for s in state.get("sessions") or []:
            try:
                s = {key: int(s[key]) for key in ("from_epoch", "world_size", "batch_size",
                                                    "per_update")}
            except (KeyError, TypeError, ValueError):
                continue  # not one this Workbench wrote: not said
            if s["from_epoch"] < self.now["from_epoch"]:
                kept.append(s)
        self.earlier = kept
        self.change = change_note(kept[-1], self.now["from_epoch"] - 1, self.now) \
            if kept else ""

    @property
    def sessions(self) -> list[dict[str, int]]:
        """Every session's record, this one's last."""
        return [dict(s) for s in self.earlier + [self.now]]

    @property
    def notes(self) -> list[str]:
        """What this session says as it starts: the change of process count or batch per
        update since the checkpoint, else (on several processes) how many it trains on."""
        note = self.change or start_note(self.now)
        return [note] if note else []

