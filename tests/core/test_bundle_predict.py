"""Bundles: atomic, readable by plain PyTorch, refusing unsafe files; the Predictor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from workbench.core.bundle import BUNDLE_FORMAT_VERSION, load_bundle, save_bundle
from workbench.core.errors import BundleError
from workbench.core.predict import Predictor
from workbench.core.train.trainer import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from helpers import make_image_folder
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component

    root = tmp_path_factory.mktemp("bundle")
    exp = Experiment()
    exp.data.folder = make_image_folder(root / "data", per_class=12)
    exp.data.input_size = [8, 8]
    exp.data.batch_size = 8
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")]
    exp.optimizer = Component("Adam", {"lr": 0.02})
    exp.training.epochs = 6
    exp.training.device = "cpu"
    result = Trainer(exp).fit()
    path = result.save_bundle(root / "run" / "bundle.pt")
    return result, path, Path(exp.data.folder)


def test_bundle_is_plain_pytorch(trained):
    result, path, _ = trained
    data = torch.load(path, weights_only=True)
    assert set(data) == {"format_version", "experiment", "classes", "state_dict", "info"}
    # Which weights these are: the last epoch of the 6, and what they scored.
    assert data["info"]["epoch"] == 6 and data["info"]["restored_best"] is False
    assert data["info"]["metrics"] == result.history[-1]
    assert data["format_version"] == BUNDLE_FORMAT_VERSION
    assert data["classes"] == ["blue", "green", "red"]
    assert data["experiment"]["data"]["input_size"] == [8, 8]


def test_bundle_round_trip_gives_identical_predictions(trained):
    result, path, _ = trained
    bundle = load_bundle(path)
    assert bundle.experiment == result.experiment
    model = bundle.build_model()
    x = torch.randn(5, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), result.model.eval()(x))


def test_predictor_top_k_and_learned_classes(trained):
    _, path, folder = trained
    predictor = Predictor(path)
    files = [folder / c / f"{c}_000.png" for c in ("blue", "green", "red")]
    preds = predictor.predict(files, top_k=2)
    assert [p.top[0][0] for p in preds] == ["blue", "green", "red"]
    for p in preds:
        assert len(p.top) == 2 and p.error is None
        assert p.top[0][1] >= p.top[1][1]
        assert 0.0 <= p.top[1][1] <= p.top[0][1] <= 1.0
    full = predictor.predict([files[0]], top_k=10)[0]
    assert len(full.top) == 3  # clipped to the number of classes
    assert sum(prob for _, prob in full.top) == pytest.approx(1.0, abs=1e-5)


def test_predictor_accepts_pil_images_of_any_mode(trained):
    _, path, folder = trained
    predictor = Predictor(path)
    rgba = Image.open(folder / "red" / "red_001.png").convert("RGBA")
    gray = Image.new("L", (20, 20), 128)
    preds = predictor.predict([rgba, gray])
    assert preds[0].top[0][0] == "red" and preds[0].path is None
    assert preds[1].error is None and len(preds[1].top) == 3


def test_unreadable_image_gets_an_error_and_others_still_run(trained, tmp_path):
    _, path, folder = trained
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG garbage")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    good = folder / "green" / "green_002.png"
    preds = Predictor(path).predict([bad, good, empty])
    assert preds[0].error and not preds[0].top
    assert preds[1].error is None and preds[1].top[0][0] == "green"
    assert preds[2].error and "empty" in preds[2].error


def test_save_is_atomic_and_keeps_the_old_file_on_failure(trained, tmp_path, monkeypatch):
    result, path, _ = trained
    target = tmp_path / "b.pt"
    save_bundle(target, result.experiment, result.classes, result.model.state_dict())
    before = target.read_bytes()

    def broken_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_bundle(target, result.experiment, result.classes, result.model.state_dict())
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["b.pt"]  # no temporary file left


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("content, words", [
    (None, "does not exist"),
    (b"", "not a readable bundle"),
    (b"garbage bytes", "not a readable bundle"),
    (b"hello\n", "not a readable bundle"),  # a text file: torch's unpickler raises KeyError
    (b"{\"format_version\": 1}", "not a readable bundle"),
])
def test_bad_files_give_clear_messages(tmp_path, content, words):
    path = tmp_path / "x.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BundleError, match=words):
        load_bundle(path)


def test_file_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "experiment": {}, "classes": [], "state_dict": Evil()},
               path)
    with pytest.raises(BundleError, match="could run code"):
        load_bundle(path)


def test_foreign_and_newer_files_are_explained(trained, tmp_path):
    result, path, _ = trained
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(BundleError, match="not a Workbench bundle"):
        load_bundle(foreign)
    data = torch.load(path, weights_only=True)
    data["format_version"] = BUNDLE_FORMAT_VERSION + 1
    newer = tmp_path / "newer.pt"
    torch.save(data, newer)
    with pytest.raises(BundleError, match="newer Workbench"):
        load_bundle(newer)


def test_weights_that_do_not_fit_are_explained(trained, tmp_path):
    _, path, _ = trained
    data = torch.load(path, weights_only=True)
    key = next(iter(data["state_dict"]))
    data["state_dict"][key] = torch.zeros(1)
    altered = tmp_path / "altered.pt"
    torch.save(data, altered)
    with pytest.raises(BundleError, match="do not fit"):
        load_bundle(altered).build_model()
