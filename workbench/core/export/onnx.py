"""ONNX export of a bundle, checked at once with onnxruntime.

:func:`export_onnx` writes two files:

* ``OUT.onnx``: the network, input ``"image"`` of shape ``(batch, C, H, W)`` with a dynamic
  batch dimension, output ``"logits"`` of shape ``(batch, classes)``;
* ``OUT.json`` (the ``.onnx`` file's name with the suffix ``.json``): the evaluation
  preprocessing (decoding and colour conversions, resize, crop, scaling, mean, std), the
  class names and what the input and output mean, so the model can be used without
  Workbench (see :mod:`.preprocessing`).

Both are written through :func:`~..io.atomic_write`: a symlink's target, a FIFO, never a
replaced device; ``OUT.onnx`` may not be a device (its ``.json`` would land beside it).

Right after writing, onnxruntime runs the file on sample inputs at batch size 1 and N and
its outputs are compared with PyTorch's: a file that loads but computes something else is
reported, never silently passed.

The exporter is ``torch.onnx.export(..., dynamo=True)`` (the default since PyTorch 2.9; it
needs the ``onnxscript`` package). The TorchScript exporter would need no extra package, but
PyTorch deprecates it for removal.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.core.bundle import Bundle
from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.export.code import read_bundle
from workbench.core.io import atomic_write, atomic_write_text, output_stream, write_error
from workbench.core.export.preprocessing import preprocessing_document

INPUT_NAME = "image"
OUTPUT_NAME = "logits"
#: Largest accepted absolute difference, as a share of the largest absolute logit (at least
#: 1): float32 kernels that sum in another order differ by ~1e-6 of the scale.
RELATIVE_TOLERANCE = 1e-4
#: Real images from the experiment's folder added to the random sample inputs, when it exists.
REAL_IMAGES = 2
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the exporter colours its messages


@dataclass
class OnnxReport:
    """What :func:`export_onnx` wrote and how well onnxruntime matched PyTorch.

    Attributes
    ----------
    path, preprocessing_path
        The ``.onnx`` file and the JSON beside it.
    opset
        The default-domain ONNX opset of the file.
    input_name, input_shape
        ``"image"`` and ``["batch", C, H, W]`` (``"batch"``: the dynamic dimension).
    output_name
        ``"logits"``: one unnormalised score per class (softmax gives probabilities).
    samples
        Inputs checked (random ones and real images); 0 when not checked.
    real_images
        How many of them were images from the experiment's folder.
    batch_sizes
        The batch sizes onnxruntime ran.
    max_abs_diff
        Largest absolute difference between onnxruntime's and PyTorch's logits over every
        check (None when not checked).
    tolerance
        The difference above which :attr:`warnings` has an entry.
    warnings
        Problems a user should know about (a mismatch, real images that could not be used).
    """

    path: Path
    preprocessing_path: Path
    opset: int
    input_name: str = INPUT_NAME
    input_shape: list = field(default_factory=list)
    output_name: str = OUTPUT_NAME
    samples: int = 0
    real_images: int = 0
    batch_sizes: tuple[int, ...] = ()
    max_abs_diff: float | None = None
    tolerance: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        """onnxruntime was run and agrees with PyTorch within :attr:`tolerance`."""
        return self.max_abs_diff is not None and self.max_abs_diff <= (self.tolerance or 0.0)

    def summary(self, before_int8: bool = False, with_check: bool = True) -> str:
        """One line for the CLI and the GUI's status bar. ``before_int8``: the file is
        about to be replaced by its int8 quantization, so the check said is the float
        model's, not the file's that stays. ``with_check`` False: what was written only
        (the dialog says the check on a line of its own, :meth:`check_line`)."""
        head = (f"wrote {self.preprocessing_path}; exported the float model to quantize "
                f"(opset {self.opset}, dynamic batch)" if before_int8 else
                f"wrote {self.path} (opset {self.opset}, dynamic batch) and "
                f"{self.preprocessing_path}")
        if not with_check:
            return head
        if self.max_abs_diff is None:
            return head + "; not checked with onnxruntime"
        return f"{head}; {self.check_line(before_int8)}"

    def check_line(self, before_int8: bool = False) -> str:
        """How closely onnxruntime matched PyTorch ("" when it was not run)."""
        if self.max_abs_diff is None:
            return ""
        sizes = " and ".join(str(b) for b in self.batch_sizes)
        verb = "matches PyTorch to" if self.matches else "DIFFERS from PyTorch by up to"
        who = "the float model in onnxruntime" if before_int8 else "onnxruntime"
        return (f"{who} {verb} {self.max_abs_diff:.2g} (largest absolute "
                f"difference over {self.samples} inputs, batch sizes {sizes})")


def export_onnx(bundle: Bundle | str | Path, path: str | Path, check: bool = True,
                samples: int = 4, opset: int | None = None) -> OnnxReport:
    """Export ``bundle``'s network to ONNX at ``path`` and check it with onnxruntime.

    Parameters
    ----------
    bundle
        A loaded :class:`~workbench.core.bundle.Bundle` or the path of a bundle file.
    path
        The ``.onnx`` file to write (atomically); the preprocessing goes to the same name
        with the suffix ``.json``.
    check
        Run the file with onnxruntime on sample inputs and compare with PyTorch.
    samples
        Random (seeded, standard normal) inputs of the bundle's input shape to check; up
        to two real images from the experiment's folder are added when it exists.
    opset
        ONNX opset to target; None: the exporter's default (a recent one onnxruntime runs).

    Returns
    -------
    OnnxReport
        What was written and how closely onnxruntime matched; a difference above the
        tolerance is in its ``warnings``.

    Raises
    ------
    BundleError
        For a missing, damaged or foreign bundle file.
    SpecError
        For a bad ``samples`` or ``opset``.
    WorkbenchError
        When the file cannot be written, a layer cannot be exported (naming it), or the
        onnx/onnxscript/onnxruntime packages are missing.
    """
    path = Path(path)
    json_path = preprocessing_file(path)
    if path.suffix.lower() == ".json":
        raise WorkbenchError(f"{path}: give the model file a .onnx name; its preprocessing "
                             f"is written beside it as .json")
    if check and (not isinstance(samples, int) or samples < 2):
        raise SpecError("samples", f"must be at least 2, got {samples!r}: two inputs or more "
                                   f"check that the batch dimension is dynamic")
    _check_opset(opset)
    b = bundle if isinstance(bundle, Bundle) else read_bundle(bundle)
    _check_writable(path)
    exp = b.experiment
    shape = [exp.data.channels, *map(int, exp.data.input_size)]
    model = b.build_model().float().cpu().eval()

    program = _export(model, shape, opset, exp)
    written_opset = int(program.model.opset_imports.get("", 0))
    try:
        data = _serialized(program)
        # The bytes, not a rename of the exporter's file: a symlink, a FIFO or a device
        # named by the user is written, never replaced (see atomic_write).
        atomic_write(path, lambda f: f.write(data))
        doc = preprocessing_document(exp, b.classes, path.name, INPUT_NAME, OUTPUT_NAME)
        atomic_write_text(json_path, json.dumps(doc, indent=2) + "\n")
    except OSError as e:
        raise WorkbenchError(write_error(e.filename or path, e)) from None
    report = OnnxReport(path, json_path, written_opset, input_shape=["batch", *shape])
    if check:  # on the bytes written: the path may be a stream that cannot be read back
        _check_parity(model, b, path, data, samples, report)
    return report


def preprocessing_file(path: str | Path) -> Path:
    """Where :func:`export_onnx` writes the preprocessing of the model ``path``: the same
    name with the suffix ``.json`` (``model.onnx`` -> ``model.json``)."""
    return Path(path).with_suffix(".json")


# -- export ------------------------------------------------------------------------------
def _check_opset(opset: int | None) -> None:
    if opset is None:
        return
    newest = _require("onnx", "export").defs.onnx_opset_version()
    # The dynamo exporter writes opset 18 natively; older ones go through onnx's version
    # converter, which not every operator survives.
    if not isinstance(opset, int) or not 18 <= opset <= newest:
        raise SpecError("opset", f"must be a whole number from 18 to {newest} (this onnx "
                                 f"package's newest), got {opset!r}; leave it unset for the "
                                 f"exporter's default")


def _check_writable(path: Path) -> None:
    """Fail before the (seconds long) export, not after it."""
    if path.is_dir():
        raise WorkbenchError(f"{path} is a folder: give the file to write, e.g. "
                             f"{path / 'model.onnx'}")
    stream = output_stream(path)
    if stream == "device":  # /dev/null.json, /dev/stdout.json: not a place for a file
        raise WorkbenchError(f"{path} is a device, not a file: give a file name (or a "
                             f"FIFO), e.g. model.onnx; its preprocessing is written beside "
                             f"it, to model.json")
    if stream == "fifo":
        return  # written as it is; its folder holds the .json
    real = Path(os.path.realpath(path))  # a symlink's target is what gets written
    blocking = next((p for p in real.parents if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise WorkbenchError(f"cannot write {path}: {blocking} is a file, not a folder; "
                             f"choose another place")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise WorkbenchError(f"cannot write {path}: {e.strerror or e}; choose a folder you "
                             f"can write to") from None


def _require(name: str, purpose: str):
    try:
        return __import__(name)
    except ImportError:
        raise WorkbenchError(f"ONNX {purpose} needs the {name} package, which is not "
                             f"installed: pip install {name}") from None


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines, graph dumps, log records and FutureWarnings about
    PyTorch internals mean nothing to a user; its errors still propagate (and are turned
    into one line by :func:`_reason`). Process-wide while it runs: the export is short."""
    torch_log = logging.getLogger("torch")
    level = torch_log.level
    torch_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        torch_log.setLevel(level)


def _export_module(module: torch.nn.Module, example: torch.Tensor, opset: int | None):
    # Traced at batch 2: torch.export specialises sizes 0 and 1, so batch 1 would freeze.
    with _quiet():
        return torch.onnx.export(
            module, (example,), dynamo=True, verbose=False, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], external_data=False,
            dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))


def _export(model: torch.nn.Module, shape: list[int], opset: int | None, exp):
    _require("onnx", "export")
    _require("onnxscript", "export (PyTorch's exporter)")
    example = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    try:
        return _export_module(model, example, opset)
    except Exception as e:  # noqa: BLE001 - exporter and torch.export raise many types
        raise _culprit(model, example, opset, exp) or WorkbenchError(
            f"the network cannot be exported to ONNX: {_reason(e)}") from None


def _culprit(model: torch.nn.Module, example: torch.Tensor, opset: int | None,
             exp) -> WorkbenchError | None:
    """The first layer that fails to export on its own, as an error naming it."""
    layers = list(model)  # not children(): it would skip a module that appears twice
    inputs, x = [], example
    try:
        with torch.no_grad():
            for module in layers:  # each layer's own input, as the Sequential passes it
                inputs.append(x)
                x = module(x)
    except Exception:  # noqa: BLE001 - the network does not even run: no layer to blame
        return None
    for i, (module, x) in enumerate(zip(layers, inputs)):
        try:
            _export_module(module, x, opset)
        except Exception as e:  # noqa: BLE001 - see _export
            kind = exp.model.layers[i].type if i < len(exp.model.layers) else \
                type(module).__name__
            return WorkbenchError(f"layer {i} ({kind}) cannot be exported to ONNX: "
                                  f"{_reason(e)}; replace it, or export the network as "
                                  f"code instead")
    return None


def _first_line(e: BaseException) -> str:
    text = _ANSI.sub("", str(e)).strip()
    return (text.splitlines()[0][:300] if text else type(e).__name__)


def _reason(e: BaseException) -> str:
    """The root cause's first line: the exporter wraps it in "Failed to export the model
    ... This is step 1/3" advice that does not say what failed."""
    seen = {id(e)}
    while (e.__cause__ or e.__context__) is not None and id(e.__cause__ or e.__context__) \
            not in seen:
        e = e.__cause__ or e.__context__
        seen.add(id(e))
    return _first_line(e)


def _serialized(program) -> bytes:
    """The ``.onnx`` file's bytes, as the exporter saves them."""
    with tempfile.TemporaryDirectory(prefix="workbench-onnx-") as scratch:
        tmp = Path(scratch) / "model.onnx"
        with _quiet():
            program.save(tmp, external_data=False)
        return tmp.read_bytes()


# -- the check ---------------------------------------------------------------------------
def _check_parity(model: torch.nn.Module, bundle: Bundle, path: Path, data: bytes,
                  samples: int, report: OnnxReport) -> None:
    ort = _require("onnxruntime", "check")
    shape = report.input_shape[1:]
    inputs = torch.randn(samples, *shape, generator=torch.Generator().manual_seed(0))
    real, note = _real_images(bundle)
    if note:
        report.warnings.append(note)
    if real is not None:
        inputs = torch.cat([inputs, real])
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its graph-optimiser notes are not ours
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise WorkbenchError(f"{path} was written but onnxruntime cannot load it: "
                             f"{_first_line(e)}") from None
    with torch.no_grad():
        expected = model(inputs).float().numpy()
    diffs = []
    for batch in (inputs[:1], inputs):  # batch 1, then N: the batch dimension is dynamic
        try:
            got = session.run([OUTPUT_NAME], {INPUT_NAME: batch.numpy()})[0]
        except Exception as e:  # noqa: BLE001 - see above
            raise WorkbenchError(f"onnxruntime cannot run {path} on a batch of {len(batch)}: "
                                 f"{_first_line(e)}") from None
        if got.shape != expected[:len(batch)].shape:
            raise WorkbenchError(f"{path}: onnxruntime gave outputs of shape {got.shape} for "
                                 f"a batch of {len(batch)}, PyTorch {expected[:len(batch)].shape}")
        diffs.append(np.abs(got.astype(np.float64) - expected[:len(batch)]).max())
    scale = float(np.abs(expected).max()) if np.isfinite(expected).all() else 1.0
    report.tolerance = RELATIVE_TOLERANCE * max(1.0, scale)
    # NaN (a non-finite output on one side) must fail the comparison, so no nanmax here.
    report.max_abs_diff = float(max(diffs))
    report.samples = len(inputs)
    report.real_images = 0 if real is None else len(real)
    report.batch_sizes = (1, len(inputs))
    if not report.matches:
        report.warnings.insert(0, f"onnxruntime's outputs differ from PyTorch's by up to "
                                  f"{report.max_abs_diff:.3g}, above the tolerance "
                                  f"{report.tolerance:.2g}: check the exported model's "
                                  f"predictions before relying on it")


def _real_images(bundle: Bundle) -> tuple[torch.Tensor | None, str | None]:
    """A few images of the experiment's folder through its evaluation preprocessing (they
    exercise the value ranges real data has); (None, why) when they cannot be had."""
    folder = bundle.experiment.data.folder
    if not folder or not Path(folder).is_dir():
        return None, None  # the demo dataset or a moved folder: random inputs suffice
    from workbench.core.data.images import load_image
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.augment.pipeline import decode_side
    from workbench.core.data.augment.transforms import build_eval_transform

    try:
        samples = scan_folder(folder).samples
        # Spread over the listing (sorted by class) so they are not all of one class.
        items = samples[::max(1, len(samples) // REAL_IMAGES)][:REAL_IMAGES]
        transform = build_eval_transform(bundle.experiment)
        exp = bundle.experiment
        tensors = [transform(load_image(p, exp.data.channels, min_side=decode_side(exp)))
                   for p, _ in items]
    except (WorkbenchError, OSError, ValueError) as e:
        return None, f"images of {folder} not used in the check: {_first_line(e)}"
    return (torch.stack(tensors) if tensors else None), None


__all__ = ["OnnxReport", "export_onnx", "preprocessing_file", "INPUT_NAME", "OUTPUT_NAME",
           "RELATIVE_TOLERANCE"]
