"""int8 ONNX: static quantization with onnxruntime's tools, calibrated on training images,
and the accuracy of the float and int8 models side by side on the validation split.

``workbench export BUNDLE --onnx OUT --int8`` writes the float model with
:func:`~workbench.core.export.onnx.export_onnx` (its preprocessing JSON beside it, which
holds for both), then :func:`quantize_onnx` replaces OUT with the int8 model: QDQ format,
weights int8 per channel, activations uint8, the ranges calibrated (MinMax) on a sample of
the experiment's training images through its evaluation preprocessing.
:func:`calibration_splits` finds those images (``--data`` where the dataset has moved); the
command looks for them before it writes anything.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from workbench.core.errors import WorkbenchError

#: Training images the activation ranges are calibrated on.
CALIBRATION_IMAGES = 256
#: Validation images the two models are compared on (all of them up to this).
COMPARE_IMAGES = 2000
_BATCH = 32


@dataclass
class Int8Report:
    """What :func:`quantize_onnx` wrote and measured."""

    path: Path
    calibration_images: int
    float_accuracy: float | None = None
    int8_accuracy: float | None = None
    compared_images: int = 0
    float_bytes: int = 0
    int8_bytes: int = 0
    note: str = ""
    #: The int8 model (in onnxruntime) against PyTorch's on the compared images: the share
    #: of images both give the same top class, and the largest logit difference.
    top1_agreement: float | None = None
    max_logit_diff: float | None = None

    def summary(self) -> str:
        size = (f"{self.int8_bytes / 1e6:.2f} MB (float: {self.float_bytes / 1e6:.2f} MB)")
        acc = ("" if self.float_accuracy is None else
               f"; validation accuracy on {self.compared_images} images: float "
               f"{100 * self.float_accuracy:.2f}%, int8 {100 * self.int8_accuracy:.2f}% "
               f"({100 * (self.int8_accuracy - self.float_accuracy):+.2f} points)")
        check = ("" if self.top1_agreement is None else
                 f"; against PyTorch on those images the int8 model gives the same top class "
                 f"for {100 * self.top1_agreement:.1f}% of them, its logits differing by up "
                 f"to {self.max_logit_diff:.2g}")
        return (f"wrote {self.path}: int8 (static, QDQ, calibrated on "
                f"{self.calibration_images} training images), {size}{acc}{check}"
                + (f". {self.note}" if self.note else ""))

    def sidecar(self) -> dict[str, Any]:
        """What the preprocessing JSON beside the model records of the quantization."""
        out: dict[str, Any] = {
            "type": "int8", "method": "onnxruntime static quantization, QDQ format",
            "weights": "int8, per channel", "activations": "uint8",
            "calibration": f"MinMax on {self.calibration_images} training images"}
        if self.top1_agreement is not None:
            out["compared_with_pytorch"] = {
                "images": self.compared_images, "top1_agreement": self.top1_agreement,
                "max_logit_diff": self.max_logit_diff,
                "float_accuracy": self.float_accuracy, "int8_accuracy": self.int8_accuracy}
        return out


def _batches(bundle: Any, samples: list[tuple[str, int]]) -> Iterator[tuple[np.ndarray,
                                                                            np.ndarray]]:
    """The samples through the bundle's evaluation preprocessing, in batches (unreadable
    images left out)."""
    import torch

    from workbench.core.predict import Predictor

    loader = Predictor(bundle)
    xs, ys = [], []
    for path, label in samples:
        try:
            xs.append(loader.load(path))
            ys.append(label)
        except (WorkbenchError, OSError, ValueError):
            continue
        if len(xs) == _BATCH:
            yield torch.stack(xs).numpy(), np.array(ys)
            xs, ys = [], []
    if xs:
        yield torch.stack(xs).numpy(), np.array(ys)


Splits = tuple[list[tuple[str, int]], list[tuple[str, int]]]


def calibration_splits(bundle: Any, folder: str | Path | None = None) -> Splits:
    """The bundle's training and validation split (``(path, label)`` lists) that
    :func:`quantize_onnx` calibrates on and compares with: of its experiment's dataset, or
    of ``folder`` when the dataset has moved there (split as the run recorded it, or as in
    training when neither the bundle nor its folder holds the record).

    Call it before writing anything: it raises :class:`WorkbenchError` naming the folder and
    what to do when the dataset is gone or no longer has the bundle's classes.
    """
    from workbench.core.data.demo import dataset_folder
    from workbench.core.data.scan import scan_folder
    from workbench.core.data.split_record import split_of_bundle

    exp = bundle.experiment
    folder = str(folder) if folder else dataset_folder(exp.data.folder)
    if not Path(folder).exists():
        raise WorkbenchError(f"the int8 model is calibrated on the bundle's training images, "
                             f"but its dataset {folder} does not exist (moved or deleted?): "
                             f"give the dataset's new place with --data DIR")
    index = scan_folder(folder)
    if list(index.classes) != list(bundle.classes):
        raise WorkbenchError(f"{folder} does not have the bundle's classes "
                             f"({', '.join(bundle.classes)}), so there are no training images "
                             f"to calibrate the int8 model on: give the bundle's dataset "
                             f"with --data DIR")
    # The split the run recorded (carried in the bundle, or in its run folder), so the int8
    # and float models are compared on the images the run validated on, not on ones added
    # and trained on since.
    train, val, _ = split_of_bundle(index, exp.data, bundle)
    return train, val


def _logits(session: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x.astype(np.float32)})[0]
                           for x, _ in batches])


def _accuracy(logits: np.ndarray, batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
    y = np.concatenate([y for _, y in batches])
    return float((logits.argmax(1) == y).mean()) if len(y) else 0.0


def _pytorch_logits(bundle: Any, batches: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    import torch

    model = bundle.build_model().float().cpu().eval()
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x.astype(np.float32))).numpy()
                               for x, _ in batches])


def quantize_onnx(bundle: Any, path: str | Path, splits: Splits | None = None) -> Int8Report:
    """Replace the float ONNX model at ``path`` (written by ``export_onnx`` for
    ``bundle``) with its int8 quantization, and compare their validation accuracy.

    ``splits``: :func:`calibration_splits`'s result (by default, of the bundle's dataset).
    """
    import onnxruntime as ort
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    path = Path(path)
    train, val = splits if splits is not None else calibration_splits(bundle)
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(train))[:CALIBRATION_IMAGES]
    calib = list(_batches(bundle, [train[i] for i in sorted(pick)]))
    if not calib:
        raise WorkbenchError(f"none of the training images of {bundle.experiment.data.folder} "
                             f"could be read to calibrate the int8 model")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(calib)

        def get_next(self) -> dict[str, np.ndarray] | None:
            nxt = next(self._it, None)
            return None if nxt is None else {"image": nxt[0].astype(np.float32)}

    float_bytes = path.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        out = os.path.join(tmp, "int8.onnx")
        try:
            quant_pre_process(str(path), pre, skip_symbolic_shape=True)
        except Exception:  # noqa: BLE001  (optional optimisation: quantize the model as is)
            pre = str(path)
        try:
            quantize_static(pre, out, Reader(), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax)
        except Exception as e:  # noqa: BLE001  (onnxruntime's own errors: say which step)
            raise WorkbenchError(f"onnxruntime could not quantize {path}: "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}; "
                                 f"the float model is kept there") from None
        float_session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        int8_session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        report = Int8Report(path, sum(len(y) for _, y in calib), float_bytes=float_bytes,
                            int8_bytes=os.path.getsize(out))
        compare = list(_batches(bundle, val[:COMPARE_IMAGES]))
        if compare:
            float_logits = _logits(float_session, compare)
            int8_logits = _logits(int8_session, compare)
            report.float_accuracy = _accuracy(float_logits, compare)
            report.int8_accuracy = _accuracy(int8_logits, compare)
            report.compared_images = sum(len(y) for _, y in compare)
            # The int8 file that stays, checked against PyTorch (the float ONNX check said
            # before quantizing is the float model's).
            expected = _pytorch_logits(bundle, compare)
            report.top1_agreement = float((int8_logits.argmax(1) == expected.argmax(1)).mean())
            report.max_logit_diff = float(np.abs(int8_logits.astype(np.float64)
                                                 - expected).max())
        else:
            report.note = "no validation images to compare the two models on"
        del float_session, int8_session
        from workbench.core.io import atomic_write

        data = Path(out).read_bytes()
        atomic_write(path, lambda f: f.write(data))
    _record_in_sidecar(path, report)
    return report


def _record_in_sidecar(path: Path, report: Int8Report) -> None:
    """Say in the preprocessing JSON beside the model that it is int8-quantized (its
    ``quantization``); a sidecar that is missing or unreadable is left as it is."""
    import json

    from workbench.core.export.onnx import preprocessing_file
    from workbench.core.io import atomic_write_text

    sidecar = preprocessing_file(path)
    try:
        doc = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(doc, dict):
        doc["quantization"] = report.sidecar()
        atomic_write_text(sidecar, json.dumps(doc, indent=2) + "\n")
