"""The run folder, written as the run goes: :class:`RunRecorder`.

Used by the CLI and the app alike, so a run looks the same whichever started it (layout:
:mod:`workbench.core.runs`). Every file is written atomically; ``checkpoints/last.pt`` after
every epoch and ``checkpoints/best.pt`` whenever the monitored metric improves, so a run that
is stopped, crashes or diverges keeps everything up to its last finished epoch.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from ..io import atomic_write, atomic_write_text, remove_stray_temporaries, runs_dir
from ..run_lock import RunLock, editing_run_info
from ..runs import read_run_info, update_run_info, write_run_info
from .checkpoint import BEST, LAST, save_checkpoint
from .trainer import Callback, FitResult

#: Statuses whose final weights are worth a bundle (a diverged run's hold NaNs; an
#: out-of-memory or failed one stopped mid-batch: its last checkpoint is the usable state).
_BUNDLED = ("finished", "stopped", "early_stopped")

#: The files a run writes atomically (their temporary files are ``.<name>.*.tmp``).
_WRITTEN = ("run.json", "experiment.json", "metrics.json", "bundle.pt", LAST, BEST)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def new_run_dir(name: str = "run", parent: str | Path | None = None) -> Path:
    """A fresh ``<parent>/<timestamp>-<name>`` folder (parent: :func:`runs_dir`)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "run"
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    base = Path(parent) if parent is not None else runs_dir()
    path = base / f"{stamp}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{safe}-{n}"
    try:
        path.mkdir(parents=True)
    except OSError as e:
        raise WorkbenchError(f"cannot create the run folder {path}: {e.strerror}; choose a "
                             f"runs folder you can write to") from None
    return path


class RunRecorder(Callback):
    """Writes a run's folder: run.json, experiment.json, metrics.json, checkpoints, bundle.

    Parameters
    ----------
    run_dir
        The folder to write (created if missing); ``None``: a new folder under ``parent``
        (default :func:`runs_dir`) named after the experiment, made when the run starts.
    parent
        Where to make the folder when ``run_dir`` is None.
    save_bundle
        Write ``bundle.pt`` when the run ends with weights worth keeping.
    name
        The run's name (run.json, and the new folder's name); default the experiment's. A
        resumed run keeps the name it has.

    Attributes
    ----------
    bundle_path
        The bundle written, or None.
    """

    def __init__(self, run_dir: str | Path | None = None, parent: str | Path | None = None,
                 save_bundle: bool = True, name: str = ""):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.name = str(name or "")
        self.parent = parent
        self.save_bundle = save_bundle
        self.bundle_path: Path | None = None
        self.created_dir = False
        self.resumed = False
        self._lock: RunLock | None = None
        self._taken = False  # another process trains into run_dir: touch nothing there

    # -- hooks -------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any, info: dict[str, Any]) -> None:
        exp = trainer.experiment
        self.resumed = trainer.checkpoint is not None
        if self.run_dir is None:
            self.run_dir = new_run_dir(self.name or exp.name, self.parent)
            self.created_dir = True
        elif not self.run_dir.exists():
            self.created_dir = True
        self._guard(lambda: self.run_dir.mkdir(parents=True, exist_ok=True))
        lock = RunLock(self.run_dir)
        if not lock.acquire():
            self._taken = True
            raise WorkbenchError(f"the run {self.run_dir} is being trained right now (by "
                                 f"another window or process): stop that run first, then "
                                 f"resume it")
        self._lock = lock
        if self.resumed:  # a killed earlier process may have left half-written files
            for folder in (self.run_dir, self.run_dir / "checkpoints"):
                remove_stray_temporaries(folder, _WRITTEN)
        self._guard(lambda: exp.save(self.run_dir / "experiment.json"))
        info_now = read_run_info(self.run_dir) if self.resumed else {}
        stamp = now_iso()
        run = {"name": info_now.get("name") or self.name or exp.name,
               "experiment_name": exp.name,
               "created": info_now.get("created") or stamp, "updated": stamp, "finished": None,
               "status": "running", "message": "", "epochs_done": trainer.epochs_done,
               "epochs_planned": exp.training.epochs, "best": info.get("best"),
               "duration_s": round(trainer.elapsed, 3), "device": info.get("device", ""),
               "notes": info_now.get("notes", ""),
               # The bundle an earlier segment wrote stays until this one writes its own.
               "bundle": info_now.get("bundle"),
               "resumed": list(info_now.get("resumed") or []) + ([stamp] if self.resumed
                                                                 else [])}
        self._write_info(run)

    def on_epoch_end(self, trainer: Any, epoch: int, metrics: dict[str, Any]) -> None:
        run_dir = self.run_dir
        self._write_metrics(trainer.history)
        last = run_dir / "checkpoints" / LAST
        self._guard(lambda: save_checkpoint(last, trainer.checkpoint_payload()))
        best = trainer.tracker.best
        if best is not None and best.get("epoch") == epoch:
            # The same bytes: copy rather than serialise the state a second time.
            def copy() -> None:
                with open(last, "rb") as src:
                    atomic_write(run_dir / "checkpoints" / BEST,
                                 lambda f: shutil.copyfileobj(src, f, 1 << 20))
            self._guard(copy)
        self._update(epochs_done=trainer.epochs_done, best=best,
                     duration_s=round(trainer.elapsed, 3))

    def on_fit_end(self, trainer: Any, result: FitResult) -> None:
        try:
            self._finish(trainer, result)
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _finish(self, trainer: Any, result: FitResult) -> None:
        run_dir = self.run_dir
        if run_dir is None or self._taken:
            return  # the run failed before it started: nothing was written
        if not result.history and not self.resumed and self.created_dir:
            # Not one epoch finished: there is nothing to keep or resume.
            self._release()
            shutil.rmtree(run_dir, ignore_errors=True)
            self.run_dir = None
            return
        status = result.status
        bundle_error = None
        saved: dict[str, Any] | None = None
        if self.save_bundle and result.history and result.model is not None \
                and status in _BUNDLED:
            bundle = run_dir / "bundle.pt"
            try:
                name = read_run_info(run_dir).get("name") or result.experiment.name
                self.bundle_path = result.save_bundle(bundle, name=str(name))
                saved = result.model_info()
            except OSError as e:
                # Not a quiet success: the caller (CLI, app) must say the bundle is missing
                # and where the trained weights are.
                bundle_error = (f"cannot write the bundle {bundle}: {e.strerror or e}. Free "
                                f"some disk space or choose a writable runs folder; the "
                                f"trained weights are kept in {run_dir / 'checkpoints' / LAST}")
                status = "failed"
        message = bundle_error or result.error or result.stop_reason or ""
        try:
            # "bundle": which epoch's weights bundle.pt holds and what they scored (the
            # numbers the Runs table, Evaluate and Predict show of this run's model).
            self._update(status=status, message=message, finished=now_iso(),
                         epochs_done=len(result.history), best=result.best,
                         duration_s=round(trainer.elapsed, 3),
                         **({"bundle": saved} if saved is not None else {}))
        except WorkbenchError:
            pass  # on_fit_end must not mask the run's own outcome
        if bundle_error is not None:
            raise WorkbenchError(bundle_error)

    # -- files -------------------------------------------------------------------------
    def _write_metrics(self, history: list[dict[str, Any]]) -> None:
        text = json.dumps({"epochs": history}, indent=2) + "\n"
        self._guard(lambda: atomic_write_text(self.run_dir / "metrics.json", text))

    def _write_info(self, info: dict[str, Any]) -> None:
        def write() -> None:
            with editing_run_info(self.run_dir):
                write_run_info(self.run_dir, info)
        self._guard(write)

    def _update(self, **changes: Any) -> None:
        # Read back, not overwritten: a rename or notes added meanwhile are kept.
        self._guard(lambda: update_run_info(self.run_dir, **changes, updated=now_iso()))

    def _guard(self, write: Any) -> Any:
        try:
            return write()
        except OSError as e:
            raise WorkbenchError(f"cannot write to the run folder {self.run_dir}: "
                                 f"{e.strerror or e}. Free some disk space or choose a "
                                 f"writable runs folder; the epochs finished so far are in "
                                 f"its checkpoints") from None
