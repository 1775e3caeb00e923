"""Console progress: :class:`ConsoleProgress` prints what ``workbench train`` and
``resume`` show as a run goes (the run's size and device, notes, each epoch's metrics with
the best epoch marked, skipped images, the cache filling, the training doctor's findings
as lines beginning ``doctor:``)."""

from __future__ import annotations

import sys
from typing import Any

from workbench.core.train.callbacks.base import Callback


def _fmt(value: float | None, pct: bool = False) -> str:
    return "-" if value is None else (f"{100 * value:.1f}%" if pct else f"{value:.4f}")


class ConsoleProgress(Callback):
    """Prints a run's progress: lines on stdout, skipped images on stderr."""

    def __init__(self, held: tuple[str, ...] = ()) -> None:
        self._findings: list[dict[str, Any]] = []  # printed after the epoch's own line
        #: Kinds of finding not printed here: the caller prints them once it is done with
        #: them (the CLI's diverged one, after the LR finder has proposed its rate).
        self.held = tuple(held)

    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        # Both splits: the files listed (damaged ones are skipped as the epochs meet them).
        train, val = info["num_train"], info["num_val"]
        print(f"training {trainer.experiment.name}: {train + val} images ({train} for "
              f"training, {val or 'none'} for validation), {len(info['classes'])} classes, "
              f"{info['num_params']:,} parameters, on {info['device']}"
              + (f" x {info['world_size']} processes" if "world_size" in info else ""),
              flush=True)
        print(f"decoded-image cache: {info['cache']}", flush=True)
        for note in info.get("notes", ()):  # e.g. a backbone without its weights file
            print(f"note: {note}", flush=True)

    def on_cache_progress(self, trainer: Any, done: int, total: int) -> None:
        if done >= total:
            print(f"decoded-image cache full ({total:,} images): later epochs skip "
                  f"decoding", flush=True)

    def on_skipped(self, trainer: Any, path: str, reason: str) -> None:
        print(f"skipped unreadable image {path}: {reason}", file=sys.stderr, flush=True)

    def on_finding(self, trainer: Any, finding: dict[str, Any]) -> None:
        if finding.get("kind") not in self.held:
            self._findings.append(finding)

    def _print_findings(self) -> None:
        from workbench.core.train.doctor.findings import RunFinding

        for f in self._findings:
            print(RunFinding.from_dict(f).line(), flush=True)
        self._findings = []

    def on_fit_end(self, trainer: Any, result: Any) -> None:
        self._print_findings()

    def on_epoch_end(self, trainer: Any, epoch: int, m: dict[str, Any]) -> None:
        best = trainer.tracker.best
        mark = f"  * best {best['metric']}" if best and best["epoch"] == epoch else ""
        print(f"epoch {epoch}/{trainer.experiment.training.epochs}  "
              f"train_loss {_fmt(m['train_loss'])}  train_acc {_fmt(m['train_acc'], True)}  "
              f"val_loss {_fmt(m['val_loss'])}  val_acc {_fmt(m['val_acc'], True)}  "
              f"({m['seconds']:.1f} s){mark}", flush=True)
        self._print_findings()
