"""Console progress: :class:`ConsoleProgress` prints what ``workbench train`` and
``resume`` show as a run goes (the run's size and device, notes, each epoch's metrics with
the best epoch marked, skipped images, the cache filling, the training doctor's findings
as lines beginning ``doctor:``).

The header counts the images as the app's Data tab does (:mod:`workbench.core.data.usage`):
those the run trains and validates on, less ``data.exclude`` (counted) and the files known
to be unreadable (named in a note). A file no scan decoded before the run (the command line
does not decode twice) is met and skipped as it goes; a line at the end of the run then
says what it used in the end, as run.json records it."""

from __future__ import annotations

import sys
from typing import Any

from workbench.core.data.usage import describe_counts, run_counts, trainer_split
from workbench.core.train.callbacks.base import Callback
from workbench.core.train.metric_words import _fmt, metric_text  # noqa: F401  (re-exported)

#: Why a run whose output's reader went away stopped (run.json's message, and the CLI's).
OUTPUT_CLOSED = ("stopped: its output was closed (the reader of workbench's output went "
                 "away, e.g. | head)")


class ConsoleProgress(Callback):
    """Prints a run's progress: lines on stdout, skipped images on stderr."""

    def __init__(self, held: tuple[str, ...] = (), said: tuple[str, ...] = ()) -> None:
        self._findings: list[dict[str, Any]] = []  # printed after the epoch's own line
        #: Kinds of finding not printed here: the caller prints them once it is done with
        #: them (the CLI's diverged one, after the LR finder has proposed its rate).
        self.held = tuple(held)
        #: Notes the caller printed before the run (``workbench resume``'s best.pt note,
        #: before its header): not said again.
        self.said = tuple(said)
        #: The output's reader went away (a closed pipe): the run was stopped for it (the
        #: caller says so, :data:`OUTPUT_CLOSED`).
        self.output_closed = False
        self._info: dict[str, Any] = {}  # the run's start info, and how many notes were said
        self._said = 0

    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        # Both splits, as the Data tab counts them (excluded and known-unreadable files
        # left out; a damaged file no scan decoded is skipped when an epoch meets it).
        train, val = info["num_train"], info["num_val"]
        counts = run_counts(getattr(trainer, "index", None), trainer.experiment.data) or {}
        counts.update(train=train, val=val)  # what the run's own split holds
        counts.pop("unreadable", None)  # the files the scan left out have their own note
        self._say(trainer, f"training {trainer.experiment.name}: {train + val:,} images "
                  f"({describe_counts(counts)}), {len(info['classes'])} classes, "
                  f"{info['num_params']:,} parameters, on {info['device']}"
                  + (f" x {info['world_size']} processes" if "world_size" in info else ""))
        self._say(trainer, f"decoded-image cache: {info['cache']}")
        self._info = info  # the callbacks after this one may add notes (on_epoch_start)
        for note in info.get("notes", ()):  # e.g. a backbone without its weights file
            if note not in self.said:
                self._say(trainer, f"note: {note}")
        self._said = len(info.get("notes", ()))

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        # Notes the callbacks after this one added as the run started (the recorder: a
        # resumed run's damaged run.json, what was read back of it).
        notes = self._info.get("notes", ())
        for note in notes[self._said:]:
            self._say(trainer, f"note: {note}")
        self._said = len(notes)

    def _say(self, trainer: Any, text: str, file: Any = None) -> None:
        """Print ``text`` (to stdout, or ``file``). When its reader went away (``workbench
        train ... | head``) the run is stopped as Ctrl-C stops it, its last epoch kept to
        resume, not failed over a closed pipe; what it would print goes nowhere."""
        try:
            print(text, file=file or sys.stdout, flush=True)
        except BrokenPipeError:
            import os

            stream = file or sys.stdout
            try:  # later writes, and the interpreter's flush at exit, go nowhere
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            self.output_closed = True
            trainer.request_stop()

    def on_cache_progress(self, trainer: Any, done: int, total: int) -> None:
        if done >= total:
            self._say(trainer, f"decoded-image cache full ({total:,} images): later epochs "
                               f"skip decoding")

    def on_skipped(self, trainer: Any, path: str, reason: str) -> None:
        self._say(trainer, f"skipped unreadable image {path}: {reason}", file=sys.stderr)

    def on_finding(self, trainer: Any, finding: dict[str, Any]) -> None:
        if finding.get("kind") not in self.held or finding.get("resolved"):  # a held kind's
            self._findings.append(finding)  # withdrawal is said as any other's

    def _print_findings(self, trainer: Any) -> None:
        from workbench.core.train.doctor.findings import RunFinding

        for f in self._findings:
            self._say(trainer, RunFinding.from_dict(f).line())
        self._findings = []

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        self._print_findings(trainer)
        skipped = [p for p, _ in getattr(result, "skipped", None) or []]
        counts = (run_counts(getattr(trainer, "index", None), trainer.experiment.data,
                             skipped, trainer_split(trainer))
                  if skipped and result.history else None)
        if counts:  # the header's counts were of files listed, not decoded: say the truth
            n = len(skipped)
            self._say(trainer, f"{n} unreadable image{'s were' if n != 1 else ' was'} skipped: the run "
                  f"used {counts['train']:,} for training and "
                  f"{counts['val']:,} for validation")

    def on_epoch_end(self, trainer: Any, epoch: int, m: dict[str, Any]) -> None:
        best = trainer.tracker.best
        mark = f"  * best {best['metric']}" if best and best["epoch"] == epoch else ""
        # The balanced accuracy when it picks the best epoch (the others are always shown).
        bal = (f"  val_bal_acc {_fmt(m.get('val_bal_acc'), True)}"
               if trainer.tracker.metric == "val_bal_acc" else "")
        self._say(trainer, f"epoch {epoch}/{trainer.experiment.training.epochs}  "
              f"train_loss {_fmt(m['train_loss'])}  train_acc {_fmt(m['train_acc'], True)}  "
              f"val_loss {_fmt(m['val_loss'])}  val_acc {_fmt(m['val_acc'], True)}{bal}  "
              f"({m['seconds']:.1f} s){mark}")
        self._print_findings(trainer)
