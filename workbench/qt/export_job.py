"""What the Export dialog (:mod:`workbench.qt.export_dialog`) writes and says, apart from
its widgets: the default file names, the files an export would replace (or write twice), the
export job run in a pool thread (as ``workbench export BUNDLE --onnx OUT [--int8] --code OUT
--safetensors OUT`` does) and its report as HTML.

Torch-free at import: the dialog opens before torch has loaded.
"""

from __future__ import annotations

import html
import os
from typing import Any

from workbench.core.export.outputs import RUN_FILES  # torch-free
from workbench.core.export.weights import description_path  # torch-free
from workbench.core.io import file_stamp
from workbench.qt.workers import describe_exception


#: What an export writes after its stem (the files of :func:`default_outputs`).
_WRITTEN = (".onnx", ".json", ".py", ".safetensors", ".safetensors.json")


def sidecar_path(onnx_path: str) -> str:
    """The preprocessing JSON the ONNX export writes beside ``onnx_path`` (as
    :func:`workbench.core.export.onnx.preprocessing_file` names it, without importing
    torch): ``net.onnx`` -> ``net.json``."""
    return os.path.splitext(onnx_path)[0] + ".json" if onnx_path else ""


def default_stem(bundle_path: str) -> str:
    """The name the exported files get: the bundle's own (``my model (v1).pt`` ->
    ``my model (v1)``), or the run's for a run folder's ``bundle.pt`` (the folder
    ``2024-05-01_10-00-00-flowers`` -> ``flowers``). Never ``model``: a project folder's
    own model.py must not be the default to replace (a bundle.pt outside a run folder
    gives bundle.*). A run folder without a date stamp (``workbench train --out runs/rgb``)
    names its run itself, as the Runs tab says: ``rgb``. Nor a run folder's own file: a
    run named ``experiment`` gives ``experiment-export`` (its .json would be the run's
    experiment.json, :data:`~workbench.core.export.outputs.RUN_FILES`)."""
    from pathlib import Path

    from workbench.core.runs.record import is_run_folder, name_in_folder  # torch-free

    stem = os.path.splitext(os.path.basename(bundle_path))[0]
    if stem == "bundle":  # a run's: its folder is named "<date>_<time>-<run name>"
        folder = os.path.dirname(os.path.abspath(bundle_path))
        run = name_in_folder(os.path.basename(folder))
        if not run and is_run_folder(Path(folder)):
            run = os.path.basename(folder)
        stem = run or stem
    stem = "".join(c if c.isalnum() or c in "-_.() " else "_" for c in stem).strip(" .")
    if any(stem + ext in RUN_FILES for ext in _WRITTEN):  # a run named "experiment"
        return stem + "-export"
    return "exported_model" if stem in ("", "model") else stem


def safetensors_description(weights: str) -> str:
    """The JSON the safetensors export writes beside ``weights``
    (:func:`~workbench.core.export.weights.description_path`): ``net.safetensors`` ->
    ``net.safetensors.json``."""
    return str(description_path(weights)) if weights else ""


def default_outputs(bundle_path: str) -> tuple[str, str, str]:
    """(ONNX file, code file, safetensors file) an export of ``bundle_path`` writes by
    default: beside it, named by :func:`default_stem`, ``-export`` added when a .json of
    that name there is not an earlier export (the user's experiment ``flowers.json``
    beside ``flowers.pt``)."""
    stem = output_path(default_stem(bundle_path), bundle_path)
    if foreign_files(stem + ".onnx", None, stem + ".safetensors"):
        stem += "-export"
    return stem + ".onnx", stem + ".py", stem + ".safetensors"


def output_path(text: str, bundle_path: str) -> str:
    """The file a name typed in the dialog means, absolute: ``~`` expanded, and a name
    without a folder (``my model``) beside the bundle, where the defaults are, not in
    whatever folder the app was started from; "" stays ""."""
    if not text:
        return ""
    path = os.path.expanduser(text)
    if not os.path.isabs(path):
        folder = os.path.dirname(os.path.abspath(bundle_path)) if bundle_path else os.getcwd()
        path = os.path.join(folder, path)
    return os.path.abspath(path)


def _labelled_files(onnx: str | None, code: str | None,
                    safetensors: str | None) -> list[tuple[str, str, str]]:
    """``(output, what, path)`` of every file the export writes, in order."""
    return [(output, what, p) for output, what, p in (
        ("onnx", "the ONNX model", onnx),
        ("onnx", "the ONNX preprocessing", sidecar_path(onnx or "")),
        ("code", "the PyTorch code", code),
        ("safetensors", "the safetensors weights", safetensors),
        ("safetensors", "the safetensors description",
         safetensors_description(safetensors or ""))) if p]


def files_to_write(onnx: str | None, code: str | None,
                   safetensors: str | None = None) -> list[str]:
    """Every file an export to ``onnx`` (its preprocessing JSON included), ``code`` and
    ``safetensors`` (its description JSON included) writes, in that order."""
    return [p for _, _, p in _labelled_files(onnx, code, safetensors)]


def same_file_twice(onnx: str | None, code: str | None,
                    safetensors: str | None = None) -> str | None:
    """Why the export cannot be started when two of its files are one, as ``workbench
    export`` refuses it (:func:`workbench.core.export.outputs.same_file_twice`), else
    None."""
    from workbench.core.export.outputs import same_file_twice as clash

    why = clash(_labelled_files(onnx, code, safetensors))
    return why + "." if why else None


def cannot_export(onnx: str | None, code: str | None,
                  safetensors: str | None = None) -> str | None:
    """Why the export cannot be started, as ``workbench export`` refuses it before any
    work, else None: two of its files are one (:func:`same_file_twice`), one is a run
    folder's own file (:func:`~workbench.core.export.outputs.run_file`: never replaced,
    not even when asked), or a file's place cannot be written (the CLI's rule,
    :func:`workbench.core.io.cannot_write`) or is a folder (the JSON beside an output too:
    :func:`~workbench.core.export.targets.folder_in_the_way`), so no format is exported
    while another cannot be."""
    from workbench.core.export.outputs import run_file
    from workbench.core.export.targets import BESIDE, folder_in_the_way
    from workbench.core.io import cannot_write

    clash = same_file_twice(onnx, code, safetensors)
    if clash:
        return clash
    for output, what, path in _labelled_files(onnx, code, safetensors):
        run = run_file(path)
        if run:
            return (f"{what} would write {path}, {run}: an export never writes over a run's "
                    f"own files. Give the {_NAMES[output]} file another name.")
    named = {"onnx": onnx, "code": code, "safetensors": safetensors}
    for output, what, path in _labelled_files(onnx, code, safetensors):
        beside = path != named[output]  # a JSON whose name follows the output's
        why = (folder_in_the_way(path, f"give the {_NAMES[output]} file another name"
                                       f"{f' ({BESIDE[output]})' if beside else ''}",
                                 what if beside else "")
               or cannot_write(path, f"choose a folder you can write to for the "
                                     f"{_NAMES[output]} file (Browse…)"))
        if why:
            return why[0].upper() + why[1:] + "."
    return None


_NAMES = {"onnx": "ONNX", "code": "PyTorch code", "safetensors": "safetensors"}


def existing_files(paths: list[str]) -> list[str]:
    """Those of ``paths`` that exist: the export would replace them (a folder is no file to
    replace: :func:`cannot_export` refuses it)."""
    return [p for p in paths if os.path.lexists(p) and not os.path.isdir(p)]


def foreign_files(onnx: str | None, code: str | None,
                  safetensors: str | None = None) -> dict[str, str]:
    """The JSON files the export writes beside its outputs that exist and are not an
    earlier export of their kind (``"flowers.json exists and is a Workbench experiment,
    not an earlier ONNX export's preprocessing file"`` by path,
    :func:`~workbench.core.export.outputs.not_earlier_export`): the question to replace
    them says so."""
    from workbench.core.export.outputs import (ONNX_FORMAT, SAFETENSORS_FORMAT,
                                               not_earlier_export)

    found = {}
    for path, fmt in ((sidecar_path(onnx or ""), ONNX_FORMAT),
                      (safetensors_description(safetensors or ""), SAFETENSORS_FORMAT)):
        why = path and not_earlier_export(path, fmt)
        if why:
            found[path] = why
    return found


def _int8_splits(bundle: Any, data: str | None) -> Any:
    """The training and validation images the int8 model is calibrated and compared on (the
    CLI's ``--data``: ``data``, else the bundle's dataset); the CLI's words when they are
    missing, with the dialog's field for ``--data``."""
    from workbench.core.export.int8 import calibration_splits

    try:
        return calibration_splits(bundle, data or None)
    except Exception as e:  # noqa: BLE001  (WorkbenchError: the dataset is gone)
        text = describe_exception(e)
        raise _Int8Error(text.replace("with --data DIR", 'under "Calibrate on" (Browse…)')
                         ) from None


class _Int8Error(Exception):
    pass


def export_bundle(bundle_path: str, onnx_path: str | None, code_path: str | None,
                  int8: bool = False, data: str | None = None,
                  safetensors_path: str | None = None) -> dict[str, Any]:
    """Export ``bundle_path`` to the formats whose path is given (runs in a pool thread);
    ``int8``: the ONNX model is then quantized (calibrated on the training images of the
    bundle's dataset, or of ``data``) and compared with the float one. The safetensors
    weights are read back and compared with the bundle's
    (:func:`~workbench.core.export.weights.verify_safetensors`).

    Returns
    -------
    dict
        ``onnx``: the :class:`~workbench.core.export.onnx.OnnxReport` or None; ``int8``:
        the :class:`~workbench.core.export.int8.Int8Report` or None; ``onnx_error``: why
        the ONNX export failed, or None; ``code``: the path written or None;
        ``code_error``: why the code export failed, or None; ``safetensors``: (weights,
        description) written, or None; ``safetensors_checked``: how many tensors read back
        equal, None for a stream; ``safetensors_error``: why it failed, or None;
        ``written_anyway``: by format (``"onnx"``, ``"safetensors"``), the files a failed
        export still wrote (the model before its JSON failed), for the list of files
        written.
    """
    from workbench.core.export.code import export_code, read_bundle

    out: dict[str, Any] = {"onnx": None, "int8": None, "onnx_error": None, "code": None,
                           "code_error": None, "safetensors": None,
                           "safetensors_checked": None, "safetensors_error": None,
                           "written_anyway": {}}
    bundle = read_bundle(bundle_path)  # an unreadable bundle fails the whole job
    if onnx_path:
        before = _stamps([onnx_path, sidecar_path(onnx_path)])
        try:
            # The images first, as the CLI does: a missing dataset leaves no float model.
            splits = _int8_splits(bundle, data) if int8 else None
            from workbench.core.export.onnx import export_onnx

            out["onnx"] = export_onnx(bundle, onnx_path)
            if int8:
                from workbench.core.export.int8 import quantize_onnx

                out["int8"] = quantize_onnx(bundle, onnx_path, splits)
        except _Int8Error as e:
            out["onnx_error"] = str(e)
        except Exception as e:  # noqa: BLE001 - reported in the dialog, the code still runs
            out["onnx_error"] = describe_exception(e)
        if out["onnx"] is None:
            out["written_anyway"]["onnx"] = _rewritten(before)
    if code_path:
        try:
            out["code"] = str(export_code(bundle, code_path))
        except Exception as e:  # noqa: BLE001
            out["code_error"] = describe_exception(e)
    if safetensors_path:
        from workbench.core.export.weights import export_safetensors, verify_safetensors

        before = _stamps([safetensors_path, safetensors_description(safetensors_path)])
        try:
            weights, doc = export_safetensors(bundle, safetensors_path, check=False)
            out["safetensors"] = (str(weights), str(doc))
            out["safetensors_checked"] = verify_safetensors(bundle, weights)
        except Exception as e:  # noqa: BLE001
            out["safetensors_error"] = describe_exception(e)
        if out["safetensors"] is None:
            out["written_anyway"]["safetensors"] = _rewritten(before)
    return out


def _stamps(paths: list[str]) -> dict[str, tuple[int, int, int] | None]:
    """Each file's identity now (:func:`~workbench.core.io.file_stamp`; None: absent): a
    file written since differs (an atomic write makes a new one)."""
    return {path: file_stamp(path) for path in paths}


def _rewritten(before: dict[str, tuple[int, int, int] | None]) -> list[str]:
    """Those of the files stamped ``before`` (:func:`_stamps`) written since."""
    return [p for p, was in before.items() if (now := file_stamp(p)) and now != was]


def coloured(text: str, level: str, bold: bool = False) -> str:
    """``text``, escaped, in ``level``'s colour ("ok", "warning", "error"): a class the
    report's box colours for the palette in use
    (:class:`~workbench.qt.colours.LevelTextBrowser`)."""
    tag = "b" if bold else "span"
    return f'<{tag} class="{level}">{html.escape(text)}</{tag}>'


def safetensors_html(weights: str, doc: str, checked: int | None) -> str:
    """What the safetensors export wrote, in the CLI's words, then the read-back check in
    bold, as the ONNX check is shown."""
    head = html.escape(f"wrote {weights} (weights, safetensors) and {doc} (experiment, "
                       f"classes)")
    if checked is None:
        return f"{head}<br>not read back: it was written to a stream"
    return f"{head}<br>" + coloured(f"read back: its {checked} tensors equal the bundle's, "
                                    f"bit for bit", "ok", bold=True)


def report_html(report: Any, int8: Any = None) -> str:
    """The ONNX report: summary, the largest difference in bold, warnings coloured; then,
    for an int8 model, its summary as the CLI prints it, and the accuracies in bold first."""
    # What was written, then the check once, on its own line (the float model's, before
    # an int8 one).
    parts = [html.escape(report.summary(before_int8=int8 is not None, with_check=False))]
    if report.max_abs_diff is not None:
        check = report.check_line(int8 is not None)
        parts.append(coloured(check, "ok" if report.matches else "error", bold=True)
                     + (f" (tolerance {report.tolerance:.3g})" if report.tolerance else ""))
    for warning in report.warnings:
        parts.append(coloured(f"Warning: {warning}", "warning" if report.matches else "error"))
    if int8 is not None:
        parts.append(html.escape(int8.summary()))
        if int8.float_accuracy is not None and int8.int8_accuracy is not None:
            # The headline, first: what quantizing cost.
            drop = 100 * (int8.int8_accuracy - int8.float_accuracy)
            level = "ok" if drop > -1 else "warning" if drop > -5 else "error"
            parts.insert(0, coloured(f"Validation accuracy: float "
                                     f"{100 * int8.float_accuracy:.2f}%, int8 "
                                     f"{100 * int8.int8_accuracy:.2f}% ({drop:+.2f} points, "
                                     f"{int8.compared_images} images)", level, bold=True))
    return "<br>".join(parts)
