"""File → Save and Save As keep a dataset folder the experiment file names relatively
(walk-paths defect 1): a project folder holding ``exp.json`` and its ``data/`` stays
movable after a Save, as ``lr-find --write`` and ``tune --apply`` keep it."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.qt.main_window import MainWindow
from workbench.qt.startup import torch_loader


@pytest.fixture(autouse=True)
def registries():
    torch_loader().ensure_loaded()  # opening and saving validate (as the app waits for it)


def _folder(path) -> str:
    return json.loads(path.read_text())["data"]["folder"]


def test_save_and_save_as_keep_a_relative_dataset_folder(qtbot, monkeypatch, tiny_experiment,
                                                        tmp_path):
    proj = tmp_path / "proj"
    make_image_folder(proj / "data", per_class=4, size=16)
    spec = tiny_experiment.to_dict()
    spec["data"]["folder"] = "data"
    (proj / "exp.json").write_text(json.dumps(spec))
    window = MainWindow(tiny_experiment)
    qtbot.addWidget(window)
    assert window.open_experiment_file(str(proj / "exp.json"))
    assert window.experiment.data.folder == str(proj / "data")
    window.experiment.optimizer.params["lr"] = 0.005
    assert window.save_experiment()  # File → Save
    assert _folder(proj / "exp.json") == "data"
    # Save As beside it: still "data"; where "data" names nothing, the folder in full.
    saved_as = []
    monkeypatch.setattr("workbench.qt.experiment_files.QFileDialog.getSaveFileName",
                        lambda *args, **kwargs: (saved_as.pop(0), ""))
    saved_as += [str(proj / "exp2.json"), str(tmp_path / "elsewhere" / "exp3.json")]
    (tmp_path / "elsewhere").mkdir()
    assert window.save_experiment_as()
    assert _folder(proj / "exp2.json") == "data"
    assert window.save_experiment_as()  # from exp2.json, which names it "data"
    assert _folder(tmp_path / "elsewhere" / "exp3.json") == str(proj / "data")
    # The project copied: its copy trains its own data, not the original's.
    shutil.copytree(proj, tmp_path / "proj2")
    copied = Experiment.load(tmp_path / "proj2" / "exp.json")
    assert copied.data.folder == str(tmp_path / "proj2" / "data")
    assert copied.optimizer.params["lr"] == 0.005
    window.shutdown()
