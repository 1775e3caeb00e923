"""The numbers behind the Data tab: the split's per-class counts, normalisation presets, mean
and std adapted to a channel count, and the class imbalance (the core computes them; torch
is imported only when they are asked for)."""

from __future__ import annotations

from typing import Any, Sequence


def split_counts(index: Any, data: Any) -> tuple[list, dict[str, int], dict[str, int]] | None:
    """The training samples of ``index`` split by ``data`` (an experiment's ``data``), and
    the images per class in training and in validation; None without a usable split.
    Counted as a run counts them (:func:`workbench.core.data.usage.usable_split`)."""
    from workbench.core.data.usage import usable_split

    use = usable_split(index, data)
    if use is None:
        return None
    train_counts, val_counts = use.per_class(list(index.classes))
    return use.train, train_counts, val_counts


def counted(n: int, word: str) -> str:
    """``"1 class"``, ``"2 classes"``, ``"1,024 images"``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}{'es' if word.endswith('s') else 's'}"


def blocked_text(index: Any, error: Exception, chosen: str = "") -> str:
    """The Data tab's message when ``index`` cannot be trained on (``error`` says why),
    with the scan's warnings and notes, which often say the fix (a dataset part taken for
    a class, a header read as a row). ``chosen``: the path opened (a folder, else a CSV
    file or an archive: "This dataset")."""
    import os

    what = "folder" if not chosen or os.path.isdir(chosen) else "dataset"
    from workbench.qt.panels.data.relist import with_rescan_hint

    # Shown on the Data tab, under its Rescan button.
    hint = with_rescan_hint(str(error), chosen, where="above")
    text = f"This {what} cannot be trained on yet: {hint}"
    text += "".join(f" Warning: {w}." for w in getattr(index, "warnings", []) or [])
    text += "".join(f" Note: {n}." for n in getattr(index, "notes", []) or [])
    return text


def ready_text(index: Any, data: Any = None) -> tuple[str, str]:
    """The Data tab's message once a dataset is scanned and trainable, and its level: the
    counts (a test part's images apart: "2,368 images to train and validate on (400 more
    in test/)", "to train on" where ``data`` holds out none for validation),
    unreadable files, what the scan did or suspects (a wrapper followed, an
    archive unpacked, class folders named like dataset parts), and, given the experiment's
    ``data``, the classes its split holds no image of out for validation (a class of one
    image), as ``train`` and ``check`` say, and what ``train`` warns about the data: the
    folder is a dataset's test or validation part, the validation split is tiny
    (:func:`workbench.core.data.pitfalls.data_warnings`)."""
    total = sum(index.counts().values())
    text = f"Ready: {counted(index.num_classes, 'class')}, {counted(total, 'image')}"
    if index.test_samples is not None:  # said apart: the Total line and status bar add it
        from workbench.core.experiment import DataConfig

        d = data if data is not None else DataConfig()
        # A val/ part's images are among them, or a share of them is held out (val_fraction).
        validated = d.val_fraction > 0 or (index.val_samples is not None and d.use_folder_split)
        uses = "to train and validate on" if validated else "to train on"
        text += f" {uses} ({len(index.test_samples):,} more in {index.part_name('test')})"
    text += "."
    if index.unreadable:
        n = len(index.unreadable)
        text += (f" {n} file{'s' if n != 1 else ''} cannot be read and will be skipped "
                 f"(see Unreadable files).")
    notes = list(getattr(index, "notes", []) or [])
    warnings = list(getattr(index, "warnings", []) or [])
    if data is not None:
        from workbench.core.data.pitfalls import data_warnings
        from workbench.core.data.usage import validation_note

        notes += [n for n in [validation_note(index, data)] if n]
        # The test (or validation) part opened as the dataset; a handful of validation
        # images: what ``workbench train`` warns too.
        warnings += data_warnings(index, data)
    text += "".join(f" Note: {n}." for n in notes)
    text += "".join(f" Warning: {w}." for w in warnings)
    return text, "warning" if index.unreadable or warnings else "ok"


def gone_text(folder: str) -> str:
    """The Data tab's message when its dataset ``folder`` is gone since it was scanned, in
    the Train tab's words
    (:func:`~workbench.qt.panels.train.start_checks.missing_folder_problem`); the tab
    shows the last scan, and coming back to the window updates it."""
    from workbench.qt.panels.data.relist import RESCAN_HINT
    from workbench.qt.panels.train.start_checks import missing_folder_problem

    problem = missing_folder_problem(folder) or f"the dataset folder {folder} is back"
    return (f"{problem[0].upper()}{problem[1:]}. The classes below are from its last "
            f"scan. {RESCAN_HINT.format(where='above')}.")


def still_using_text(message: str, folder: str) -> str:
    """The Data tab's message when the dataset typed or chosen could not be scanned
    (``message`` says why: a typo "does not exist") while the experiment keeps its
    dataset ``folder``, still shown, and what Start trains on."""
    return f"{message.rstrip('. ')}; still using {folder}."


def missing_too_text(message: str, problem: str, last_scan: bool = False) -> str:
    """The Data tab's message when the dataset typed or chosen could not be scanned
    (``message`` says why) while the experiment's own folder is missing too (``problem``,
    in the Train tab's words; "" for none): nothing is used instead. ``last_scan``: the tab
    still shows that folder's last scan."""
    if not problem:
        return message
    return (f"{message.rstrip('. ')}. {problem[0].upper()}{problem[1:]}."
            + (" The classes below are from its last scan." if last_scan else ""))


def parts_text(index: Any) -> str:
    """``" (2,368 in train/, 400 in test/)"``: the images in each of the folder's own parts
    (train/ with val/ and/or test/), as the Total line and the status bar say them; "" for
    a folder with no parts."""
    parts = {k: n for k, n in index.split_counts().items() if n is not None}
    if len(parts) < 2:
        return ""
    return " (" + ", ".join(f"{n:,} in {index.part_name(k)}" for k, n in parts.items()) + ")"


def total_text(index: Any, data: Any, checking: bool = False) -> str:
    """The line under the class table: images and classes (a test part's images counted
    in, as its parts listed after add up to it, and as Health checks them), the folder's
    own split, and how many images ``data.exclude`` leaves out ("" without a dataset).
    ``checking``: ``index`` is only listed, its files not yet all decoded, so they are
    counted as files, the unreadable ones still in ("Total: 307 files listed in 5 classes
    …, checking that each can be read…"), not as a final number of images."""
    if index is None:
        return ""
    total = sum(index.counts().values()) + len(index.test_samples or [])
    text = (f"Total: {counted(total, 'file')} listed in " if checking else
            f"Total: {counted(total, 'image')} in ") + counted(index.num_classes, 'class')
    text += parts_text(index)
    if checking:
        text += ", checking that each can be read…"
    if index.test_samples is not None:
        text += (f"; {index.part_name('test')} is never trained on: Evaluate measures the "
                 f"model on it")
    if getattr(data, "exclude", None):
        from workbench.core.data.usage import excluded_images

        # Counted apart: an excluded test image is left out of evaluation, not training.
        drop = excluded_images(index, list(data.exclude))
        test = sum(p in drop for p, _ in index.test_samples or [])
        train, where = len(drop) - test, index.part_name("test")
        text += (f"; {train} excluded from training" + (f", {test} from {where}" if test
                                                        else "")
                 if train or not test else f"; {test} excluded from {where}")
    return text


def preset_names() -> list[str]:
    """Names of the normalisation presets (``NORMALIZATION_PRESETS`` of the core)."""
    from workbench.core.data.stats import NORMALIZATION_PRESETS

    return list(NORMALIZATION_PRESETS)


def preset_values(name: str, channels: int) -> tuple[list[float], list[float]]:
    """The preset's ``(mean, std)`` with ``channels`` values each (gray: mean of the three)."""
    from workbench.core.data.stats import normalization_preset

    mean, std = normalization_preset(name, channels)
    return [float(v) for v in mean], [float(v) for v in std]


def adapt(values: Sequence[float], channels: int) -> list[float]:
    """``values`` with ``channels`` entries: 3 -> 1 averages, 1 -> 3 repeats."""
    values = [float(v) for v in values]
    if len(values) == channels:
        return values
    if channels == 1:
        return [round(sum(values) / len(values), 6)]
    return values[:1] * channels


#: Where a class name may wrap: after these, and at least every :data:`WRAP_CHARS`.
WRAP_AFTER = "_./\\"
WRAP_CHARS = 12


def wrappable(name: str) -> str:
    """``name`` with zero-width spaces where a word-wrapped label may break it: after
    ``_``, ``.``, ``/`` and ``\\``, and inside any longer run of :data:`WRAP_CHARS`.

    A label wraps only between words, so a whole name of 40 characters without a space
    ("Black-throated_blue_warbler_female_first_winter_plumage") made it as wide as the
    name, wider than the pane it is in."""
    out, run = [], 0
    for ch in name:
        if run >= WRAP_CHARS and not ch.isspace():
            out.append("\u200b")
            run = 0
        out.append(ch)
        run = 0 if ch.isspace() or ch in WRAP_AFTER + "-" else run + 1
        if ch in WRAP_AFTER:
            out.append("\u200b")
    return "".join(out)


def imbalance_line(counts: dict[str, int]) -> tuple[float, str, str]:
    """``(ratio, text, tooltip)`` of the Data tab's imbalance line for the training counts
    ``counts``: the ratio named by its two classes and their images (``"240.0×
    ('Northern_rough-winged_swallow_juvenile' 240 / 'x' 1)"``) and how many classes are
    small, so one outlier reads apart from many small classes. The names are whole (the
    line wraps, inside them too: :func:`wrappable`); the tooltip names the small classes.
    Made from :func:`workbench.core.data.stats.imbalance`, as ``workbench check`` says it.
    Imports torch."""
    from workbench.core.data.stats import IMBALANCE_WARNING, imbalance

    found = imbalance(counts)
    if found is None:
        return 1.0, "", ""
    (big, n), (few, m) = found.largest, found.smallest
    short = [wrappable(repr(name)) for name in (big, few)]
    text = f"Imbalance (largest / smallest class in training): {found.ratio:.1f}×"
    if n != m:  # equal classes: none to name
        text += f" ({short[0]} {n:,} / {short[1]} {m:,})"
    part = f"1/{IMBALANCE_WARNING:g}"
    spread = (f"{len(found.small)} of {found.classes} classes have less than {part} of "
              f"the largest class's images")
    if len(found.small) > 1:
        text += f"; {spread}"
    tip = (f"Largest: {big!r}, {n:,} training images\nSmallest: {few!r}, {m:,}"
           if n != m else f"Every class has {n:,} training images")
    if found.small:
        names = ", ".join(repr(c) for c in found.small[:10])
        more = f" and {len(found.small) - 10} more" if len(found.small) > 10 else ""
        tip += f"\n{spread}: {names}{more}"
    return found.ratio, text, tip


def close_values(a: tuple[list[float], list[float]], b: tuple[list[float], list[float]]) -> bool:
    """Whether two ``(mean, std)`` pairs are the same to 4 decimals."""
    return all(len(x) == len(y) and all(abs(u - v) < 1e-4 for u, v in zip(x, y))
               for x, y in zip(a, b))


def fmt_values(values: Sequence[float]) -> str:
    """``(0.485, 0.456, 0.406)``: values as the settings show them."""
    return "(" + ", ".join(f"{v:.3f}" for v in values) + ")"
