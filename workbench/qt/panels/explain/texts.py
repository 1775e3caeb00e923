"""The Explain dialog's words: which model it explains, and what the Grad-CAM view shows.

Plain functions (no widgets): the texts are built from an
:class:`~workbench.qt.panels.explain.jobs.Explanation` and tested without a window.
"""

from __future__ import annotations

import html
from pathlib import Path

from workbench.qt.panels.explain.jobs import Explanation, input_note, predicted_text

#: Below this probability the explained class's hotspots are said to be weak evidence.
WEAK = 0.5


def model_names(bundle_path: str) -> tuple[str, str]:
    """``(title, line)`` naming the model as the Runs tab does.

    A run's bundle.pt: ``("shapes-cnn (epoch 4)", "shapes-cnn (epoch 4) · validation
    accuracy 95.0%")``; a run's last checkpoint says so; any other file: its name (with
    its folder when it is a bundle.pt, which says nothing alone).
    """
    from workbench.core.runs.classes import checkpoint_epoch
    from workbench.core.runs.record import CHECKPOINT_MODEL, is_run_folder, read_record

    p = Path(bundle_path)
    run = None
    if p.name == "bundle.pt" and is_run_folder(p.parent):
        run = p.parent
    elif p.parent.name == "checkpoints" and is_run_folder(p.parent.parent):
        run = p.parent.parent
    if run is None:
        name = f"{p.parent.name}/{p.name}" if p.name == "bundle.pt" and p.parent.name \
            else p.name
        return name, name
    record = read_record(run)
    epoch, accuracy, what = record.model_epoch, record.model_val_acc, ""
    if p.name != "bundle.pt":  # a checkpoint: the epoch it holds, as it says itself
        saved = checkpoint_epoch(p)
        epoch, metrics = saved if saved is not None else (None, {})
        acc = metrics.get("val_acc")
        accuracy = float(acc) if isinstance(acc, (int, float)) and \
            not isinstance(acc, bool) else None
        what = "last checkpoint" if p == run / CHECKPOINT_MODEL else f"checkpoint {p.name}"
    inside = ", ".join(v for v in (f"epoch {epoch}" if epoch is not None else "", what) if v)
    title = f"{record.name} ({inside})" if inside else record.name
    line = title + (f" · validation accuracy {accuracy * 100:.1f}%"
                    if accuracy is not None else "")
    return title, line


def cam_caption(ex: Explanation, chosen_name: str, chosen: int | None) -> str:
    """The lines under the pictures (HTML): the prediction, the class explained (or the
    chosen class's probability when there is no Grad-CAM) and what the network saw."""
    predicted = f"<b>Predicted:</b> {predicted_text(ex.top)}"
    cam = ex.cam
    if cam is None:  # no Grad-CAM (an MLP): the reason is in place of the overlay
        text = predicted
        if chosen is not None and chosen < len(ex.probabilities):
            text += (f"<br><b>Chosen:</b> {html.escape(chosen_name)} "
                     f"({ex.probabilities[chosen] * 100:.1f}%)")
        note = input_note(ex, heatmap=False)
        return f"{text}<br>{note}" if note else text
    name = html.escape(cam.class_name or str(cam.class_index))
    what = (f"<br>{colours_text(cam)}" if cam.flat is None
            else " " + html.escape(cam.note or "", quote=False))
    note = input_note(ex, heatmap=cam.flat is None)
    return (f"{predicted}<br><b>Explaining:</b> {name} ({cam.probability * 100:.1f}%) at "
            f"layer {html.escape(cam.layer)}.{what}" + (f"<br>{note}" if note else ""))


def colours_text(cam) -> str:
    """What the heatmap's colours mean (HTML), with the explained class's probability:
    each map is scaled to its own strongest point, so a 5% class has red places too."""
    name = html.escape(cam.class_name or str(cam.class_index))
    text = (f"<b>Colours:</b> red where the evidence for {name} is strongest, dark blue "
            f"where there is none; relative to this map's strongest point, not to the "
            f"probability ({name}: {cam.probability * 100:.1f}%")
    if cam.probability < WEAK:
        return text + ", so even its red places are weak evidence)."
    return text + ")."


__all__ = ["cam_caption", "colours_text", "model_names"]
