"""The last run's start notes, shown again when the Train tab shows a run it did not start
(after a restart): headed with the run's name, so they do not read as notes about the next
run, and shown only while the experiment trains on that run's dataset folder (notes on
``birds``' unreadable files stayed under a refusal about another folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.qt.panels.train.status import show_start_notes

#: The panel's attribute holding ``(folder, text)``: the dataset folder of the run whose
#: notes were shown again, and their text (None: the notes, if any, are a run's of this
#: session, such as a Continue of that run, which replaced the text).
_SHOWN = "_last_notes_shown"


def show_last_run_notes(panel: Any, run_dir: str, info: dict) -> None:
    """Show the notes run.json ``info`` of ``run_dir`` kept from its latest start (not an
    earlier start's: :mod:`workbench.core.runs.start_notes`), headed "Last run (NAME)
    started with these notes:" ("… continued from epoch 7 with these notes:" for a
    resumed run), while the experiment's dataset is the run's."""
    from workbench.core.runs.start_notes import latest_start

    name = str(info.get("name") or Path(run_dir).name)
    first, notes = latest_start(info)
    how = f"continued from epoch {first}" if first and first > 1 else "started"
    show_start_notes(panel.notes_label, notes, info.get("start_warnings"),
                     heading=f"Last run ({name}) {how} with these notes:")
    setattr(panel, _SHOWN, (run_data_folder(run_dir), panel.notes_label.text()))
    follow_dataset(panel)


def follow_dataset(panel: Any) -> None:
    """Hide the last run's notes while the experiment's dataset folder is another than the
    run's; show them again when it is the run's again."""
    folder, text = getattr(panel, _SHOWN, None) or (None, "")
    if folder is None or panel.notes_label.text() != text:
        return  # (a run of this session says its own notes)
    panel.notes_label.setVisible(bool(text) and _same(folder, panel.experiment.data.folder))


def forget_last_run_notes(panel: Any) -> None:
    """A run starts: the notes line is its own from now on (hidden until it says any)."""
    setattr(panel, _SHOWN, None)
    panel.notes_label.hide()


def run_data_folder(run_dir: str) -> str | None:
    """The dataset folder the run at ``run_dir`` trained on (its experiment.json's
    ``data.folder``, a relative one read as ``workbench resume`` reads it); None when it
    cannot be read (then its notes stay).

    The file is read as JSON, not loaded as an Experiment: this runs at start-up, before
    torch is imported, and an Experiment's validation imports torchvision, which on the
    GUI thread, while the loader thread imports it too, left the loader a half-imported
    module: "PyTorch could not be loaded" on every start after a run."""
    from workbench.core.folder_rule import resolve_folder
    from workbench.qt.panels.train.saved_run import saved_experiment

    data = saved_experiment(run_dir).get("data")  # (a damaged or old file: notes kept)
    folder = data.get("folder") if isinstance(data, dict) else None
    return resolve_folder(folder, Path(run_dir) / "experiment.json") \
        if isinstance(folder, str) else None


def _same(a: str, b: str) -> bool:
    from workbench.qt.panels.data.health.findings import same_path

    if not a or not b:  # "": the demo dataset
        return a == b
    return same_path(a, b)
