"""Text and CSV renderings of an :class:`~.evaluation.EvaluationResult`."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from workbench.core.textwidth import column_width, pad

if TYPE_CHECKING:
    from workbench.core.evaluate.evaluation import EvaluationResult

#: Above this many classes the text report leaves the confusion matrix out (it would be
#: too wide to read); the JSON and CSV outputs always carry it.
MAX_TEXT_MATRIX = 20


#: What the tables show for a number that was not measured (the recall of a class with no
#: images): a 0 there would read as a model that failed on the class.
NOT_MEASURED = "\u2014"


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _cell(v: float | None, width: int) -> str:
    return f"{NOT_MEASURED:>{width}s}" if v is None else f"{v:{width}.3f}"


def absent_class_notes(r: "EvaluationResult") -> list[str]:
    """A note naming the model's classes the evaluated images hold none of (support 0):
    their recall is not measured, and the macro recall and F1 leave them out."""
    absent = [row["class"] for row in r.per_class() if row["support"] == 0]
    if not absent:
        return []
    where = {"test": "test/", "val": "the validation split"}.get(r.split, r.source or
                                                                  "the evaluated data")
    names = ", ".join(str(c) for c in absent[:5]) + (" ..." if len(absent) > 5 else "")
    its = "its" if len(absent) == 1 else "their"
    return [f"{where} has no images of {names}: {its} recall is not measured (shown as "
            f"{NOT_MEASURED}), and the macro recall and F1 average the other classes"]


def _top_k(r: "EvaluationResult") -> str:
    """The top-k accuracy, or why it is left out: with k at the number of classes every
    image's true class is among the top k, so it would read 100% whatever the model does
    (as the Evaluate tab, which caps k below the number of classes)."""
    if r.top_k < len(r.classes):
        return f"top-{r.top_k} accuracy {_pct(r.top_k_accuracy)}"
    return (f"(no top-k accuracy: the model has {len(r.classes)} classes, so a top-"
            f"{len(r.classes)} is always 100%; use --top-k {max(1, len(r.classes) - 1)} or "
            f"less)")


def top_k_dict(r: "EvaluationResult") -> dict:
    """``{"k", "accuracy"}`` for the JSON output; ``accuracy`` None, with a ``reason``,
    where the text report leaves the top-k accuracy out (:func:`_top_k`)."""
    n = len(r.classes)
    if r.top_k < n:
        return {"k": r.top_k, "accuracy": r.top_k_accuracy}
    return {"k": r.top_k, "accuracy": None,
            "reason": f"the model has {n} class{'es' * (n != 1)}, so a top-{n} accuracy is "
                      f"always 100%; use --top-k {max(1, n - 1)} or less"}


def format_report(r: "EvaluationResult") -> str:
    """The text report ``workbench evaluate`` prints."""
    what = {"val": "the validation split of ",
            "test": "the test part (never trained on) of "}.get(r.split, "")
    lines = [f"evaluated {r.bundle_path or 'the bundle'} on {what}{r.source}: "
             f"{r.num_images} images, {len(r.classes)} classes",
             f"accuracy {_pct(r.accuracy)}   {_top_k(r)}", ""]
    # Padded by terminal columns (core.textwidth): CJK and emoji names take two each.
    width = column_width(r.classes, len("macro average"))
    lines.append(f"{'class':{width}s}  precision  recall     f1  support")
    for row in r.per_class():
        lines.append(f"{pad(row['class'], width)}  {_cell(row['precision'], 9)}  "
                     f"{_cell(row['recall'], 6)}  {_cell(row['f1'], 5)}  {row['support']:7d}")
    macro = r.macro_average()
    lines.append(f"{'macro average':{width}s}  {macro['precision']:9.3f}  "
                 f"{macro['recall']:6.3f}  {macro['f1']:5.3f}  {r.num_images:7d}")
    lines.append("")
    m = r.confusion
    if len(r.classes) <= MAX_TEXT_MATRIX:
        lines.append("confusion matrix (rows: true class, columns: predicted class)")
        cell = column_width(r.classes, len(str(int(m.max()))) if m.size else 1)
        name_w = column_width(r.classes)
        lines.append(" " * name_w + "  " + " ".join(pad(c, cell, ">") for c in r.classes))
        for name, row in zip(r.classes, m.tolist()):
            lines.append(f"{pad(name, name_w)}  " + " ".join(f"{v:>{cell}d}" for v in row))
    else:
        lines.append(f"confusion matrix: {len(r.classes)} classes, too wide to print; see "
                     f"--json or --csv-dir")
    pairs = r.most_confused(10)
    lines.append("")
    if pairs:
        lines.append("most confused (true -> predicted: images)")
        lines += [f"  {p['true']} -> {p['predicted']}: {p['count']}" for p in pairs]
    else:
        lines.append("no mistakes")
    if r.unreadable:
        lines.append("")
        lines.append(f"unreadable images ({len(r.unreadable)}), left out:")
        lines += [f"  {p}: {reason}" for p, reason in r.unreadable]
    return "\n".join(lines)


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _num(v: float | None) -> str:
    return "" if v is None else f"{v + 0.0:.6g}"  # + 0.0: a -0.0 loss is written 0, not -0


def per_class_csv_text(r: "EvaluationResult") -> str:
    """``class,precision,recall,f1,support`` rows, the last the macro average (support:
    the images evaluated), as ``workbench evaluate`` prints it."""
    rows = [["class", "precision", "recall", "f1", "support"]]
    rows += [[m["class"], _num(m["precision"]), _num(m["recall"]), _num(m["f1"]),
              m["support"]] for m in r.per_class()]
    macro = r.macro_average()
    rows.append(["macro average", *(_num(macro[k]) for k in ("precision", "recall", "f1")),
                 r.num_images])
    return _csv(rows)


def confusion_csv_text(r: "EvaluationResult") -> str:
    rows = [["true \\ predicted"] + list(r.classes)]
    rows += [[name] + row for name, row in zip(r.classes, r.confusion.tolist())]
    return _csv(rows)


def predictions_csv_text(r: "EvaluationResult") -> str:
    rows = [["path", "true", "predicted", "correct", "confidence", "true_prob", "loss",
             "error"]]
    conf, ok = r.confidences, r.correct
    for i, path in enumerate(r.paths):
        t, p = int(r.y_true[i]), int(r.y_pred[i])
        rows.append([path, r.classes[t], r.classes[p], int(bool(ok[i])), _num(conf[i]),
                     _num(r.probs[i, t]), _num(r.losses[i]), ""])
    # Unreadable images have no prediction; their true class is lost with the sample
    # list, so only the path and the reason are written.
    rows += [[path, "", "", "", "", "", "", reason] for path, reason in r.unreadable]
    return _csv(rows)
