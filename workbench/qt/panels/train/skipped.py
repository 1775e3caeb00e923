"""What the Train tab says of the images a run skipped because they could not be read
(deleted or moved since the scan, truncated, not an image): how many, with the grammar of
one, and which (the first few by name and why, as ``workbench train`` does). The sentence
is :func:`workbench.core.runs.skipped.skipped_text`'s, also for a run shown again from its
run.json (after a restart), which keeps them."""

from __future__ import annotations

from workbench.core.runs.skipped import SHOWN, skipped_text

__all__ = ["SHOWN", "skipped_text", "with_skipped"]


def with_skipped(text: str, level: str, skipped: list[tuple[str, str]],
                 folder: str = "", total: int = 0) -> tuple[str, str]:
    """The run-end line ``(text, level)`` with :func:`skipped_text` after it, as a sentence
    of its own, and a warning (not "ok": it was green) when anything was skipped.
    ``total``: how many were skipped when ``skipped`` names only some (a saved run's)."""
    said = skipped_text(skipped, folder, total)
    if not said:
        return text, level
    text = text.rstrip()
    return f"{text}{'' if text.endswith('.') else '.'} {said}", \
        "warning" if level in ("ok", "info") else level
