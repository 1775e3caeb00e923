"""``workbench gui``, ``init`` and ``scan``: open the app, start an experiment file, and
look at a dataset before training on it."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from workbench.cli.common import UserError, _check_dataset_path, check_output, dataset_notes
from workbench.core.textwidth import column_width, pad


def cmd_gui(args: argparse.Namespace) -> int:
    if args.data:
        _check_dataset_path(args.data)
    if args.experiment and not Path(args.experiment).is_file():
        raise UserError(f"experiment file {args.experiment} does not exist")
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("there is no display to open the window on (neither DISPLAY nor "
                        "WAYLAND_DISPLAY is set): run it from a desktop session or under "
                        "xvfb-run, or use the headless commands (workbench --help)")
    try:
        from workbench.qt.app import main as gui_main
    except ImportError as e:
        raise UserError(f"the GUI cannot start: {e}. Install the app with scripts/run, or "
                        f"use the headless commands (workbench --help)") from None
    return gui_main(data=args.data, experiment=args.experiment)


#: What to do when ``init -o``'s file cannot be written.
_INIT_FIX = "choose a folder you can write to, or leave out -o to print it"


def cmd_init(args: argparse.Namespace) -> int:
    from workbench.core.model.presets import list_presets, preset_experiment

    if args.list_presets:
        for name, description in list_presets():
            print(f"{pad(name, 12)} {description}")
        return 0
    if args.data:
        _check_dataset_path(args.data)
    if args.output and args.output != "-":  # before the dataset is scanned and said
        # A run's experiment.json is refused even with --overwrite.
        check_output(args.output, "-o", fix=_INIT_FIX)
        if Path(args.output).is_file() and not args.overwrite:  # a hand-edited file, kept
            raise UserError(f"{args.output} exists: choose another -o, or give --overwrite "
                            f"to replace it")
    exp = preset_experiment(args.preset, folder=str(Path(args.data).resolve()) if args.data else "")
    _say_preset_settings(args.preset, with_data=bool(args.data))
    index = _adopt_data_defaults(exp) if args.data else None
    if args.output and args.output != "-":
        from workbench.core.io import write_error

        try:
            exp.save(args.output)
        except OSError as e:
            raise UserError(write_error(args.output, e, _INIT_FIX)) from None
        print(f"wrote {args.output} (preset {args.preset}); train it with: "
              f"workbench train {shlex.quote(args.output)} --out RUN_DIR", file=sys.stderr)
    else:
        print(exp.to_json())
    for note in dataset_notes(exp):  # no --data: the demo (kept: the app relies on it)
        print(f"note: {note}", file=sys.stderr)
    for note in _backbone_notes(exp):
        print(f"note: {note}", file=sys.stderr)
    refusal = _cannot_train(index)
    if refusal:  # as scan and check say it: the experiment is written, the data needs work
        print(f"note: cannot be trained on yet: {refusal}", file=sys.stderr)
    return 0


def _cannot_train(index) -> str | None:
    """Why training would refuse ``index`` (a class whose every file is unreadable, a
    single class...: the message ``train`` gives, after the one decode a class it makes),
    or None when it would train or there is no index."""
    from workbench.core.data.index import check_class_files
    from workbench.core.errors import DataError

    if index is None:
        return None
    try:
        check_class_files(index)
        index.check_trainable()
    except DataError as e:
        return str(e)
    return None


def _say_preset_settings(name: str, with_data: bool) -> None:
    """Say on stderr what the preset set besides its layers, and why (a pretrained
    backbone's preprocessing, its feature views); ``with_data``: the data settings are
    said with the dataset's choices instead."""
    from workbench.core.experiment import Experiment
    from workbench.core.model.preset_settings import preset_changes
    from workbench.core.model.presets import preset_layers

    changes = preset_changes(name, preset_layers(name), Experiment())
    reasons = changes.reasons[changes.data_reasons if with_data else 0:]
    if reasons:
        print(f"preset {name} sets:", file=sys.stderr)
        for reason in reasons:
            print(f"  {reason}", file=sys.stderr)


def _backbone_notes(exp) -> list[str]:
    """Whether a pretrained backbone's weights are on this machine (where they go and
    where to download them when not), said at init so that a run is not wasted on random
    weights; nothing for a network without a Backbone (no torch imported then)."""
    if not any(c.type == "Backbone" for c in exp.model.layers):
        return []
    from workbench.core.model.backbone_weights import backbone_notes

    return backbone_notes(exp.model.layers)


def _adopt_data_defaults(exp):
    """Fit ``exp`` to its dataset (input size, channels, no flip for digits or letters) and
    say on stderr what was chosen and why; a dataset that cannot be scanned keeps the
    preset's values, with the reason. Returns the dataset's index (not decoded), None when
    it could not be scanned."""
    from workbench.core.data.defaults import adopt_data_defaults
    from workbench.core.data.scan import scan_folder
    from workbench.core.errors import DataError

    folder = exp.data.folder
    try:
        index = scan_folder(folder)
    except DataError as e:
        print(f"kept the preset's input size, channels and augmentation: {e}", file=sys.stderr)
        return None
    if not index.samples:
        print(f"kept the preset's input size, channels and augmentation: {folder} holds no "
              f"images yet", file=sys.stderr)
        return index
    defaults = adopt_data_defaults(exp, index)
    print(f"chose from the data in {folder}:", file=sys.stderr)
    for reason in defaults.reasons:
        print(f"  {reason}", file=sys.stderr)
    return index


def _validation_note(index) -> str | None:
    """The note on classes with no image held out for validation by the default split
    (:func:`~workbench.core.data.usage.validation_note`): a class of a single image."""
    from workbench.core.data.usage import validation_note
    from workbench.core.experiment import Experiment

    return validation_note(index, Experiment().data)


def cmd_scan(args: argparse.Namespace) -> int:
    from workbench.core.data.scan import scan_folder

    index = scan_folder(args.folder, verify=not args.quick)
    counts = index.counts()
    # Classes whose every file is unreadable: listed, unlike an empty folder, but with
    # nothing to train on (check_trainable refuses them); said like an empty one.
    unreadable_classes = [c for c in index.classes if not counts.get(c)]
    notes = [*index.notes, *filter(None, [_validation_note(index)])]
    if args.json:
        print(json.dumps({**index.to_json_dict(), "notes": notes,
                          "unreadable_classes": unreadable_classes}, indent=2))
        return 0
    total = sum(counts.values())
    k = len(index.classes)
    print(f"{index.root}: {k} class{'' if k == 1 else 'es'}, {total:,} "
          f"image{'' if total == 1 else 's'}")
    for note in notes:
        print(f"note: {note}")
    splits = index.split_counts()
    if index.layout not in ("folders", "csv"):
        print(f"layout {index.layout}: " + ", ".join(
            f"{n:,} in {index.part_name(part)}" for part, n in splits.items()
            if n is not None)
            + ("" if splits["val"] is not None else
               f"; validation is held out of {index.part_name('train')} by the "
               f"experiment's settings")
            + ("; the test part is never trained on (workbench evaluate uses it)"
               if splits["test"] is not None else ""))
    # Padded by terminal columns, so CJK and emoji names keep the counts in line.
    width = column_width([*index.classes, *index.empty_classes])
    for c in index.classes:
        print(f"  {pad(c, width)}  {counts.get(c, 0)}" + (
            " (no readable images: every file unreadable, see below)"
            if c in unreadable_classes else ""))
    for c in index.empty_classes:
        print(f"  {pad(c, width)}  0 (no images: left out)")
    if index.unreadable:
        print(f"unreadable files ({len(index.unreadable)}), left out:")
        for u in index.unreadable:
            print(f"  {u.path}: {u.reason}")
    for warning in index.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    from workbench.core.errors import DataError

    try:  # what training would refuse (one class, no readable image, ...), said up front
        index.check_trainable()
    except DataError as e:
        print(f"note: cannot be trained on yet: {e}", file=sys.stderr)
    return 0
