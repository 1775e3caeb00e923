"""What a run said as it started, kept per start in run.json.

A run started once and continued (resumed) later starts several times, and each start says
its own notes ("learning rate changed from 0.01 to 0.02 on resuming"). run.json keeps:

- ``start_notes``: the latest start's notes, a list of strings (what the Train tab shows
  again after a restart, "Last run (NAME) continued from epoch 7 with these notes:");
- ``start_notes_from``: the first epoch that start trained;
- ``earlier_start_notes``: the earlier starts' notes, oldest first,
  ``[{"from_epoch": 1, "notes": [...]}, ...]`` (``workbench report`` lists every start's,
  labelled with its epochs).

A run.json written before notes were kept per start has ``start_notes`` alone, every
start's notes in one list: it reads as one start whose first epoch is not known
(``from_epoch`` None), shown as before.
"""

from __future__ import annotations

from typing import Any


def start_segments(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every start's notes that run.json ``info`` keeps, oldest first (the latest last):
    ``{"from_epoch": int or None, "notes": [str, ...]}``; anything that does not read as
    such (a hand edit) is left out."""
    segments = []
    earlier = info.get("earlier_start_notes")
    for item in earlier if isinstance(earlier, list) else []:
        if isinstance(item, dict):
            segments.append({"from_epoch": _epoch(item.get("from_epoch")),
                             "notes": _strings(item.get("notes"))})
    segments.append({"from_epoch": _epoch(info.get("start_notes_from")),
                     "notes": _strings(info.get("start_notes"))})
    return segments


def latest_start(info: dict[str, Any]) -> tuple[int | None, list[str]]:
    """``(first epoch, notes)`` of the latest start run.json ``info`` keeps (the epoch None
    when not known: a run.json from before notes were kept per start)."""
    latest = start_segments(info)[-1]
    return latest["from_epoch"], latest["notes"]


def started(info: dict[str, Any], from_epoch: int, notes: Any) -> dict[str, Any]:
    """The run.json entries for a start that trains from epoch ``from_epoch`` and said
    ``notes``, after the starts run.json ``info`` (as it was) kept: those that began
    before ``from_epoch`` (a start from that epoch or later trained none of the epochs the
    run keeps: a resume goes on from its checkpoint), a start that said nothing too (it
    ends the epochs of the one before)."""
    earlier = [s for s in start_segments(info) if
               (s["notes"] or s["from_epoch"] is not None) and
               (s["from_epoch"] is None or s["from_epoch"] < from_epoch)]
    return {"start_notes": _strings(notes), "start_notes_from": int(from_epoch),
            "earlier_start_notes": earlier}


def labelled_start_notes(info: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, note)`` for every start's notes, oldest first: the label says which
    epochs that start trained ("epochs 1-6", "from epoch 7"), "" for a run that started
    once (or a start whose first epoch is not known)."""
    segments = start_segments(info)  # a start that said nothing still ends the one before
    said = [s for s in segments if s["notes"]]
    if len(said) < 2 and not any((s["from_epoch"] or 1) > 1 for s in said):
        return [("", n) for s in said for n in s["notes"]]
    out = []
    for s, after in zip(segments, segments[1:] + [{"from_epoch": None}]):
        first, then = s["from_epoch"], after["from_epoch"]
        label = ("" if first is None else f"from epoch {first}" if then is None
                 else f"epoch {first}" if then - 1 <= first else f"epochs {first}-{then - 1}")
        out.extend((label, n) for n in s["notes"])
    return out


def _strings(value: Any) -> list[str]:
    return [str(n) for n in value if isinstance(n, str) and n] if isinstance(value, list) \
        else []


def _epoch(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None
