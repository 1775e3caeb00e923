"""``workbench check DIR``: the dataset's health (:mod:`workbench.core.data.health`):
copies, conflicting labels, leaks between the training, validation and test parts, odd
images, empty class folders, classes with no readable image and what training would
refuse, a class with no image held out for validation, a strong class imbalance in the
training split (as the Data tab measures it: a note, never a ``--strict`` failure, since
class balance compensates it), and, with ``--labels``, likely
mislabelled images (and, with ``--experiment``, a ``note:`` on an optimizer setting that
will very likely fail the run, and what ``train`` says of the network and the batch size
as it starts: its refusal, the Model doctor's warnings); with ``--strict`` it exits with
:data:`EXIT_FINDINGS` when it finds conflicting labels or leaks, a dataset or network
training would refuse, or an augmentation that would stop it (a crop larger than the
typical image), to gate a pipeline. And ``workbench report RUN_DIR``: a run as one HTML file
(:mod:`workbench.core.runs.report`)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from workbench.cli.common import (EXIT_FINDINGS, UserError, _check_dataset_path, check_output,
                                 exclude_note, missing_folder)
from workbench.cli.signals import _ctrl_c_stops

#: Entries of each kind the text output lists (all of them are in --json).
SHOWN = 20

#: Leaks by the parts they span: the title and why it matters.
_LEAKS = {("train", "val"): ("train/validation leaks", "copies on both sides of the split "
                                                      "inflate the validation accuracy"),
          ("train", "test"): ("train/test leaks", "copies of test images in training "
                                                  "inflate the test accuracy"),
          ("val", "test"): ("validation/test leaks", "copies of test images in validation "
                                                     "pick the best epoch on test pictures"),
          ("train", "val", "test"): ("train/validation/test leaks",
                                     "copies in every part inflate both accuracies")}


def _experiment(args: argparse.Namespace):
    from workbench.core.experiment import Experiment

    if args.experiment:
        exp = Experiment.load(args.experiment)
        if args.folder:
            exp.data.folder = args.folder
        else:
            missing_folder(exp, args.experiment, f"give the dataset as DIR (workbench check "
                                                 f"DIR --experiment {args.experiment})")
        return exp.validate()
    from workbench.cli.commands import _adopt_data_defaults

    exp = Experiment(name="check")
    exp.data.folder = args.folder
    _adopt_data_defaults(exp)  # the input size and channels the images suggest
    return exp


def default_note(exp, index) -> str:
    """What a check without ``--experiment`` assumed (printed as a ``note:``): leaks and
    exclusions are the experiment's, and without a word why the app's Health view (on the
    user's experiment) and this report could differ. The split named is the one used: the
    folder's own validation part when it has one, else the held-out share."""
    if index.val_samples is not None and exp.data.use_folder_split:
        split = (f"the folder's own {_part_name(index, index.val_samples, 'val')}/ part as "
                 f"validation")
    else:
        held = (f" of {_part_name(index, index.samples, 'train')}/"
                if index.test_samples is not None else "")
        split = (f"the default split ({exp.data.val_fraction:g} held out{held}, seed "
                 f"{exp.data.seed})")
    h, w = exp.data.input_size
    size = f"{w}x{h}" if w == h else f"{w}x{h} (width x height)"  # as the chosen line says
    return (f"no --experiment: checked with {split}, input size {size} and no exclusions; "
            f"give --experiment EXP.json to check as a run of it trains")


def _part_name(index, samples, default: str) -> str:
    """The folder of a dataset part (``val``, ``Validation``...), as its first image lies."""
    if not samples:
        return default
    rel = os.path.relpath(samples[0][0], index.root).split(os.sep)
    return rel[0] if len(rel) > 2 else default


def cmd_check(args: argparse.Namespace) -> int:
    from workbench.core.data.health.labels import LabelCheckCancelled
    from workbench.core.data.health.report import check_dataset

    if args.folder:
        _check_dataset_path(args.folder)
    elif not args.experiment:
        raise UserError("give a dataset folder (workbench check DIR) or --experiment EXP.json")
    exp = _experiment(args)
    from workbench.cli.training import optimizer_note

    note = optimizer_note(exp) if args.experiment else None  # a rate that will diverge
    if note:
        print(f"warning: {note}", file=sys.stderr)
    started = time.perf_counter()
    index = _scan(exp)
    scanned = time.perf_counter() - started
    if not args.experiment:
        print(f"note: {default_note(exp, index)}", file=sys.stderr)
    last = [-1]

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "labels" and done != last[0]:
            last[0] = done
            what = (f"training fold {done + 1} of {total}" if done < total
                    else "ranking with confident learning")
            print(f"label check: {what}", file=sys.stderr, flush=True)

    try:
        with _ctrl_c_stops() as stop:
            report = check_dataset(exp, index=index, labels=args.labels,
                                   progress=progress, stop_event=stop)
    except LabelCheckCancelled:
        print("workbench check: the label check was interrupted", file=sys.stderr)
        return 130
    report.seconds["scan"] = report.seconds.get("scan", 0.0) + scanned  # done here, not there
    classes = _class_findings(exp, index)
    if classes["validation_note"]:
        report.notes.append(classes["validation_note"])
        print(f"note: {classes['validation_note']}", file=sys.stderr)
    for warning in index.warnings:  # the scan's (a class folder linked to another...)
        report.notes.append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    if not classes["cannot_train"]:  # what train warns of the data, said here too
        from workbench.cli.run_warnings import give_folder
        from workbench.core.data.pitfalls import data_warnings

        for warning in data_warnings(index, exp.data, give=give_folder):
            report.notes.append(warning)
            print(f"warning: {warning}.", file=sys.stderr)
    refused, stops = _run_said(exp, index, report) if args.experiment and \
        not classes["cannot_train"] else ("", "")
    if args.json:
        print(json.dumps({**report.to_json(), **{k: v for k, v in classes.items()
                                                 if k != "validation_note"}}, indent=2))
    else:
        _print_text(report, classes, index.part_name("test"))
    code = 0
    if args.strict and report.gating:
        n = report.gating
        print(f"workbench check: --strict: {n} finding{'s' if n != 1 else ''} "
              f"(conflicting labels, leaks between parts) would mislead a run's accuracy: "
              f"exit code {EXIT_FINDINGS}", file=sys.stderr)
        code = EXIT_FINDINGS
    if args.strict and (classes["cannot_train"] or refused):
        print(f"workbench check: --strict: training would refuse this "
              f"{'dataset' if classes['cannot_train'] else 'network'}: exit code "
              f"{EXIT_FINDINGS}", file=sys.stderr)
        code = EXIT_FINDINGS
    elif args.strict and stops:
        print(f"workbench check: --strict: training would stop with an error at {stops}, "
              f"which the typical image is too small for: exit code {EXIT_FINDINGS}",
              file=sys.stderr)
        code = EXIT_FINDINGS
    return code


def _run_said(exp, index, report) -> tuple[str, str]:
    """What ``train`` would say of ``exp``'s network and batch size as it starts, said
    here too (:func:`workbench.cli.run_warnings.network_said`): its refusal as an
    ``error:`` line, or the Model doctor's warnings, the batch size's and the
    augmentation's (a flip that changes the label, a crop larger than the images) as
    ``warning:`` lines; each kept in the report's notes. Returns the refusal and the step
    that would stop training with an error (a RandomCrop larger than the typical image:
    "RandomCrop (step 1)"), each "" when none."""
    from workbench.cli.run_warnings import batch_warnings, network_said
    from workbench.core.data.augment.at_start import hint_warnings, starting_hints
    from workbench.core.data.augment.naming import user_field

    refused, warnings = network_said(exp, len(index.classes), index)
    if refused:
        report.notes.append(refused)
        print(f"error: workbench train would refuse the network: {refused}", file=sys.stderr)
        return refused, ""
    hints = starting_hints(exp, index.classes, index)
    for warning in warnings + batch_warnings(exp, index) + hint_warnings(exp, hints):
        report.notes.append(warning)
        print(f"warning: {warning}", file=sys.stderr)
    stops = [h for h in hints if h.stops]
    return "", (user_field(f"augment.transforms[{stops[0].index}]", exp.augment.transforms)
                 if stops else "")


def _class_findings(exp, index) -> dict:
    """What ``check`` says of the classes (also under these keys in ``--json``): the class
    folders without images (``empty_classes``, left out), the classes whose every file is
    unreadable (``unreadable_classes``), why training would refuse the dataset
    (``cannot_train``, the message ``train`` gives; None: it would train) and the note on
    classes with no image held out for validation; and ``class_balance``, the training
    split's imbalance (:func:`_class_balance`)."""
    from workbench.core.data.usage import validation_note
    from workbench.core.errors import DataError

    try:
        index.check_trainable()
        cannot = None
    except DataError as e:
        cannot = str(e)
    return {"empty_classes": list(index.empty_classes),
            "unreadable_classes": index.unreadable_classes(), "cannot_train": cannot,
            "validation_note": validation_note(index, exp.data),
            "class_balance": _class_balance(exp, index)}


def _class_balance(exp, index) -> dict | None:
    """The training split's class imbalance as the Data tab measures it
    (:func:`workbench.core.data.stats.imbalance`): the ratio (None for a class without
    training images), the largest and smallest class, the classes under a third of the
    largest, whether it is strong, and ``message`` (None unless strong); None without a
    usable split."""
    from workbench.core.data.stats import balance_advice, imbalance
    from workbench.core.data.usage import usable_split

    use = usable_split(index, exp.data)
    found = imbalance(use.per_class(list(index.classes))[0]) if use else None
    if found is None:
        return None
    message = None
    if found.strong:
        message = found.summary()
        if math.isfinite(found.ratio):
            message += f": {balance_advice(exp.data.balance, cli=True)}"
    return {"ratio": found.ratio if math.isfinite(found.ratio) else None,
            "largest": {"class": found.largest[0], "train_images": found.largest[1]},
            "smallest": {"class": found.smallest[0], "train_images": found.smallest[1]},
            "small_classes": list(found.small), "imbalanced": found.strong,
            "balance": exp.data.balance, "message": message}


def _scan(exp):
    """The experiment's dataset, scanned and verified as ``check_dataset`` would (passed to
    it, so it is done once); ``note:`` lines say what the scan noticed (images in no class
    folder, unused) and name the ``data.exclude`` entries that match no image (a typo would
    otherwise exclude nothing without a word)."""
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder

    index = scan_folder(dataset_folder(exp.data.folder), verify=True)
    for note in [*index.notes, exclude_note(index, list(exp.data.exclude))]:
        if note:
            print(f"note: {note}", file=sys.stderr)
    return index


def _rel(report, path: str) -> str:
    root = os.path.dirname(report.root) if os.path.isfile(report.root) else report.root
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _groups(report, title: str, groups: list[list[str]], why: str,
            listed: set[frozenset] | None = None) -> None:
    """Print ``groups`` under ``title``; with ``listed`` (the groups printed above, as sets
    of paths, added to), a group counted under a kind above is counted, not listed again (a leak is
    also a near duplicate: the Health tab shows it once, "Also: near duplicate")."""
    again = [g for g in groups if listed is not None and frozenset(g) in listed]
    groups = [g for g in groups if g not in again]
    if listed is not None:
        listed.update(frozenset(g) for g in groups)
    if not groups:
        if again:
            print(f"{title}: {len(again)}, every one counted under the kinds above")
        return
    above = f"; {len(again)} more counted under the kinds above" if again else ""
    print(f"{title} ({len(groups)}{above}): {why}")
    for g in groups[:SHOWN]:
        print("  " + "  =  ".join(f"{_rel(report, p)} [{report.side_of.get(p, '?')}]"
                                  for p in g))
    _more(groups)


def _more(items: list) -> None:
    """The line after a list cut at :data:`SHOWN`: how many were left out, and where."""
    if len(items) > SHOWN:
        print(f"  ... and {len(items) - SHOWN} more (--json lists them all)")


#: The stages ``report.seconds`` times, in words.
_STAGES = {"scan": "scanning", "fast_checks": "quick checks", "labels": "label check"}


def _print_text(report, classes: dict | None = None, test_part: str = "test/") -> None:
    classes = classes or {"unreadable_classes": [], "empty_classes": [], "cannot_train": None}
    parts = report.parts
    where = (f" ({parts['train']:,} for training, {parts['val']:,} for validation, "
             f"{parts['test']:,} in {test_part})" if "test" in parts else "")
    n, k = report.num_images, len(report.classes)
    print(f"{report.root}: {n:,} image{'' if n == 1 else 's'}{where}, {k} "
          f"class{'' if k == 1 else 'es'}"
          + (f" ({report.excluded} excluded by the experiment)" if report.excluded else ""))
    alike = {frozenset(g) for g in getattr(report, "look_alike", None) or []}
    listed: set[frozenset] = set()  # each group once, under its most serious kind
    _groups(report, "conflicting labels", [g for g in report.conflicting_labels
                                           if frozenset(g) not in alike],
            "the same picture filed under different classes", listed)
    _groups(report, "look alike across classes", [g for g in report.conflicting_labels
                                                  if frozenset(g) in alike],
            "look alike, review: maybe the same picture under two classes, maybe two "
            "similar pictures", listed)
    for key, (title, why) in _LEAKS.items():
        _groups(report, title, [g["paths"] for g in report.leaks
                                if tuple(g["parts"]) == key], why, listed)
    _groups(report, "exact duplicates", report.exact_duplicates, "the same pixels", listed)
    _groups(report, "near duplicates", report.near_duplicates,
            "re-encoded, resized or recompressed copies", listed)
    for title, items in (("blank images", [{"path": p} for p in report.blank_images]),
                         ("extreme aspect ratios", report.extreme_aspect),
                         ("tiny images", report.tiny_images)):
        if items:
            print(f"{title} ({len(items)}):")
            for it in items[:SHOWN]:
                size = f" ({it['width']}x{it['height']})" if "width" in it else ""
                print(f"  {_rel(report, it['path'])}{size}")
            _more(items)
    if report.unreadable:
        print(f"unreadable ({len(report.unreadable)}):")
        for u in report.unreadable[:SHOWN]:
            print(f"  {_rel(report, u['path'])}: {u['reason']}")
        _more(report.unreadable)
    for key, title in (("unreadable_classes", "classes with no readable image"),
                       ("empty_classes", "empty class folders, left out")):
        if classes[key]:
            print(f"{title} ({len(classes[key])}): {', '.join(classes[key][:SHOWN])}"
                  + (f" and {len(classes[key]) - SHOWN} more" if len(classes[key]) > SHOWN
                     else ""))
    if classes["cannot_train"]:
        print(f"cannot be trained on: {classes['cannot_train']}")
    balance = classes.get("class_balance")
    if balance and balance["message"] and not classes["cannot_train"]:
        print(f"class imbalance: {balance['message']}")
    if report.labels_checked:
        from workbench.core.data.health.labels import summary_line, unchecked_line

        issues = report.label_issues
        print(summary_line(report))  # the held-out accuracy: how far to trust what follows
        unchecked = unchecked_line(report)  # classes too small to hold out: not judged
        if unchecked:
            print(unchecked)
        print(f"likely mislabelled ({len(issues)}), most likely first:")
        for it in issues[:SHOWN]:
            print(f"  {_rel(report, it['path'])}: filed as {it['given']!r}, looks like "
                  f"{it['suggested']!r} (score {it['score']:.2f})")
        _more(issues)
    else:
        print("labels not checked: add --labels for the cross-validated check (it trains "
              "the network 5 times)")
    if report.clean and not (classes["empty_classes"] or classes["cannot_train"]):
        # As the Health tab says it; without --labels, what was not looked at is said above.
        print("no problems found" if report.labels_checked else
              "no problems found (copies, conflicting labels, leaks, odd images)")
    secs = ", ".join(f"{_STAGES.get(k, k.replace('_', ' '))} {v:.1f} s"
                     for k, v in report.seconds.items())
    print(f"time taken: {secs}")


def cmd_report(args: argparse.Namespace) -> int:
    from workbench.core.io import write_error
    from workbench.core.runs.report import build_report, write_report

    if args.data:
        _check_dataset_path(args.data)
    check_output(args.output, "-o")  # before the run is evaluated for it
    notes: list[str] = []
    if args.output == "-":  # the HTML is the output
        sys.stdout.write(build_report(args.run_dir, args.data, notes))
        sys.stdout.flush()
    else:
        try:
            path = write_report(args.run_dir, args.output, args.data, notes)
        except OSError as e:
            raise UserError(write_error(args.output, e)) from None
        print(f"wrote {path}")
    for note in notes:
        # The run's dataset has moved (evaluate's words for it): say how to give it here.
        if not args.data and "give the dataset to evaluate on" in note:
            note += " with --data DIR"
        print(f"note: {note}", file=sys.stderr)
    return 0
