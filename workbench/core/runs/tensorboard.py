"""TensorBoard event files in every run folder: :class:`TensorBoardWriter`.

``tensorboard --logdir <runs folder>`` then shows every run (app, ``workbench train``,
tune trials, rank 0 under torchrun) under its folder's name: the loss of every training
batch, each epoch's losses, accuracies (``accuracy/val_balanced``: the validation balanced
accuracy, metrics.json's ``val_bal_acc``), learning rate and seconds, the per-layer gradient
and weight norms when they are sampled (at the optimizer step metrics.json gives them), the
training doctor's findings as text, and the run's summary: its hyperparameters with the
numbers of the model the run kept (the HParams tab), that model's validation confusion
matrix as an image, and a text saying which epoch it is.

The summary describes the weights the run kept (``bundle.pt``: with early stopping's
restore_best, the best epoch's, not the last's), as run.json, the Runs tab and ``workbench
evaluate`` do: ``hparam/model_val_acc``, ``hparam/model_val_bal_acc``,
``hparam/model_val_loss`` and ``hparam/model_epoch`` are that model's,
``hparam/best_val_acc``, ``hparam/best_val_bal_acc`` and ``hparam/best_val_loss`` the best
of any epoch. It is written at the end of each session
into its own event file (suffix :data:`SUMMARY_SUFFIX`), which replaces the one an earlier
session wrote: TensorBoard takes a run's hyperparameters from the first record it reads, so
a run continued from 3 to 5 epochs would otherwise keep saying 3. A continued run's steps
go on from its checkpoint's last real step (metrics.json's kept batches, summed: a session
with another number of batches an epoch, another process count or batch size, neither hides
earlier epochs nor leaves a gap), and its events file starts with ``purge_step`` at the
first step after that, so the batches of an epoch that a stop dropped are not shown twice;
a stop mid-epoch marks them dropped at once (TensorBoard's ``SessionLog.START``, as
``purge_step`` writes it).

It uses ``torch.utils.tensorboard.SummaryWriter`` (which needs the ``tensorboard``
package for its protocol buffers). The hooks only append plain values to a list; a
background thread wakes every :data:`WRITE_EVERY_S` seconds and builds and writes the
events of that stretch in one go, so the training thread pays about a microsecond a batch
and is not made to hand the interpreter lock to the writer at every batch (waking the
writer per event cost 5% of a short-batch epoch: ``scripts/bench_tensorboard.py``).
Anything that fails to write (a full disk, a missing package) turns the writer off with
one warning in run.json (``"tensorboard"``), never fails the run.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.core.train.callbacks.base import Callback

#: Seconds between the writer thread's bursts.
WRITE_EVERY_S = 2.0
#: Seconds the end of a run waits for the writer thread to write what is queued.
CLOSE_TIMEOUT_S = 30.0


def _epoch_ends(run_dir: str | Path, epochs: int, num_batches: int) -> dict[int, int]:
    """The step at the end of each of the first ``epochs`` epochs of ``run_dir``, and 0 at
    its start: metrics.json's kept batches counted on (an epoch it has none of, from an
    older Workbench, counts ``num_batches``)."""
    from workbench.core.runs.batches import read_batches

    counts = {e["epoch"]: e["num_batches"] for e in read_batches(run_dir, kept=False)
              if not e.get("cut")} if epochs else {}
    ends = {0: 0}
    for epoch in range(1, epochs + 1):
        ends[epoch] = ends[epoch - 1] + counts.get(epoch, num_batches)
    return ends


def hparams_of(exp: Any) -> dict[str, Any]:
    """The experiment's main settings as TensorBoard hyperparameters (plain values)."""
    opt = exp.optimizer
    return {"optimizer": str(opt.type), "lr": float(opt.params.get("lr", 0.0) or 0.0),
            "weight_decay": float(opt.params.get("weight_decay", 0.0) or 0.0),
            "batch_size": int(exp.data.batch_size), "epochs": int(exp.training.epochs),
            "scheduler": str(getattr(exp.scheduler, "type", "") or "none"),
            "network": str(exp.model.preset or "custom"),
            "input_size": "x".join(str(int(v)) for v in exp.data.input_size),
            "augment": ", ".join(c.type for c in exp.augment.transforms) or "none",
            "seed": int(exp.training.seed)}


#: Longest class name drawn in full beside the confusion matrix, in pixels; longer names are
#: cut with "…" and written out in full in a key under the matrix.
NAME_MAX_PX = 220


def confusion_image(confusion: list[list[int]], classes: list[str],
                    title: str = "") -> np.ndarray:
    """The confusion matrix as an ``(H, W, 3)`` uint8 heatmap, each row scaled to its own
    total, under ``title`` (e.g. which epoch it is) when given: rows are the true class
    (axis title "true class", names on the left), columns the predicted class (axis title
    "predicted class", names written upwards above them). Names are drawn in full up to
    :data:`NAME_MAX_PX`; a longer one is numbered, cut with "…" and listed in full under its
    number in a key under the matrix. Over 40 classes the cells are too small for names:
    only the axis titles are drawn."""
    from PIL import Image, ImageDraw

    m = np.asarray(confusion, dtype=np.float64)
    k = len(m)
    share = m / np.clip(m.sum(axis=1, keepdims=True), 1, None)
    cell = int(max(6, min(40, 600 // max(1, k))))
    font = _font(12)
    names = [str(c) for c in classes[:k]] if k <= 40 else []
    # A name cut short is numbered, as it is in the key.
    shown = [n if _fit(n, font, NAME_MAX_PX) == n else _fit(f"{i + 1}. {n}", font, NAME_MAX_PX)
             for i, n in enumerate(names)]
    cut = [(i, n) for i, (n, s) in enumerate(zip(names, shown)) if s != n]
    label = max((_width(s, font) for s in shown), default=0) + (6 if shown else 0)
    line = 16
    top = line + 4 if title else 0  # the title's line
    x0, y0 = 8 + line + label, top + 8 + line + label  # axis title, then the names
    grid = k * cell
    key_h = (line * (len(cut) + 1) + 4) if cut else 0
    key_w = max((_width(f"{i + 1}. {n}", font) for i, n in cut), default=0) + 16
    img = Image.new("RGB", (max(x0 + grid + 9, key_w, _width(title, font) + 16 if title else 0),
                            y0 + grid + 9 + key_h), "white")
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((8, 6), title, font=font, fill="black")
    for i in range(k):
        for j in range(k):
            v = share[i, j]
            colour = tuple(int(255 - v * (255 - c)) for c in (31, 119, 180))
            x, y = x0 + j * cell, y0 + i * cell
            draw.rectangle([x, y, x + cell, y + cell], fill=colour, outline=(220, 220, 220))
            if cell >= 24 and m[i, j]:
                draw.text((x + cell / 2, y + cell / 2), str(int(m[i, j])), font=font,
                          anchor="mm", fill="white" if v > 0.5 else "black")
    for i, name in enumerate(shown):
        middle = i * cell + cell / 2
        draw.text((x0 - 4, y0 + middle), name, font=font, anchor="rm", fill="black")
        _paste_upwards(img, name, font, (x0 + middle, y0 - 4), anchor="bottom")
    draw.text((x0 + grid / 2, top + 6), "predicted class", font=font, anchor="mt",
              fill="#444")
    _paste_upwards(img, "true class", font, (6, y0 + grid / 2), anchor="left")
    if cut:
        y = y0 + grid + 12
        draw.text((8, y), "Names cut short above, in full:", font=font, fill="#444")
        for n, (i, name) in enumerate(cut, 1):
            draw.text((8, y + n * line), f"{i + 1}. {name}", font=font, fill="black")
    return np.asarray(img)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover  (a Pillow without FreeType)
        return ImageFont.load_default()


def _width(text: str, font: Any) -> int:
    box = font.getbbox(text)
    return int(box[2] - box[0])


def _fit(name: str, font: Any, limit: int) -> str:
    """``name``, or its longest start that fits ``limit`` pixels followed by "…"."""
    if _width(name, font) <= limit:
        return name
    while name and _width(name + "…", font) > limit:
        name = name[:-1]
    return name.rstrip() + "…"


def _paste_upwards(img: Any, text: str, font: Any, at: tuple[float, float],
                   anchor: str) -> None:
    """Draw ``text`` turned 90° (read bottom to top). ``anchor`` "bottom": ``at`` is the
    middle of its lower end; "left": the middle of its left side."""
    from PIL import Image, ImageDraw

    box = font.getbbox(text)
    w, h = int(box[2]) + 2, int(font.getbbox("Hg")[3]) + 2
    strip = Image.new("L", (max(1, w), h), 0)
    ImageDraw.Draw(strip).text((1, 0), text, font=font, fill=255)
    turned = strip.rotate(90, expand=True)  # width h, height w
    if anchor == "bottom":
        x, y = at[0] - turned.width / 2, at[1] - turned.height
    else:
        x, y = at[0], at[1] - turned.height / 2
    img.paste((0, 0, 0) if anchor == "bottom" else (68, 68, 68), (round(x), round(y)), turned)


class TensorBoardWriter(Callback):
    """Writes the run's TensorBoard events into its run folder (see the module docstring).
    Heard before the run-folder recorder, so its files are closed before the recorder ends
    the run; it starts writing at the first batch, once the recorder has named the folder
    (``trainer.run_dir``). What is emitted before that (the first norm sample comes before
    the first batch's end) waits in the queue.

    It keeps the validation confusion matrices of the best epoch and the last one (also in
    the checkpoint, :attr:`state_key`), so the summary shows the matrix of the epoch whose
    weights the run kept, whichever segment of the run trained it."""

    state_key = "tensorboard"

    def __init__(self) -> None:
        self._pending: deque[tuple] = deque()  # appended by the training thread (atomic)
        self._wake = threading.Event()  # set at the end: write the rest and stop
        self._thread: threading.Thread | None = None
        self._closed = False  # the run ended: nothing more is queued
        self.failure = ""  # why writing stopped, for run.json
        self._num_batches = 1
        self._step = 0
        # The epochs the checkpoint holds, and the step each ended at (earlier sessions
        # may have had another number of batches an epoch): this session's steps go on
        # from the last.
        self._from = 0
        self._ends: dict[int, int] = {}
        self._notes: list[str] = []
        self._run_dir = ""
        self._purge_step: int | None = None  # a continued run: hide what followed last.pt
        #: Validation confusion matrices by epoch: the best epoch's and the last one's.
        self._confusions: dict[int, list[list[int]]] = {}

    # -- the checkpoint's part ----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        import torch

        return {"confusions": {int(e): torch.tensor(m, dtype=torch.int64)
                               for e, m in self._confusions.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        kept = state.get("confusions") or {}
        self._confusions = {int(e): [[int(v) for v in row] for row in
                                     (m.tolist() if hasattr(m, "tolist") else m)]
                            for e, m in kept.items()}

    def _epoch_step(self, epoch: int) -> int:
        """The step at the end of ``epoch`` (0: the start): an epoch the checkpoint holds
        ended where its session counted; this session's follow on from the last of them."""
        if epoch <= self._from:
            return self._ends.get(epoch, epoch * self._num_batches)
        return self._ends.get(self._from, self._from * self._num_batches) + \
            (epoch - self._from) * self._num_batches

    # -- the training thread's side: plain values on a queue ---------------------------
    def _put(self, *item: Any) -> None:
        if not self._closed and not self.failure:
            self._pending.append(item)

    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        self._num_batches = max(1, int(info.get("batches_per_epoch") or 1))
        self._from = int(getattr(trainer, "epochs_done", 0))
        self._notes = [str(n) for n in info.get("notes", ())]

    def _start(self, trainer: Any) -> None:
        """Start the writer at the first batch: the recorder, heard after this callback,
        has named the run folder by then."""
        if self._thread is not None or self.failure:
            return
        if trainer.run_dir is None:  # no folder to write to (none will come): queue nothing
            self._closed = True
            self._pending.clear()
            return
        self._run_dir = str(trainer.run_dir)
        self._ends = _epoch_ends(trainer.run_dir, self._from, self._num_batches)
        first = self._epoch_step(self._from)  # last.pt's step
        if getattr(trainer, "checkpoint", None) is not None:
            # Continued: the steps after the checkpoint (a stopped epoch's batches) are
            # written again by this session, so TensorBoard drops the earlier ones.
            self._purge_step = first + 1
        for note in self._notes:
            self._put("text", "notes", note, first)
        self._thread = threading.Thread(target=self._write, name="tensorboard",
                                        daemon=True)
        self._thread.start()

    def on_batch_start(self, trainer: Any, epoch: int, batch: int) -> None:
        if self._thread is None:
            self._start(trainer)

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, num_batches: int,
                     loss: float) -> None:
        if self._thread is None:
            self._start(trainer)
        self._step = self._epoch_step(int(epoch) - 1) + int(batch)
        self._put("scalar", "loss/train_batch", float(loss), self._step)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        step = self._epoch_step(int(epoch))
        for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"),
                         ("accuracy/train", "train_acc"), ("accuracy/val", "val_acc"),
                         ("accuracy/val_balanced", "val_bal_acc"),
                         ("lr", "lr"), ("seconds_per_epoch", "seconds")):
            if metrics.get(key) is not None:
                self._put("scalar", tag, float(metrics[key]), step)
        self._put("scalar", "epoch", float(epoch), step)
        confusion = getattr(trainer, "val_confusion", None)
        if confusion is not None and metrics.get("val_loss") is not None:
            # Early stopping, heard first, has ranked this epoch: keep the best's matrix
            # and the last's (the trainer replaces its own every epoch).
            self._confusions[int(epoch)] = confusion
            tracker = getattr(trainer, "tracker", None)
            best = tracker.best if tracker is not None else None
            keep = {int(epoch)} | ({int(best["epoch"])} if best else set())
            self._confusions = {e: m for e, m in self._confusions.items() if e in keep}

    def on_norms(self, trainer: Any, step: int, names: list[str], grad_norms: list[float],
                 weight_norms: list[float]) -> None:
        # ``step``: the optimizer step the norms were measured at, as metrics.json has it.
        for name, g, w in zip(names, grad_norms, weight_norms):
            self._put("scalar", f"grad_norm/{name}", float(g), int(step))
            self._put("scalar", f"weight_norm/{name}", float(w), int(step))

    def on_finding(self, trainer: Any, finding: dict[str, Any]) -> None:
        # At the end of the last finished epoch (the finding names its epoch): a finding
        # made in an epoch that is then dropped stays in run.json, and here too.
        step = self._epoch_step(int(getattr(trainer, "epochs_done", 0)))
        self._put("text", f"doctor/{finding.get('kind')}",
                  f"epoch {finding.get('epoch')} ({finding.get('severity')}): "
                  f"{finding.get('message')} Fix: {finding.get('fix')}", step)

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        if self._thread is None:
            self._closed = True
            self._pending.clear()
            return
        kept = self._epoch_step(int(getattr(trainer, "epochs_done", 0)))
        if result.status == "stopped" and self._step > kept:
            # Stopped mid-epoch: that epoch's batches are not kept (metrics.json drops
            # them), so TensorBoard drops them too.
            self._put("purge", "", None, kept + 1)
        summary = run_summary(result, self._epoch_step, self._confusions)
        if summary is not None:
            self._put("summary", "", summary, 0)
        self._closed = True
        self._wake.set()
        self._thread.join(CLOSE_TIMEOUT_S)
        self._thread = None
        if self.failure:
            from workbench.core.runs.store import update_run_info

            try:
                update_run_info(self._run_dir, tensorboard=f"not written: {self.failure}")
            except OSError:
                pass

    # -- the writer thread -------------------------------------------------------------
    def _write(self) -> None:
        writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(log_dir=self._run_dir, purge_step=self._purge_step)
            done = False
            while not done:
                done = self._wake.wait(WRITE_EVERY_S)
                while self._pending:  # everything appended so far, in order
                    kind, tag, value, step = self._pending.popleft()
                    if kind == "scalar":
                        writer.add_scalar(tag, value, step)
                    elif kind == "text":
                        writer.add_text(tag, value, step)
                    elif kind == "purge":
                        writer.file_writer.add_event(_restart_event(step))
                    elif kind == "summary":
                        write_summary(self._run_dir, value)
        except Exception as e:  # noqa: BLE001  (a warning, never a failed run)
            self.failure = f"{type(e).__name__}: {e}"
        finally:
            if writer is not None:
                try:
                    writer.close()
                except Exception as e:  # noqa: BLE001
                    self.failure = self.failure or f"{type(e).__name__}: {e}"


def _restart_event(step: int) -> Any:
    """TensorBoard's mark of a restart at ``step``: the events read before it at ``step``
    or later are dropped (what ``SummaryWriter(purge_step=...)`` writes)."""
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog

    return Event(step=int(step), session_log=SessionLog(status=SessionLog.START))


#: The suffix of the event file that holds a run's summary (hyperparameters, the kept
#: model's numbers and confusion matrix); each session's replaces the one before.
SUMMARY_SUFFIX = ".summary"


def run_summary(result: Any, epoch_step: Callable[[int], int],
                confusions: dict[int, list[list[int]]]) -> dict[str, Any] | None:
    """The summary of a run that ended as ``result`` (a FitResult), in plain values: what
    :func:`write_summary` writes, at the step ``epoch_step`` gives the kept epoch's end;
    None when no epoch finished (no model to describe)."""
    model = result.weights_metrics
    if not model:
        return None
    epoch = int(result.weights_epoch)
    history = result.history
    metrics: dict[str, float] = {"hparam/model_epoch": float(epoch)}
    for key in ("val_acc", "val_bal_acc", "val_loss"):
        if model.get(key) is not None:
            metrics[f"hparam/model_{key}"] = float(model[key])
        values = [float(m[key]) for m in history if m.get(key) is not None]
        if values:
            metrics[f"hparam/best_{key}"] = min(values) if key == "val_loss" else max(values)
    last = int(history[-1].get("epoch") or epoch)
    if result.restored_best:
        which = (f"the best by {(result.best or {}).get('metric', '?')}, restored by early "
                 f"stopping; the last epoch trained was {last}")
    else:
        which = "the last finished epoch"
    numbers = ", ".join(f"{name} {fmt.format(model[key])}" for key, name, fmt in
                        (("val_acc", "validation accuracy", "{:.2%}"),
                         ("val_loss", "validation loss", "{:.4f}"))
                        if model.get(key) is not None) or "no validation numbers"
    matrix = confusions.get(epoch)
    text = (f"The run ({result.status.replace('_', ' ')}) kept the weights of epoch {epoch} "
            f"({which}): {numbers}, as run.json, the Runs tab and workbench evaluate on the "
            f"validation split give them"
            + (f" (its balanced accuracy, {model['val_bal_acc']:.2%}, is workbench evaluate's "
               f"macro average recall)" if model.get("val_bal_acc") is not None else "")
            + f". hparam/model_val_acc, hparam/model_val_bal_acc, "
            f"hparam/model_val_loss and hparam/model_epoch are that model's; "
            f"hparam/best_val_acc, hparam/best_val_bal_acc and hparam/best_val_loss the best "
            f"of any epoch. "
            + (f"The image confusion/val is epoch {epoch}'s validation confusion matrix."
               if matrix is not None else
               f"Epoch {epoch}'s validation confusion matrix is not at hand (it was trained "
               f"before this version kept it), so none is shown."))
    return {"hparams": hparams_of(result.experiment), "metrics": metrics,
            "step": int(epoch_step(epoch)), "text": text, "confusion": matrix,
            "classes": list(result.classes),
            "title": f"Validation, epoch {epoch}: the weights the run kept"}


def write_summary(run_dir: str, summary: dict[str, Any]) -> None:
    """Write ``summary`` (:func:`run_summary`) as the run's summary event file, then delete
    the ones earlier sessions wrote: one HParams record per run, the latest."""
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams

    earlier = sorted(Path(run_dir).glob(f"events.out.tfevents.*{SUMMARY_SUFFIX}"))
    step = int(summary["step"])
    with SummaryWriter(log_dir=run_dir, filename_suffix=SUMMARY_SUFFIX) as w:
        for record in hparams(summary["hparams"], summary["metrics"]):
            w.file_writer.add_summary(record, step)
        for tag, value in summary["metrics"].items():
            w.add_scalar(tag, value, step)
        if summary.get("confusion") is not None:
            w.add_image("confusion/val", confusion_image(summary["confusion"],
                                                         summary["classes"],
                                                         summary["title"]),
                        step, dataformats="HWC")
        w.add_text("summary", summary["text"], step)
    for path in earlier:
        path.unlink(missing_ok=True)
