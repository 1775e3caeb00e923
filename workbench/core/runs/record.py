"""What one run folder says: :class:`RunRecord`, read from the folder's files.

Reading never fails on a bad file: a run whose run.json or metrics.json is damaged is
still listed with what could be read, and its ``problem`` names the files that could not.
Runs written before run.json existed (only experiment.json, metrics.json and bundle.pt)
get what their files suggest: the name and date from the folder's name
(``2024-05-01_14-03-22-name``), the status from the bundle and the epoch count.

metrics.json is read as far as run.json counts the epochs done (:func:`read_metrics`): a
process killed after writing an epoch's metrics but before run.json committed it left an
epoch that is not kept. A run without a bundle (killed, failed, aborted) offers its last
checkpoint as its model (:data:`CHECKPOINT_MODEL`), which Predict and Evaluate load.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RUN_INFO = "run.json"
#: The model of a run that wrote no bundle.pt (its process was killed, it failed, or it was
#: aborted): its last checkpoint, which ``load_bundle`` (:mod:`workbench.core.bundle`)
#: loads as a model. Not a diverged run's (its weights were going bad), nor a live run's.
CHECKPOINT_MODEL = "checkpoints/last.pt"


# -- one run, as listed ----------------------------------------------------------------------
@dataclass
class RunRecord:
    """What the runs table shows of one run folder.

    Values come from run.json where it has them and are otherwise derived from
    metrics.json, experiment.json and the folder (runs written before run.json existed).
    ``None`` means unknown.

    Attributes
    ----------
    path
        The run folder.
    name, notes
        The user's (run.json); a legacy run is named after its folder.
    created, updated
        ISO 8601 local times.
    status
        One of :data:`workbench.core.runs.store.STATUSES`, or "unknown".
    epochs_done, epochs_planned, duration_s
        Progress, and training time in seconds (pauses excluded).
    best_val_acc, best_val_loss, last_train_loss
        From metrics.json: the highest validation accuracy (0..1), the lowest validation
        loss, the last epoch's training loss.
    model_file
        The file Evaluate and Predict load as the run's model, relative to ``path``:
        ``"bundle.pt"``, :data:`CHECKPOINT_MODEL` for a run that wrote no bundle, or ``""``
        (none).
    model_epoch, model_val_acc, model_val_bal_acc, model_val_loss, model_restored_best
        That model: which epoch's weights it holds and their validation accuracy and
        balanced accuracy (0..1; the latter ``None`` for a run that did not record it) and
        loss, as run.json's ``bundle`` says (for runs written before it did, the last
        epoch's), or as the checkpoint itself says. ``None`` without a model. These, not
        the best epoch's, describe the model that Evaluate and Predict load.
    best_metric, best_epoch, best_value
        run.json's ``best``: the metric that picked the best epoch (``training.monitor``
        as the run resolved it: "val_loss" for "auto"), that epoch and its value; "" and
        ``None`` where run.json does not say.
    balance
        experiment.json's ``data.balance`` ("none", "weighted_loss" or
        "weighted_sampler"); "" where it does not say.
    optimizer, lr, batch_size, preset, scheduler, input_size
        Key hyperparameters, from experiment.json (``preset`` "custom" for a network edited
        away from its preset, or built without one).
    data_folder
        The dataset folder it trained on, from experiment.json (``""``: the demo dataset);
        ``None`` where experiment.json does not say (or is missing).
    backbone_weights, feature_mode
        In words, from run.json: where a Backbone layer's weights came from ("pretrained,
        loaded from PATH", "random (no weights file at PATH)") and how a frozen backbone's
        features were made ("cached", "cached, K augmented views", "computed every batch
        (WHY)"); "" without a backbone, or for a run written before run.json said.
    problem
        Which files could not be read and why ("" when all could).
    """

    path: str
    name: str
    created: str = ""
    updated: str = ""
    status: str = "unknown"
    message: str = ""
    epochs_done: int = 0
    epochs_planned: int | None = None
    best_val_acc: float | None = None
    best_val_loss: float | None = None
    last_train_loss: float | None = None
    model_epoch: int | None = None
    model_val_acc: float | None = None
    model_val_bal_acc: float | None = None
    model_val_loss: float | None = None
    model_restored_best: bool = False
    model_file: str = ""
    duration_s: float | None = None
    device: str = ""
    notes: str = ""
    has_bundle: bool = False
    experiment_name: str = ""
    optimizer: str = ""
    lr: float | None = None
    batch_size: int | None = None
    preset: str = ""
    scheduler: str = ""
    input_size: tuple[int, ...] | None = None
    data_folder: str | None = None
    balance: str = ""
    best_metric: str = ""
    best_epoch: int | None = None
    best_value: float | None = None
    backbone_weights: str = ""
    feature_mode: str = ""
    #: The processes the run's last session trained on (torchrun), each taking
    #: ``batch_size`` images a step, and the images one update saw (None: not known).
    processes: int = 1
    per_update: int | None = None
    problem: str = ""

    @property
    def bundle_path(self) -> str:
        """Where the run's bundle is (or would be)."""
        return str(Path(self.path) / "bundle.pt")

    @property
    def model_path(self) -> str:
        """The file Evaluate and Predict load as the run's model ("" when it has none)."""
        return str(Path(self.path) / self.model_file) if self.model_file else ""

    @property
    def checkpoint_model(self) -> bool:
        """The run's model is its last checkpoint (it wrote no bundle)."""
        return self.model_file == CHECKPOINT_MODEL

    def drop_checkpoint_model(self) -> None:
        """Offer no model of a run still training: its checkpoint changes every epoch."""
        if self.checkpoint_model:
            self.model_file = ""
            self.model_epoch = self.model_val_acc = self.model_val_loss = None
            self.model_val_bal_acc = None


_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})-?")
_FINGERPRINTED = (RUN_INFO, "metrics.json", "experiment.json", "bundle.pt")


def name_in_folder(folder_name: str) -> str:
    """The run name a ``<date>_<time>-<name>`` folder's name carries ("" when none)."""
    stamp = _STAMP.match(folder_name)
    return folder_name[stamp.end():] if stamp else ""


def time_in_folder(folder_name: str) -> str:
    """The local time a ``<date>_<time>-<name>`` folder's name carries,
    ``2026-12-01T10:00:00`` ("" when none)."""
    stamp = _STAMP.match(folder_name)
    return f"{stamp.group(1)}T{stamp.group(2)}:{stamp.group(3)}:{stamp.group(4)}" \
        if stamp else ""


#: Raise it whenever :func:`read_record` reads a folder differently (a new problem it names,
#: a field it infers): the index (:mod:`.index`) keeps records read under other rules, and
#: a folder indexed before kept its old row, its old ⚠ or none, until a file in it changed.
RECORD_RULES = 5


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a folder holding a run.json or a metrics.json."""
    return path.is_dir() and ((path / RUN_INFO).is_file() or (path / "metrics.json").is_file())


def fingerprint(path: Path) -> str:
    """Changes whenever a file :func:`read_record` reads is written, added or removed."""
    parts = []
    for name in _FINGERPRINTED + (CHECKPOINT_MODEL,):
        try:
            st = (path / name).stat()
            # The inode too: run.json is replaced atomically (a new file), so an edit shows
            # even where mtimes are coarse and the size did not change.
            parts.append(f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def _read_json(path: Path, problems: list[str]) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        problems.append(f"{path.name} is not valid JSON ({e})")
    except OSError as e:
        problems.append(f"cannot read {path.name} ({e.strerror or e})")
    return None


def read_metrics(path: str | Path, kept: bool = True) -> dict[str, Any]:
    """``path``/metrics.json as a dict; ``{}`` when missing, unreadable or not an object.

    ``kept``: without the epochs past run.json's ``epochs_done`` (their ``epochs``,
    ``batches`` and ``norms`` entries), which a process killed between writing
    metrics.json and run.json leaves, and whose checkpoint may not exist: every reader
    then shows the epochs the run kept."""
    data = _read_json(Path(path) / "metrics.json", [])
    if not isinstance(data, dict):
        return {}
    return keep_epochs(data, epochs_done(path)) if kept else data


def epochs_done(path: str | Path) -> int | None:
    """run.json's ``epochs_done`` (the epochs whose checkpoint was written), or None."""
    info = _read_json(Path(path) / RUN_INFO, [])
    return _count(info.get("epochs_done")) if isinstance(info, dict) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
        else None


def keep_epochs(metrics: dict[str, Any], done: int | None) -> dict[str, Any]:
    """metrics.json's content without the entries of epochs past ``done`` (None: all),
    but for the batches and norms of the epoch after it that a divergence cut short
    (marked ``"cut"``: :mod:`workbench.core.runs.batches`), as they were plotted."""
    if done is None:
        return metrics
    out = dict(metrics)
    for key in ("epochs", "batches", "norms"):
        entries = out.get(key)
        if isinstance(entries, list):
            out[key] = [e for e in entries if not (
                isinstance(e, dict) and isinstance(e.get("epoch"), int)
                and not isinstance(e.get("epoch"), bool) and e["epoch"] > done
                and not (key != "epochs" and e.get("cut") is True and e["epoch"] == done + 1))]
    return out


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """The epochs of ``path``/metrics.json; ``[]`` when missing or unreadable."""
    epochs = read_metrics(path).get("epochs")
    return [e for e in epochs if isinstance(e, dict)] if isinstance(epochs, list) else []


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value else None  # NaN (a diverged epoch) is unknown


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def read_record(path: str | Path) -> RunRecord:
    """The :class:`RunRecord` of the run folder ``path``, read from its files.

    Never raises for a bad file: what cannot be read is left unknown and named in
    ``problem``.
    """
    path = Path(path)
    problems: list[str] = []
    info = _read_json(path / RUN_INFO, problems)
    if info is not None and not isinstance(info, dict):
        problems.append(f"{RUN_INFO} is not a JSON object")
    info = info if isinstance(info, dict) else {}
    metrics = _read_json(path / "metrics.json", problems)
    if isinstance(metrics, dict):  # the epochs run.json counts (see read_metrics)
        metrics = keep_epochs(metrics, _count(info.get("epochs_done")))
    epochs = _get(metrics, "epochs")
    epochs = [e for e in epochs if isinstance(e, dict)] if isinstance(epochs, list) else []
    exp = _read_json(path / "experiment.json", problems)
    exp = exp if isinstance(exp, dict) else {}

    # Folders are named "<date>_<time>-<experiment name>": the name without the time.
    rec = RunRecord(path=str(path), name=name_in_folder(path.name) or path.name)
    rec.has_bundle = (path / "bundle.pt").is_file()
    rec.created = time_in_folder(path.name) or _oldest_mtime(path)
    rec.experiment_name = str(exp.get("name") or "")
    rec.optimizer = str(_get(exp, "optimizer", "type") or "")
    rec.lr = _num(_get(exp, "optimizer", "params", "lr"))
    batch = _get(exp, "data", "batch_size")
    rec.batch_size = batch if isinstance(batch, int) and not isinstance(batch, bool) else None
    layers = _get(exp, "model", "layers")
    rec.preset = str(_get(exp, "model", "preset") or "")
    if isinstance(layers, list):  # "custom" once edited away from the preset
        from workbench.core.model.presets import network_label  # torch-free

        rec.preset = network_label(rec.preset, layers)
    rec.scheduler = str(_get(exp, "scheduler", "type") or "")
    folder = _get(exp, "data", "folder")
    rec.data_folder = folder if isinstance(folder, str) else None
    balance = _get(exp, "data", "balance")
    rec.balance = balance if isinstance(balance, str) else ""
    size = _get(exp, "data", "input_size")
    if isinstance(size, list) and all(isinstance(v, int) for v in size):
        rec.input_size = tuple(size)
    planned = _get(exp, "training", "epochs")
    rec.epochs_planned = planned if isinstance(planned, int) else None
    rec.device = str(_get(exp, "training", "device") or "")

    rec.epochs_done = len(epochs)
    val_accs = [v for v in (_num(e.get("val_acc")) for e in epochs) if v is not None]
    val_losses = [v for v in (_num(e.get("val_loss")) for e in epochs) if v is not None]
    rec.best_val_acc = max(val_accs) if val_accs else None
    rec.best_val_loss = min(val_losses) if val_losses else None
    rec.last_train_loss = _num(epochs[-1].get("train_loss")) if epochs else None
    seconds = [v for v in (_num(e.get("seconds")) for e in epochs) if v is not None]
    rec.duration_s = sum(seconds) if seconds else None
    rec.updated = _newest_mtime(path)
    # Runs written before run.json existed saved a bundle once training ended.
    if rec.has_bundle and rec.epochs_planned is not None:
        rec.status = "finished" if rec.epochs_done >= rec.epochs_planned else "stopped"

    # run.json, where it has a value, knows better than the derivations above.
    for key, kind in (("name", str), ("created", str), ("updated", str), ("status", str),
                      ("message", str), ("device", str), ("notes", str),
                      ("experiment_name", str), ("epochs_done", int),
                      ("epochs_planned", int), ("duration_s", float),
                      ("backbone_weights", str)):
        value = info.get(key)
        if value is None or isinstance(value, bool) or value == "":
            continue
        if kind is str:
            setattr(rec, key, str(value))
        elif isinstance(value, (int, float)):
            setattr(rec, key, int(value) if kind is int else float(value))
    rec.feature_mode = feature_mode_of(info)
    sessions = [p for p in info.get("processes") or [] if isinstance(p, dict)
                and isinstance(p.get("world_size"), int)] \
        if isinstance(info.get("processes"), list) else []
    if sessions:  # the last session's, as experiment.json's batch size is
        last = sessions[-1]
        rec.processes, rec.per_update = last["world_size"], _count(last.get("per_update"))
        rec.batch_size = _count(last.get("batch_size")) or rec.batch_size
    best = info.get("best") if isinstance(info.get("best"), dict) else {}
    rec.best_metric = best["metric"] if isinstance(best.get("metric"), str) else ""
    rec.best_epoch = _count(best.get("epoch"))
    rec.best_value = _num(best.get("value"))
    _read_model(rec, info, epochs)
    if not rec.has_bundle and rec.status != "diverged" and rec.epochs_done:
        _read_checkpoint_model(rec, path)
    if not (path / RUN_INFO).exists() and (rec.has_bundle or (path / "metrics.json").exists()):
        # Deleted, or a run from before run.json: it may look healthy but is guessed at.
        problems.insert(0, f"{RUN_INFO} is missing: its status and dates are inferred")
    rec.problem = "; ".join(problems)
    return rec


def feature_mode_of(info: dict[str, Any]) -> str:
    """How a frozen backbone's features were made, in words, from run.json ``info``: its
    ``feature_mode``, else the one word runs wrote before (``features``: "off" is
    "computed every batch", "cached, K views" is "cached, K augmented views"); ``""``
    when it says neither."""
    value = info.get("feature_mode")
    if value is not None and not isinstance(value, bool) and value != "":
        return str(value)
    if isinstance(info.get("features"), str):  # said in one word
        return {"off": "computed every batch"}.get(
            info["features"], info["features"].replace(" views", " augmented views"))
    return ""


def _read_model(rec: RunRecord, info: dict[str, Any], epochs: list[dict[str, Any]]) -> None:
    """Fill the ``model_*`` fields: what bundle.pt holds (run.json's ``bundle``)."""
    if not rec.has_bundle:
        return
    rec.model_file = "bundle.pt"
    saved = info.get("bundle")
    if isinstance(saved, dict):
        epoch, fallback = saved.get("epoch"), None
        rec.model_restored_best = saved.get("restored_best") is True
        metrics = saved.get("metrics") if isinstance(saved.get("metrics"), dict) else {}
    elif epochs:  # written before run.json said: the bundle was saved at the run's end
        metrics = epochs[-1]
        epoch, fallback = metrics.get("epoch"), len(epochs)
    else:
        return
    rec.model_epoch = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) \
        else fallback
    rec.model_val_acc = _num(metrics.get("val_acc"))
    rec.model_val_bal_acc = _num(metrics.get("val_bal_acc"))
    rec.model_val_loss = _num(metrics.get("val_loss"))


def _read_checkpoint_model(rec: RunRecord, path: Path) -> None:
    """Fill the ``model_*`` fields from the last checkpoint, as it says itself (its epoch
    and that epoch's metrics): what loading it as a model gives, torch-free."""
    from workbench.core.runs.classes import checkpoint_epoch

    saved = checkpoint_epoch(path / CHECKPOINT_MODEL)
    if saved is None:
        return  # no checkpoint, or one that cannot be read: no model to offer
    rec.model_file = CHECKPOINT_MODEL
    rec.model_epoch, metrics = saved
    rec.model_val_acc = _num(metrics.get("val_acc"))
    rec.model_val_bal_acc = _num(metrics.get("val_bal_acc"))
    rec.model_val_loss = _num(metrics.get("val_loss"))


def _mtimes(path: Path) -> list[float]:
    out = []
    for name in _FINGERPRINTED:
        try:
            out.append((path / name).stat().st_mtime)
        except OSError:
            pass
    return out


def _oldest_mtime(path: Path) -> str:
    times = _mtimes(path)
    return _iso(min(times)) if times else ""


def _newest_mtime(path: Path) -> str:
    times = _mtimes(path)
    return _iso(max(times)) if times else ""


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).isoformat(timespec="seconds")
