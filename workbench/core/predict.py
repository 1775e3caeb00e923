"""Prediction from a bundle, with the bundle's own evaluation preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, Union

import torch
from PIL import Image

from workbench.core.bundle import Bundle, load_bundle
from workbench.core.errors import WorkbenchError

ImageLike = Union[str, Path, Image.Image]


@dataclass
class Prediction:
    """Top classes for one image, or the reason it could not be read."""

    path: str | None
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        d: dict = {"path": self.path, "top": [{"class": c, "prob": p} for c, p in self.top]}
        if self.error is not None:
            d["error"] = self.error
        return d


class Predictor:
    """Classify images with a trained bundle.

    Parameters
    ----------
    bundle
        A :class:`~workbench.core.bundle.Bundle` or the path of a bundle file.
    device
        Where to run the network (``"cpu"`` by default: prediction of a few images is
        dominated by decoding).
    """

    def __init__(self, bundle: Bundle | str | Path, device: str | torch.device = "cpu"):
        from workbench.core.data.augment.pipeline import decode_side
        from workbench.core.data.augment.transforms import build_eval_transform

        self.bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
        self.device = torch.device(device)
        self.model = self.bundle.build_model().to(self.device)
        self.transform = build_eval_transform(self.bundle.experiment)
        self.classes = list(self.bundle.classes)
        self.channels = self.bundle.experiment.data.channels
        #: JPEGs are decoded at this size, as training decoded them (no larger: faster).
        self.decode_side = decode_side(self.bundle.experiment)

    def load(self, item: ImageLike) -> torch.Tensor:
        """An image file (or PIL image) decoded and preprocessed as the network expects:
        the bundle's evaluation transform. Evaluation and explanation load through it too,
        so all three see the same tensors.

        Raises
        ------
        WorkbenchError
            For a file that cannot be read, naming it and why.
        """
        return self.transform(self.decode(item))

    def decode(self, item: ImageLike) -> Image.Image:
        """The image :meth:`load` preprocesses: decoded (upright by its EXIF orientation)
        and converted to the network's channels, at its own proportions. A PIL image is
        made upright too (``Image.open()`` leaves a photo as stored, often sideways), but
        is taken at the size it was decoded at (a file's large JPEG is decoded smaller).

        Raises
        ------
        WorkbenchError
            For a file that cannot be read, naming it and why.
        """
        from workbench.core.data.images import load_image, to_channels, upright

        if isinstance(item, Image.Image):  # upright as a file would be, at its own size
            return to_channels(upright(item), self.channels)
        return load_image(item, self.channels, min_side=self.decode_side)

    @torch.no_grad()
    def predict(self, items: Iterable[ImageLike], top_k: int = 5,
                batch_size: int = 64) -> list[Prediction]:
        """Top-``k`` classes with probabilities for each item, in input order.

        An item that cannot be read gets a :class:`Prediction` with ``error`` set; the
        others are still classified.
        """
        items = list(items)
        k = max(1, min(int(top_k), len(self.classes)))
        out: list[Prediction] = []
        pending: list[tuple[int, torch.Tensor]] = []

        def flush() -> None:
            if not pending:
                return
            x = torch.stack([t for _, t in pending]).to(self.device)
            probs = torch.softmax(self.model(x).float(), dim=1).cpu()
            values, indices = probs.topk(k, dim=1)
            for (pos, _), vs, ix in zip(pending, values.tolist(), indices.tolist()):
                out[pos].top = [(self.classes[j], float(v)) for v, j in zip(vs, ix)]
            pending.clear()

        for item in items:
            path = None if isinstance(item, Image.Image) else str(item)
            out.append(Prediction(path))
            try:
                pending.append((len(out) - 1, self.load(item)))
            except WorkbenchError as e:
                out[-1].error = getattr(e, "reason", None) or str(e)
            except (OSError, ValueError) as e:
                out[-1].error = f"cannot read image: {e}"
            if len(pending) >= batch_size:
                flush()
        flush()
        return out

    def predict_one(self, item: ImageLike, top_k: int = 5) -> Prediction:
        return self.predict([item], top_k)[0]


def predictions_csv(rows: Iterable[tuple[str, Sequence[tuple[str, float]], str]],
                    top_k: int = 5) -> str:
    """Predictions as CSV text: ``path, predicted, confidence, class_1, prob_1, ...,
    class_k, prob_k, error`` (probabilities with 6 decimals; blanks where there are none).

    ``rows`` are ``(path, top, error)``: the layout ``workbench predict --csv`` and the
    Predict panel's export share. ``k`` is ``top_k``, or fewer when no row has that many
    classes (a 3-class model has no ``class_4``: the columns could only stay blank).
    """
    import csv
    import io

    rows = [(path, list(top or [])[:top_k], error) for path, top, error in rows]
    longest = max((len(top) for _, top, _ in rows), default=0)
    top_k = min(top_k, longest) if longest else top_k
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["path", "predicted", "confidence"]
    for i in range(1, top_k + 1):
        header += [f"class_{i}", f"prob_{i}"]
    writer.writerow(header + ["error"])
    for path, top, error in rows:
        row = [path, top[0][0] if top else "", f"{top[0][1]:.6f}" if top else ""]
        for i in range(top_k):
            row += [top[i][0], f"{top[i][1]:.6f}"] if i < len(top) else ["", ""]
        writer.writerow(row + [error or ""])
    return out.getvalue()

