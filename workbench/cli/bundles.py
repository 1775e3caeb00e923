"""The commands that use a trained bundle: ``workbench predict``, ``evaluate`` and
``export``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from workbench.cli.common import (UserError, _check_dataset_path, check_output, image_paths,
                                 no_image_error)
from workbench.cli.signals import _ctrl_c_stops


def cmd_predict(args: argparse.Namespace) -> int:
    from workbench.core.predict import Prediction, Predictor

    if args.top_k < 1:
        raise UserError("--top-k must be at least 1")
    if args.csv == "-" and args.json:
        raise UserError("--csv - and --json both print to stdout: give --csv a file name, "
                        "or leave out --json")
    if args.csv:
        check_output(args.csv, "--csv")  # before the predictions, not after them
    predictor = Predictor(args.bundle)
    _print_notes(predictor.bundle)
    items, missing = image_paths(args.paths)
    readable = [i for i in items if i not in missing]
    by_path = {pr.path: pr for pr in predictor.predict(readable, top_k=args.top_k)}
    results = [Prediction(i, error=missing[i]) if i in missing else by_path[i] for i in items]
    if all(r.error is not None for r in results):  # nothing to show: a mistake to fix
        raise no_image_error("classified", [(r.path, r.error) for r in results])
    if args.csv == "-":  # the CSV is the output, instead of the text listing
        print(_predictions_csv(results, args.top_k), end="")
        return 0
    if args.csv:
        _write_predictions_csv(Path(args.csv), results, args.top_k)
        print(f"wrote {_counted(results)} to {args.csv}", file=sys.stderr)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            if r.error:
                print(f"{r.path}: error: {r.error}")
            else:
                tops = ", ".join(f"{c} {100 * p:.1f}%" for c, p in r.top)
                print(f"{r.path}: {tops}")
    return 0


def _print_notes(bundle) -> None:
    """The bundle's own notes (a run's checkpoint read as the model, and which epoch it
    holds) as ``note:`` lines on stderr."""
    for note in bundle.notes:
        print(f"note: {note}", file=sys.stderr)


def _counted(results: list) -> str:
    """``"203 predictions and 2 unreadable files"``: a row with an error is no prediction."""
    bad = sum(1 for r in results if r.error is not None)
    good = len(results) - bad
    text = f"{good} prediction{'' if good == 1 else 's'}"
    return text + (f" and {bad} unreadable file{'' if bad == 1 else 's'}" if bad else "")


def _predictions_csv(results: list, top_k: int) -> str:
    """``results`` as CSV text: the layout the Predict panel exports (no ``class_k``
    columns beyond the model's classes)."""
    from workbench.core.predict import predictions_csv

    return predictions_csv(((r.path, r.top, r.error) for r in results), top_k)


def _write_predictions_csv(path: Path, results: list, top_k: int) -> None:
    """Write ``results`` as CSV (atomically)."""
    from workbench.core.io import atomic_write_text, write_error

    try:
        atomic_write_text(path, _predictions_csv(results, top_k))
    except OSError as e:
        raise UserError(write_error(path, e, "choose a writable folder for --csv")) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.core.evaluate.evaluation import EvaluationCancelled, evaluate

    if args.top_k is not None and args.top_k < 1:  # None: the default (core.evaluate)
        raise UserError("--top-k must be at least 1")
    if args.folder:
        _check_dataset_path(args.folder)
    if args.csv_dir == "-":  # three files: no one stream holds them
        raise UserError("--csv-dir needs a folder (created if needed) for per_class.csv, "
                        "confusion.csv and predictions.csv, not -: three files cannot "
                        "share stdout (--json prints the results there)")
    if args.csv_dir and Path(args.csv_dir).exists() and not Path(args.csv_dir).is_dir():
        # Checked before the (long) evaluation, not after it.
        raise UserError(f"--csv-dir {args.csv_dir} is a file, not a folder: give a folder "
                        f"(created if needed) for per_class.csv, confusion.csv and "
                        f"predictions.csv")
    if args.csv_dir:
        check_output(args.csv_dir, "--csv-dir", folder=True)
    try:
        with _ctrl_c_stops() as stop:
            result = evaluate(args.bundle, args.folder, split=getattr(args, "split", None),
                              top_k=args.top_k, stop_event=stop)
    except EvaluationCancelled as e:
        print(f"workbench evaluate: {e}", file=sys.stderr)
        return 130
    for note in result.notes:  # a recomputed validation split, a checkpoint as the model
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.to_text())
    if args.csv_dir:
        written = result.write_csvs(args.csv_dir)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.core.export.code import bundle_code, export_code, read_bundle
    from workbench.core.export.targets import SUFFIXES, with_suffix

    # The dialog's names: "--code mymodel" writes mymodel.py (a stream stays as it is).
    for what, suffix in SUFFIXES.items():
        setattr(args, what, with_suffix(getattr(args, what), suffix))
    outputs = {"--code": args.code, "--onnx": args.onnx, "--safetensors": args.safetensors}
    if not any(outputs.values()):
        raise UserError(f"nothing to export: give {' or '.join(outputs)} with the file to "
                        f"write, e.g. workbench export {shlex.quote(args.bundle)} --code "
                        f"model.py")
    if args.int8 and not args.onnx:
        raise UserError("--int8 quantizes the ONNX model: give --onnx OUT.onnx with it")
    if args.onnx == "-":  # two files (the model, its preprocessing JSON): one stdout
        raise UserError("--onnx needs a file name, e.g. --onnx model.onnx (the "
                        "preprocessing goes beside it, to model.json); only --code - prints")
    if args.safetensors == "-":
        raise UserError("--safetensors needs a file name, e.g. --safetensors "
                        "model.safetensors (its description goes beside it, to "
                        "model.safetensors.json); only --code - prints")
    _check_distinct_outputs(args)
    for option, what, path, fmt in _output_files(args):  # before the (long) export of another
        _check_writable(option, what, path, fmt)
    _check_replaced(args)
    bundle = read_bundle(args.bundle)
    _print_notes(bundle)
    splits = None
    if args.int8:  # its training images first: a missing dataset must not leave a float model
        from workbench.core.export.int8 import calibration_splits

        if args.data:
            _check_dataset_path(args.data)
        splits = calibration_splits(bundle, args.data)
    elif args.data:
        raise UserError("--data is the dataset the --int8 model is calibrated on: give it "
                        "with --onnx OUT.onnx --int8")
    if args.code == "-":
        print(bundle_code(bundle), end="")
    elif args.code:
        path = export_code(bundle, args.code)
        print(f"wrote {path}: build_model() builds the network with random weights; load "
              f"{args.bundle}'s state_dict into it as the file's header shows",
              file=sys.stderr)
    if args.onnx:
        from workbench.core.export.onnx import export_onnx

        report = export_onnx(bundle, args.onnx)
        print(report.summary(before_int8=args.int8), file=sys.stderr)
        for warning in report.warnings:
            print(f"workbench export: warning: {warning}", file=sys.stderr)
        if args.int8:
            from workbench.core.export.int8 import quantize_onnx

            print(quantize_onnx(bundle, args.onnx, splits).summary(), file=sys.stderr)
    if args.safetensors:
        from workbench.core.export.weights import export_safetensors

        weights, doc = export_safetensors(bundle, args.safetensors)
        print(f"wrote {weights} (weights, safetensors) and {doc} (experiment, classes)",
              file=sys.stderr)
    return 0


def _output_files(args: argparse.Namespace) -> list[tuple[str, str, str, str | None]]:
    """``(option, what is written, file, format)`` of every file the export writes;
    ``format``: the ``"format"`` of the JSON an earlier export of that kind wrote there
    (:mod:`workbench.core.export.outputs`), None for the outputs named."""
    from workbench.core.export.onnx import preprocessing_file
    from workbench.core.export.outputs import ONNX_FORMAT, SAFETENSORS_FORMAT
    from workbench.core.export.weights import description_path

    files: list[tuple[str, str, str, str | None]] = []
    if args.code and args.code != "-":
        files.append(("--code", "--code", args.code, None))
    if args.onnx:
        files += [("--onnx", "--onnx", args.onnx, None),
                  ("--onnx", "--onnx's preprocessing", str(preprocessing_file(args.onnx)),
                   ONNX_FORMAT)]
    if args.safetensors:
        files += [("--safetensors", "--safetensors", args.safetensors, None),
                  ("--safetensors", "--safetensors' description",
                   str(description_path(args.safetensors)), SAFETENSORS_FORMAT)]
    return files


def _check_distinct_outputs(args: argparse.Namespace) -> None:
    """Refuse, before anything is written, two outputs of one export that are the same
    file (``--code m.json --onnx m.onnx``: the ONNX preprocessing would replace the code).
    An option clashing with itself (``--onnx m.json``) is left to its exporter's words."""
    from workbench.core.export.outputs import same_file_twice

    clash = same_file_twice((option, what, path) for option, what, path, _ in
                            _output_files(args))
    if clash:
        raise UserError(clash)


def _check_writable(option: str, what: str, path: str, fmt: str | None) -> None:
    """Refuse, before anything is written, a file of the export that cannot be written: a
    folder of its name, or one :func:`check_output` refuses (a run's own file, a read-only
    place, a folder that does not exist). A JSON beside an output
    (``fmt``), whose name the user did not type, is named as what it is."""
    from workbench.core.export.targets import folder_in_the_way

    why = folder_in_the_way(path, _renamed(option) if fmt else
                            f"give {option} the name of a file to write", what if fmt else "")
    if why:
        raise UserError(why)
    check_output(path, option, what=what)  # a run's own file too, even with --overwrite


def _renamed(option: str) -> str:
    """``"give --onnx another name (its preprocessing goes to NAME.json)"``."""
    from workbench.core.export.targets import BESIDE

    return f"give {option} another name ({BESIDE[option.lstrip('-')]})"


def _check_replaced(args: argparse.Namespace) -> None:
    """Refuse, before anything is written, to replace a JSON beside an output that is not
    an earlier export of its kind, such as the experiment ``flowers.json`` beside ``--onnx
    flowers.onnx`` (unless ``--overwrite``; a run's own file :func:`_check_writable` refuses
    always)."""
    from workbench.core.export.outputs import not_earlier_export

    for option, what, path, fmt in _output_files(args):
        foreign = fmt and not args.overwrite and not_earlier_export(path, fmt)
        if foreign:
            raise UserError(f"{foreign}: {_renamed(option)}, or give --overwrite to "
                            f"replace it")
