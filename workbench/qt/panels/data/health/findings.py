"""A :class:`~workbench.core.data.health.report.HealthReport` as rows for the Health view:
one :class:`Finding` per group of copies or per odd image, and the summary line.

A group of copies is shown once, as its most serious kind (a conflicting label before a
train/validation leak before a plain duplicate); the other kinds it also is are named in
its details. No Qt here: the rows are plain data the table model shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from workbench.core.data.health.labels import is_reliable, quality_of

#: kind -> (title, what it means and what to do), most serious first: the default order.
KINDS: dict[str, tuple[str, str]] = {
    "conflict": ("Conflicting labels",
                 "the same picture filed under different classes: exclude the wrong one"),
    "leak": ("Leak between parts",
             "copies in training and in validation (or test/) inflate the accuracy measured "
             "on them: exclude one side's copy"),
    "label": ("Likely mislabelled",
              "a network that never trained on it says it looks like another class"),
    "exact": ("Exact duplicates", "the same pixels: one copy is enough"),
    "near": ("Near duplicates", "re-encoded, resized or recompressed copies"),
    "unreadable": ("Unreadable", "cannot be decoded: it is skipped in training"),
    "blank": ("Blank image", "(nearly) one colour: an empty or failed picture"),
    "tiny": ("Tiny image", "far below the input size: the network sees mostly "
                           "interpolation"),
    "aspect": ("Extreme aspect", "squeezed into the input's shape, it loses most detail"),
}
ORDER = {kind: i for i, kind in enumerate(KINDS)}
#: What a conflict whose pictures only look alike
#: (:attr:`workbench.core.data.health.report.HealthReport.look_alike`)
#: is said to be instead of "the same picture".
LOOK_ALIKE = ("look alike, review: maybe the same picture under two classes, maybe two "
              "similar pictures")
#: kind -> (one, several): how the summary line counts each kind.
_COUNTED = {"conflict": ("conflicting label", "conflicting labels"),
            "leak": ("leak between parts", "leaks between parts"),
            "label": ("likely mislabelled", "likely mislabelled"),
            "exact": ("exact duplicate group", "exact duplicate groups"),
            "near": ("near duplicate group", "near duplicate groups"),
            "unreadable": ("unreadable", "unreadable"), "blank": ("blank", "blank"),
            "tiny": ("tiny", "tiny"),
            "aspect": ("extreme aspect ratio", "extreme aspect ratios")}


@dataclass(frozen=True)
class Finding:
    """One row: ``paths`` (one image, or a group of copies) with each one's class and side
    of the split ("train", "val", or "" when not in the split)."""

    kind: str
    paths: tuple[str, ...]
    classes: tuple[str, ...]
    sides: tuple[str, ...]
    detail: str = ""
    score: float | None = None   # label issues: 0-1, higher is more likely wrong
    suggested: str = ""          # label issues: the class the network says
    also: tuple[str, ...] = ()   # the other kinds the same group is
    #: ``(path, class)`` of ordinary images shown beside a label issue, for comparison.
    examples: tuple[tuple[str, str], ...] = ()
    #: Each image's pixel size (groups of copies: which one is the big one), or None.
    sizes: tuple[tuple[int, int] | None, ...] = ()

    @property
    def title(self) -> str:
        return KINDS[self.kind][0]

    @property
    def class_text(self) -> str:
        if self.kind == "label":
            return f"{self.classes[0]} → {self.suggested}"
        return " / ".join(dict.fromkeys(c for c in self.classes if c))


def same_path(a: Any, b: Any) -> bool:
    """Whether two paths name the same file or folder (as written; links not followed)."""
    return os.path.normcase(os.path.abspath(str(a))) == os.path.normcase(os.path.abspath(str(b)))


def _class_of(report: Any, path: str) -> str:
    # Unreadable files are not among the samples: their folder names the class.
    return report.label_of.get(path) or os.path.basename(os.path.dirname(path))


def relative(report: Any, path: str) -> str:
    """``path`` relative to the report's dataset folder (as the user knows it)."""
    root = report.root if os.path.isdir(report.root) else os.path.dirname(report.root)
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _make(report: Any, kind: str, paths: list[str], **fields: Any) -> Finding:
    return Finding(kind, tuple(paths), tuple(_class_of(report, p) for p in paths),
                   tuple(report.side_of.get(p, "") for p in paths), **fields)


def _group_detail(report: Any, kinds: list[str], paths: list[str],
                  sizes: dict[str, tuple[int, int]]) -> str:
    names = ", ".join(relative(report, p) + size_text(sizes, p) for p in paths[:4])
    more = f" and {len(paths) - 4} more" if len(paths) > 4 else ""
    also = [KINDS[k][0].lower() for k in kinds[1:]]
    what = KINDS[kinds[0]][1]
    if kinds[0] == "conflict" and frozenset(paths) in {
            frozenset(g) for g in getattr(report, "look_alike", None) or []}:
        what = LOOK_ALIKE  # near a limit: maybe two similar pictures, not one
    text = f"{what[0].upper()}{what[1:]}. {names}{more}."
    return text + (f" Also: {', '.join(also)}." if also else "")


def size_text(sizes: dict[str, tuple[int, int]], path: str) -> str:
    """`` (4032×3024)`` when the pixel size of ``path`` is known, else ""."""
    size = sizes.get(path)
    return f" ({size[0]}×{size[1]})" if size else ""


def findings_of(report: Any, input_size: tuple[int, int] | None = None,
                sizes: dict[str, tuple[int, int]] | None = None) -> list[Finding]:
    """The rows of ``report``, most serious kind first (label issues most likely wrong
    first); ``sizes`` (path -> pixel size) names each copy's size in its group's row."""
    rows: list[Finding] = []
    sizes = sizes or {}
    groups: dict[frozenset, tuple[list[str], list[str]]] = {}
    for kind, found in (("conflict", report.conflicting_labels),
                        # Every part's: train/val, and those reaching into test/.
                        ("leak", [g["paths"] for g in getattr(report, "leaks", None) or []]
                         or report.train_val_leaks),
                        ("exact", report.exact_duplicates),
                        ("near", report.near_duplicates)):
        for group in found:
            groups.setdefault(frozenset(group), (list(group), []))[1].append(kind)
    for paths, kinds in groups.values():
        if kinds[0] == "conflict":  # the least common class first: never under "+N more"
            of = [_class_of(report, p) for p in paths]
            paths = sorted(paths, key=lambda p: of.count(_class_of(report, p)))
        rows.append(_make(report, kinds[0], paths, also=tuple(kinds[1:]),
                          detail=_group_detail(report, kinds, paths, sizes),
                          sizes=tuple(sizes.get(p) for p in paths)))

    examples = _examples(report)
    quality = quality_of(report)
    doubt = "" if quality is None or quality.reliable else " " + quality.doubt()
    for issue in report.label_issues:
        path, given, suggested = issue["path"], issue["given"], issue["suggested"]
        shown = tuple((examples[c], c) for c in (suggested, given) if c in examples)
        rows.append(Finding(
            "label", (path,), (given,), (report.side_of.get(path, ""),),
            detail=f"Filed as {given}; a network that never trained on it says "
                   f"{suggested}. {relative(report, path)}{doubt}",
            score=float(issue["score"]), suggested=suggested, examples=shown))

    for u in report.unreadable:
        rows.append(_make(report, "unreadable", [u["path"]],
                          detail=f"{relative(report, u['path'])}: {u['reason']}"))
    for path in report.blank_images:
        rows.append(_make(report, "blank", [path],
                          detail=f"{KINDS['blank'][1].capitalize()}. "
                                 f"{relative(report, path)}"))
    size = f" {input_size[0]}×{input_size[1]}" if input_size else ""
    for kind, items in (("tiny", report.tiny_images), ("aspect", report.extreme_aspect)):
        for it in items:
            why = (f"far below the input size{size}" if kind == "tiny"
                   else f"squeezed into the input{size}, it loses detail")
            rows.append(_make(report, kind, [it["path"]],
                              detail=f"{it['width']}×{it['height']} px: {why}. "
                                     f"{relative(report, it['path'])}"))
    rows.sort(key=lambda f: ORDER[f.kind])  # stable: each kind keeps the report's order
    return rows


def _examples(report: Any) -> dict[str, str]:
    """One ordinary image per class (the first by path that no finding names), shown
    beside label issues so the user can compare."""
    flagged = {i["path"] for i in report.label_issues}
    for groups in (report.conflicting_labels, report.exact_duplicates,
                   report.near_duplicates):
        for g in groups:
            flagged.update(g)
    flagged.update(report.blank_images)
    flagged.update(it["path"] for it in report.tiny_images + report.extreme_aspect)
    out: dict[str, str] = {}
    for path in sorted(report.label_of):
        cls = report.label_of[path]
        if cls not in out and path not in flagged:
            out[cls] = path
    return out


def counts_of(findings: list[Finding]) -> dict[str, int]:
    """Rows per kind, in :data:`KINDS` order (kinds without rows left out)."""
    counts = dict.fromkeys(KINDS, 0)
    for f in findings:
        counts[f.kind] += 1
    return {k: n for k, n in counts.items() if n}


def settled(finding: Finding, excluded: set[str] | frozenset[str]) -> bool:
    """Whether the ``excluded`` images (``data.exclude``'s) settle ``finding``, as a check
    made after them would find (it leaves them out): a leak whose copies left in are all
    in one part (its test/ or validation copy excluded, say); a group of copies
    (conflicting labels, exact or near duplicates) left with one copy at most."""
    left = [(p, s) for p, s in zip(finding.paths, finding.sides) if p not in excluded]
    if finding.kind == "leak":
        return len({s for _, s in left}) < 2
    return finding.kind in ("conflict", "exact", "near") and len(left) < 2


def summary_of(report: Any, findings: list[Finding],
               excluded: set[str] | frozenset[str] = frozenset()) -> tuple[str, str]:
    """``(summary line, its level)`` of ``report`` shown as ``findings``, the findings that
    the ``excluded`` images settled (:func:`settled`) counted apart and not a warning."""
    left = [f for f in findings if not settled(f, excluded)]
    doubt = quality_of(report) is not None and not is_reliable(report)
    return (summary_text(report, findings, len(findings) - len(left)),
            "warning" if left or doubt else "ok")


def summary_text(report: Any, findings: list[Finding], done: int = 0) -> str:
    """One line: what was checked, how long it took, and how many of each finding (and
    how many of them ``done``: settled by an exclusion since); for a
    label check, how well its network did and whether its findings can be trusted
    (:func:`~workbench.core.data.health.labels.summary_line`), and the classes too small
    for it to judge (:func:`~workbench.core.data.health.labels.unchecked_line`)."""
    from workbench.core.data.health.labels import duration_text, summary_line, unchecked_line

    n = report.num_images
    fast = sum(v for k, v in report.seconds.items() if k != "labels")
    text = f"Checked {n:,} image{'s' if n != 1 else ''} in {duration_text(fast)}"
    counts = counts_of(findings)
    # The unreadable files are not among the images checked ("Checked 79 images: 2
    # unreadable, 79 blank" read as 2 of the 79): said as more files, beside the count.
    unread = counts.pop("unreadable", 0)
    aside = [f"leaving out {report.excluded} excluded"] if report.excluded else []
    if unread:
        aside.append(f"{unread:,} more file{'s' if unread != 1 else ''} could not be read")
    text += f" ({'; '.join(aside)})" if aside else ""
    if counts:
        text += ": " + ", ".join(f"{c} {_COUNTED[k][c != 1]}" for k, c in counts.items())
        text += f" ({done} settled by an exclusion since)" if done else ""
    else:
        text += ": no other problems found" if unread else ": no problems found"
    if report.labels_checked:
        return " ".join(filter(None, (f"{text}. {summary_line(report)}",
                                      unchecked_line(report))))
    return text + (". Labels not checked: Check labels trains the network 5 times to find "
                   "images whose label it contradicts.")


def empty_text(report: Any) -> str:
    """What the view says instead of rows when ``report`` found nothing."""
    n = report.num_images
    text = f"No problems found in {n:,} image{'s' if n != 1 else ''}."
    if not report.labels_checked:
        text += "\n\nLabels were not checked: Check labels looks for mislabelled images."
    return text
