"""A run as one self-contained HTML file: :func:`write_report` (``workbench report`` and the
app's File → Export report…).

Everything is inside the file (the curves and the confusion matrix as inline SVG, the
image thumbnails as base64 JPEG ``data:`` URIs, the style in a ``<style>`` element):
nothing is fetched from the network, so it opens anywhere, offline, and can be handed in
or attached to a ticket. It holds the experiment (data and its class balance,
augmentation, the network table with shapes and parameters, where a backbone's weights
came from and how its features were made, optimizer, schedule, loss), what the run warned
of and noted as it started, the curves, the bundle's evaluation on its validation split
and, where the dataset has a test part, on that part too, each labelled (accuracy and
top-k, the evaluation's notes, confusion matrix, per-class metrics ending with the macro
average ``workbench evaluate`` prints, the largest-loss images), the training doctor's
findings, and the environment (versions, device). The confusion matrix
(:mod:`workbench.core.evaluate.confusion_figure`) names every class on both axes however
many there are and names a cell's classes and count when pointed at; the most frequent
mistakes are listed under it.
"""

from __future__ import annotations

import base64
import html
import io
import platform
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

_SPLIT_WORDS = {"val": "the validation split", "test": "the test part, never trained on"}
#: Largest-loss images shown, with thumbnails of this side.
WORST_SHOWN = 12
THUMB_SIDE = 96
#: Most frequent mistakes listed under the confusion matrix.
CONFUSED_SHOWN = 15

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1000px;
color:#222;line-height:1.4}h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;font-size:.92em}th{background:#f4f4f4}.num{text-align:right}
.error{color:#b00020}.warning{color:#9a6700}.info{color:#1f5fa8}
.thumbs{display:flex;flex-wrap:wrap;gap:10px}.thumbs figure{margin:0;width:140px;
font-size:.8em}.thumbs img{width:96px;height:96px;object-fit:contain;background:#eee}
svg text{font-size:11px;font-family:sans-serif}.wide{overflow-x:auto;max-width:100%}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _png_uri(array_or_image: Any, fmt: str = "PNG") -> str:
    from PIL import Image

    img = array_or_image if isinstance(array_or_image, Image.Image) else \
        Image.fromarray(array_or_image)
    buf = io.BytesIO()
    img.save(buf, fmt, quality=85) if fmt == "JPEG" else img.save(buf, fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buf.getvalue()).decode()}"


#: The two series of a curve chart, with their colours.
_SERIES = (("training", "#1f77b4"), ("validation", "#ff7f0e"))


def curve_svg(history: list[dict[str, Any]], keys: tuple[str, str], title: str,
              width: int = 460, height: int = 240, percent: bool = False) -> str:
    """An inline SVG line chart of two history series (training and validation), its
    legend in the title row above the plot area; ``percent``: the values are fractions,
    labelled on the axis as percentages (as the report's text gives accuracies)."""
    series = [[(m["epoch"], m[k]) for m in history if m.get(k) is not None] for k in keys]
    points = [p for s in series for p in s]
    if not points:
        return f"<p>No {title.lower()} recorded.</p>"
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    if y1 == y0:  # a flat line: give the axis a span (within 0..100% for percentages)
        y0, y1 = (y0 - 0.1, y0) if percent and y0 > 0.5 else (y0, y0 + (0.1 if percent else 1))
    left, right, top, bottom = 50, 10, 24, 30

    def xy(x: float, y: float) -> str:
        px = left + (x - x0) / max(x1 - x0, 1) * (width - left - right)
        py = top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom)
        return f"{px:.1f},{py:.1f}"

    parts = [f'<svg width="{width}" height="{height}" '
             f'role="img" aria-label="{_e(title)}">',
             f'<text x="{left}" y="14">{_e(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{width - left - right}" '
             f'height="{height - top - bottom}" fill="none" stroke="#ccc"/>']
    for frac in (0.0, 0.5, 1.0):
        y = y0 + frac * (y1 - y0)
        py = xy(x0, y).split(",")[1]
        parts.append(f'<text x="4" y="{py}">{f"{100 * y:.3g}%" if percent else f"{y:.3g}"}'
                     f'</text>')
    parts.append(f'<text x="{left}" y="{height - 8}">epoch {x0}</text>'
                 f'<text x="{width - 70}" y="{height - 8}">epoch {x1}</text>')
    # The legend sits in the title row, right-aligned above the plot: never on a curve.
    at = width - right
    for (name, colour), s in reversed(list(zip(_SERIES, series))):
        if s:
            at -= 22 + 7 * len(name)
            parts.append(f'<g class="legend"><line x1="{at}" y1="10" x2="{at + 16}" y2="10" '
                         f'stroke="{colour}" stroke-width="2"/><text x="{at + 20}" y="14" '
                         f'fill="{colour}">{name}</text></g>')
    for (name, colour), s in zip(_SERIES, series):
        if s:
            pts = " ".join(xy(x, y) for x, y in s)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _params(params: dict[str, Any]) -> str:
    return _e(", ".join(f"{k} {v}" for k, v in params.items()) or "defaults")


def _rates(info: dict[str, Any]) -> str:
    """The rates a continuation at a typed rate changed the run's through (experiment.json
    keeps the latest only: :func:`~workbench.core.runs.rate_history.rates_text`)."""
    from workbench.core.runs.rate_history import rates_text

    rates = rates_text(info)
    return _e(f"; the learning rate was {rates}") if rates else ""


def _table(rows: list[list[Any]], head: list[str], num: set[int] = frozenset()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(
            f'<td class="num">{_e(v)}</td>' if i in num else f"<td>{_e(v)}</td>"
            for i, v in enumerate(r)) + "</tr>")
    return "".join(out) + "</table>"


def _network(exp: Any, classes: list[str]) -> str:
    from workbench.core.model.builder import infer_shapes

    h, w = exp.data.input_size
    s = infer_shapes(exp.model.layers, (exp.data.channels, h, w), max(1, len(classes)))
    rows = [[i.index + 1, i.type, "x".join(map(str, i.output_shape or ())) or "?",
             f"{i.num_params:,}"] for i in s.layers]
    return (_table(rows, ["#", "layer", "output shape", "parameters"], {0, 3})
            + f"<p>{s.total_params:,} parameters ({s.trainable_params:,} trainable), "
              f"{s.total_macs:,} multiply-adds per image.</p>")


def _thumb(path: str) -> str:
    from workbench.core.data.images import load_image

    try:
        img = load_image(path, 3, min_side=THUMB_SIDE)
        img.thumbnail((THUMB_SIDE, THUMB_SIDE))
        return _png_uri(img, "JPEG")
    except Exception:  # noqa: BLE001  (the image may be gone since: no thumbnail)
        return ""


def _most_confused(r: Any, h: str = "h3") -> str:
    """The report's table of the :data:`CONFUSED_SHOWN` most frequent mistakes, under an
    ``h`` heading."""
    pairs = r.most_confused(CONFUSED_SHOWN)
    if not pairs:
        return f"<{h}>Most confused</{h}><p>No image was taken for another class.</p>"
    support = dict(zip(r.classes, r.confusion.sum(axis=1).tolist()))
    rows = [[p["true"], p["predicted"], p["count"],
             f"{p['count'] / support[p['true']]:.1%}"] for p in pairs]
    return (f"<{h}>Most confused</{h}>"
            + _table(rows, ["true class", "predicted as", "images", "share of its class"],
                     {2, 3}))


def _evaluations(run_dir: Path, data: str | None, notes: list[str]) -> str:
    """The bundle evaluated on its validation split (the Runs tab's Val acc %, the split
    every run has, so reports compare alike), then on the dataset's test part where it has
    one (never trained on, nor used to pick the epoch kept: the honest figure), each
    labelled; ``data``: the dataset where it has moved."""
    from workbench.core.evaluate.evaluation import evaluate

    bundle = run_dir / "bundle.pt"
    if not bundle.is_file():
        notes.append("no bundle was written, so the model was not evaluated")
        return "<p>No bundle was written, so the model was not evaluated.</p>"
    try:
        first = evaluate(str(bundle), data, split="auto")  # the test part where there is one
    except WorkbenchError as e:
        notes.append(f"the model was not evaluated: {e}")
        return f"<p>Not evaluated: {_e(e)}</p>"
    if first.split != "test":
        return _evaluation(first)
    test = _evaluation(first, "On the test part, never trained on")
    try:
        val = evaluate(str(bundle), data, split="val")
    except WorkbenchError as e:
        notes.append(f"the model was not evaluated on its validation split: {e}")
        return f"<p>Not evaluated on its validation split: {_e(e)}</p>{test}"
    return (f"<p>Accuracy {100 * val.accuracy:.2f}% on the validation split, "
            f"{100 * first.accuracy:.2f}% on the test part (never trained on); each is "
            f"detailed below.</p>" + _evaluation(val, "On the validation split") + test)


def _evaluation(r: Any, title: str = "") -> str:
    """One evaluation ``r``: accuracy, notes, confusion matrix, most confused, per class,
    largest losses; under the heading ``title`` where the report holds two."""
    from workbench.core.evaluate.confusion_figure import confusion_svg
    from workbench.core.evaluate.report import NOT_MEASURED, top_k_dict

    top_k = top_k_dict(r)  # left out where it would read 100% (as the Evaluate tab)
    top_k = "" if top_k["accuracy"] is None else \
        f", top-{top_k['k']} accuracy {100 * top_k['accuracy']:.2f}%"
    keys = ("precision", "recall", "f1")
    rows = [[c["class"]] + [NOT_MEASURED if c[k] is None else f"{c[k]:.3f}" for k in keys]
            + [c["support"]] for c in r.per_class()]
    macro = r.macro_average()  # the last row, as `workbench evaluate` and the Evaluate tab
    rows.append(["macro average"] + [f"{macro[k]:.3f}" for k in keys] + [r.num_images])
    h = "h4" if title else "h3"  # under the part's own heading
    out = [f"<h3>{_e(title)}</h3>" if title else "",
           f"<p>Accuracy {100 * r.accuracy:.2f}%{top_k} on {r.num_images} images "
           f"({_SPLIT_WORDS.get(r.split) or _e(r.source)}).</p>",
           # What the evaluation says beside its figures (a class with no images, ...).
           "<ul>" + "".join(f'<li class="info">Note: {_e(n)}</li>' for n in r.notes)
           + "</ul>" if r.notes else "",
           f'<figure><div class="wide">{confusion_svg(r.confusion, r.classes)}</div>'
           f'<figcaption>Confusion matrix: each row is a true class, each column the class '
           f'predicted for its images; a cell counts the images of its row given its '
           f'column, shaded by its share of the row (the diagonal is the correct '
           f'predictions). Point at a cell for its classes and count.</figcaption></figure>',
           _most_confused(r, h),
           f"<{h}>Per class</{h}>",
           _table(rows, ["class", "precision", "recall", "F1", "support"], {1, 2, 3, 4}),
           f"<{h}>Largest losses</{h}><div class=\"thumbs\">"]
    for wrong in r.worst(WORST_SHOWN):
        out.append(f'<figure><img alt="" src="{_thumb(wrong["path"])}"><figcaption>'
                   f'{_e(Path(wrong["path"]).name)}<br>true {_e(wrong["true"])}, predicted '
                   f'{_e(wrong["predicted"])} (loss {wrong["loss"]:.2f})</figcaption></figure>')
    out.append("</div>")
    return "".join(out)


def _split_text(exp: Any) -> str:
    """How the run was validated: the dataset's own val/ (and test/) folders when it has
    them and the experiment uses them, else the held-out share."""
    share = f"validation share {exp.data.val_fraction} (seed {exp.data.seed})"
    folder = exp.data.folder
    if not (exp.data.use_folder_split and folder and Path(folder).is_dir()):
        return share
    from workbench.core.data.layouts import find_splits

    try:
        splits = find_splits(folder)
    except OSError:
        return share
    if not splits:
        return share
    val = (f"validation on its own {Path(splits['val']).name}/ folder" if splits["val"]
           else f"validation held out of {Path(splits['train']).name}/: {share}")
    test = (f"; its {Path(splits['test']).name}/ part never trained on" if splits["test"]
            else "")
    return val + test


def _balance_text(exp: Any) -> str:
    """How the run evened out unequal classes (``data.balance``), in the Data tab's words."""
    from workbench.core.data.stats import BALANCE_NAMES

    return f"class balance: {BALANCE_NAMES.get(exp.data.balance, 'none')}"


def _loss_text(exp: Any) -> str:
    """The loss and its settings; an empty ``class_weights`` under the class-weighted loss
    says the weights came from the class sizes (it is not an unweighted loss)."""
    params = dict(exp.loss.params)
    if exp.data.balance == "weighted_loss" and params.get("class_weights") == []:
        params["class_weights"] = "from the class sizes, as the class balance asks"
    return f"{_e(exp.loss.type)} ({_params(params)})"


def _data_text(info: dict[str, Any]) -> str:
    """The images the run used (run.json's ``data``) and those it skipped, unreadable
    (its ``skipped``: the first few named, as the Train tab says it), or ``""`` for a run
    from before."""
    from workbench.core.data.usage import describe_counts
    from workbench.core.runs.skipped import saved_skipped, skipped_text

    text = describe_counts(info.get("data") or {})
    files, count = saved_skipped(info)
    skipped = skipped_text(files, total=count)
    return (f" Images: {_e(text)}." if text else "") + (f" {_e(skipped)}" if skipped else "")


def _saved_model(info: dict[str, Any]) -> str:
    """What the bundle's weights scored when they were trained (the Runs tab's figures)."""
    saved = info.get("bundle") or {}
    metrics = saved.get("metrics") or {}
    if "val_acc" not in metrics:
        return ""
    loss, bal = metrics.get("val_loss"), metrics.get("val_bal_acc")
    best = " (the best epoch, restored)" if saved.get("restored_best") else ""
    # The balanced accuracy where it picked the best epoch (the per-class table has the rest).
    bal = bal if (info.get("best") or {}).get("metric") == "val_bal_acc" else None
    return (f"<p>The saved model holds epoch {_e(saved.get('epoch'))}{best}: validation "
            f"accuracy {100 * float(metrics['val_acc']):.2f}%"
            + (f", loss {float(loss):.4f}" if loss is not None else "")
            + (f", balanced accuracy {100 * float(bal):.2f}%" if bal is not None else "")
            + " during training (the accuracy is the Runs tab's Val acc %).</p>")


def _backbone(info: dict[str, Any]) -> str:
    """Where the backbone's weights came from and how its features were made (run.json's
    words ``info``, read as :class:`~workbench.core.runs.record.RunRecord` reads them)."""
    from workbench.core.runs.record import feature_mode_of

    weights = info.get("backbone_weights")
    weights = "" if weights is None or isinstance(weights, bool) else str(weights)
    mode = feature_mode_of(info)
    parts = [f"Backbone weights: {_e(weights)}." if weights else "",
             f"Backbone features: {_e(mode)}." if mode else ""]
    return f"<p>{' '.join(p for p in parts if p)}</p>" if any(parts) else ""


def _start_lines(info: dict[str, Any]) -> str:
    """What the run warned of and noted as it started (run.json's start_warnings, and each
    start's notes, labelled with its epochs when it started more than once:
    :func:`~workbench.core.runs.start_notes.labelled_start_notes`), as a list; "" when it
    said nothing (or is from before they were kept)."""
    from workbench.core.runs.start_notes import labelled_start_notes

    items = [("warning", f"Warning: {w}") for w in info.get("start_warnings") or []] + \
        [("warning" if "random" in n else "info", f"Note ({label}): {n}" if label
          else f"Note: {n}") for label, n in labelled_start_notes(info)]
    if not items:
        return ""
    return "<h2>As the run started</h2><ul>" + "".join(
        f'<li class="{level}">{_e(text)}</li>' for level, text in items) + "</ul>"


def _environment(info: dict[str, Any]) -> str:
    import torch
    import torchvision

    from workbench import __version__

    rows = [["Workbench", __version__], ["Python", platform.python_version()],
            ["PyTorch", torch.__version__], ["torchvision", torchvision.__version__],
            ["platform", platform.platform()], ["device", info.get("device", "?")]]
    return _table(rows, ["", "version"])


def _classes(run_dir: Path, exp: Any) -> list[str]:
    """The run's classes: its bundle's, else its dataset's (for the network's last shape)."""
    try:
        from workbench.core.bundle import load_bundle

        return list(load_bundle(run_dir / "bundle.pt").classes)
    except Exception:  # noqa: BLE001  (no bundle, or unreadable: ask the dataset)
        pass
    try:
        from workbench.core.data.scan import scan_folder

        return list(scan_folder(exp.data.folder).classes) if exp.data.folder else []
    except Exception:  # noqa: BLE001
        return []


def build_report(run_dir: str | Path, data: str | None = None,
                 notes: list[str] | None = None) -> str:
    """The HTML report of the run in ``run_dir`` (see the module docstring).

    ``data``: the dataset to evaluate the bundle on (its validation split, and its test
    part where it has one), where the run's own has moved; None: the run's own. ``notes``
    (a list) receives a line for each part of the report that could not be made (the
    evaluation), for a caller to show beside the file.

    Raises
    ------
    WorkbenchError
        When ``run_dir`` holds no run.
    """
    from workbench.core.data.augment.transforms import describe_pipeline
    from workbench.core.data.sizes import hw_text
    from workbench.core.experiment import Experiment
    from workbench.core.runs.record import read_history
    from workbench.core.runs.store import current_status, read_run_info
    from workbench.core.train.doctor.findings import RunFinding

    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file() or not (run_dir / "experiment.json").is_file():
        raise WorkbenchError(f"{run_dir} holds no run (run.json and experiment.json): give "
                             f"a run folder, as workbench train --out writes it")
    info = read_run_info(run_dir)
    exp = Experiment.load(run_dir / "experiment.json")
    history = read_history(run_dir)
    classes = _classes(run_dir, exp)
    name = info.get("name") or exp.name
    opt = exp.optimizer
    status = current_status(run_dir, str(info.get("status")))  # the Runs tab's word
    parts = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{_e(name)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{_e(name)}</h1><p>Status <b>{_e(status.replace('_', ' '))}</b>"
             f"{' (its process is gone)' if status == 'interrupted' else ''}, "
             f"{_e(info.get('epochs_done'))} of {_e(info.get('epochs_planned'))} epochs, "
             f"{float(info.get('duration_s') or 0):.1f} s; created {_e(info.get('created'))}."
             f"{' ' + _e(info.get('message')) if info.get('message') else ''}"
             + (f" Continue it with workbench resume {_e(run_dir)}, or Continue in Train on "
                f"the Runs tab." if status in ("interrupted", "stopped") else "") + "</p>",
             "<h2>Data</h2>", f"<p>{_e(exp.data.folder or 'the built-in demo dataset')}; "
             f"input {hw_text(exp.data.input_size)}, "
             f"{exp.data.channels} channel(s), batch {exp.data.batch_size}; "
             f"{_e(_split_text(exp))}; {_e(_balance_text(exp))}.{_data_text(info)}</p>",
             "<h2>Augmentation</h2><ol>" + "".join(
                 f"<li>{_e(s)}</li>" for s in describe_pipeline(exp, True)) + "</ol>",
             "<h2>Network</h2>", _network(exp, classes or ["?", "?"]),
             _backbone(info),
             "<h2>Optimisation</h2>",
             f"<p>{_e(opt.type)} ({_params(opt.params)}{_rates(info)}); schedule "
             f"{_e(exp.scheduler.type)} ({_params(exp.scheduler.params)}); loss "
             f"{_loss_text(exp)}; seed "
             f"{exp.training.seed}.</p>", _start_lines(info),
             "<h2>Curves</h2>", curve_svg(history, ("train_loss", "val_loss"), "Loss"),
             curve_svg(history, ("train_acc", "val_acc"), "Accuracy (%)", percent=True),
             "<h2>Evaluation</h2>", _saved_model(info),
             _evaluations(run_dir, data, [] if notes is None else notes)]
    findings = [RunFinding.from_dict(f) for f in info.get("findings") or []]
    if findings:
        parts.append("<h2>Training doctor</h2><ul>" + "".join(
            f'<li class="{_e(f.severity)}"><b>{_e(f.kind)}</b>, epoch {f.epoch}: '
            f"{_e(f.message)} <i>Fix: {_e(f.fix)}</i>"
            + (f" <b>Withdrawn: {_e(f.resolved)}.</b>" if f.resolved else "")  # no longer true
            + "</li>" for f in findings) + "</ul>")
    parts += ["<h2>Environment</h2>", _environment(info), "</body></html>"]
    return "\n".join(parts)


def write_report(run_dir: str | Path, out: str | Path, data: str | None = None,
                 notes: list[str] | None = None) -> Path:
    """Write :func:`build_report` (with ``data`` and ``notes``) to ``out`` (atomically);
    returns its path."""
    from workbench.core.filenames import readable
    from workbench.core.io import atomic_write_text

    text = build_report(run_dir, data, notes)
    atomic_write_text(Path(out), readable(text))  # a name's bad byte shown as "\ufffd"
    return Path(out)
