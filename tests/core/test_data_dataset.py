"""ImageDataset, collate_skip_bad and make_loader: bad files are skipped, never fatal."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.core.data.dataset import ImageDataset, collate_skip_bad, make_loader
from workbench.core.data.augment.transforms import build_eval_transform, build_train_transform
from workbench.core.experiment import Experiment


def _files(tmp_path):
    """Four good images of different modes and sizes, and four bad files."""
    good = []
    for i, (mode, color) in enumerate([("RGB", (255, 0, 0)), ("L", 128),
                                       ("RGBA", (0, 0, 255, 255)), ("P", 3)]):
        p = tmp_path / f"good{i}.png"
        Image.new(mode, (10 + i, 8), color).save(p)
        good.append((str(p), i % 2))
    zero = tmp_path / "zero.png"
    zero.write_bytes(b"")
    text = tmp_path / "text.jpg"
    text.write_text("not an image")
    full = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(full)
    trunc = tmp_path / "trunc.png"
    trunc.write_bytes(full.read_bytes()[:300])
    gone = tmp_path / "deleted.png"
    bad = [(str(zero), 0), (str(text), 1), (str(trunc), 0), (str(gone), 1)]
    return good, bad


def test_bad_items_are_returned_not_raised(tmp_path):
    good, bad = _files(tmp_path)
    ds = ImageDataset(good + bad, build_eval_transform(Experiment()), 3)
    assert len(ds) == 8 and ds.targets == [0, 1, 0, 1, 0, 1, 0, 1]
    for i in range(4):
        x, y, err = ds[i]
        assert x.shape == (3, 32, 32) and y == good[i][1] and err == ""
    reasons = []
    for i in range(4, 8):
        x, y, err = ds[i]
        assert x is None and y == bad[i - 4][1]
        path, reason = err.split("\t")
        assert path == bad[i - 4][0]
        reasons.append(reason)
    assert reasons[0] == "empty file (0 bytes)"
    assert reasons[1].startswith("not an image file")
    assert reasons[2].startswith("truncated or corrupt image")
    assert reasons[3].startswith("file not found")


@pytest.mark.parametrize("channels", [1, 3])
def test_every_mode_comes_out_with_the_experiment_channels(tmp_path, channels):
    good, _ = _files(tmp_path)
    exp = Experiment()
    exp.data.channels, exp.data.mean, exp.data.std = channels, [0.5], [0.5]
    ds = ImageDataset(good, build_train_transform(exp), channels)
    for i in range(len(ds)):
        assert ds[i][0].shape == (channels, 32, 32)


def test_without_transform_gives_the_image_as_floats(tmp_path):
    good, _ = _files(tmp_path)
    x, _, _ = ImageDataset(good[:1], None, 1)[0]
    assert x.shape == (1, 8, 10) and x.dtype == torch.float32
    assert abs(x.max().item() - 76 / 255) < 1e-6


def test_collate_drops_bad_items():
    x0, x1 = torch.zeros(3, 4, 4), torch.ones(3, 4, 4)
    batch = [(x0, 2, ""), (None, 1, "/a/b.png\tempty file (0 bytes)"), (x1, 0, ""),
             (None, 0, "/odd\tname.png\tnot an image file")]
    x, y, skipped = collate_skip_bad(batch)
    assert x.shape == (2, 3, 4, 4) and torch.equal(x[1], x1)
    assert y.dtype == torch.long and y.tolist() == [2, 0]
    assert skipped == [("/a/b.png", "empty file (0 bytes)"),
                       ("/odd\tname.png", "not an image file")]


def test_collate_of_only_bad_items():
    x, y, skipped = collate_skip_bad([(None, 1, "/a.png\tgone")])
    assert x is None and y.shape == (0,) and y.dtype == torch.long
    assert skipped == [("/a.png", "gone")]


def test_loader_batches_skip_bad_files(tmp_path):
    good, bad = _files(tmp_path)
    exp = Experiment()
    exp.data.batch_size = 3
    loader = make_loader(good + bad, build_eval_transform(exp), exp, shuffle=False)
    assert loader.batch_size == 3 and loader.num_workers == 0 and not loader.pin_memory
    n, labels, skipped = 0, [], []
    for x, y, s in loader:
        if x is not None:
            assert x.shape[1:] == (3, 32, 32) and x.shape[0] == len(y)
            n += len(y)
            labels += y.tolist()
        skipped += s
    assert n == 4 and labels == [lbl for _, lbl in good]
    assert sorted(p for p, _ in skipped) == sorted(p for p, _ in bad)


def test_seeded_shuffle_is_reproducible(tmp_path):
    samples = []
    for i in range(12):
        p = tmp_path / f"{i}.png"
        Image.new("L", (4, 4), i * 20).save(p)
        samples.append((str(p), i))
    exp = Experiment()
    exp.data.batch_size = 4

    def order(seed):
        g = torch.Generator().manual_seed(seed)
        loader = make_loader(samples, build_eval_transform(exp), exp, True, generator=g)
        return [label for _, y, _ in loader for label in y.tolist()]

    assert order(5) == order(5)
    assert sorted(order(5)) == list(range(12)) and order(5) != list(range(12))


def test_dataset_pickles_for_worker_processes(tmp_path):
    good, bad = _files(tmp_path)
    ds = ImageDataset(good + bad, build_train_transform(Experiment()), 3)
    again = pickle.loads(pickle.dumps(ds))
    assert again[0][0].shape == (3, 32, 32) and again[4][0] is None


def test_worker_processes_load_and_skip(tmp_path):
    # Spawned workers start a fresh interpreter (about 2 s): one test covers that the
    # whole pipeline travels to them and bad files are still skipped there.
    good, bad = _files(tmp_path)
    exp = Experiment()
    exp.data.num_workers = 1
    exp.data.batch_size = 8
    loader = make_loader(good + bad, build_eval_transform(exp), exp, shuffle=False)
    assert loader.persistent_workers
    (x, y, skipped), = list(loader)
    assert x.shape == (4, 3, 32, 32) and len(skipped) == 4


# -- class imbalance ---------------------------------------------------------------------
def test_class_weights_are_inverse_frequency_with_mean_one():
    from workbench.core.data.dataset import class_weights

    w = class_weights([0] * 30 + [1] * 10 + [2] * 20, 3)
    assert w.dtype == torch.float32
    assert torch.allclose(w.mean(), torch.tensor(1.0))
    assert torch.allclose(w * torch.tensor([30.0, 10.0, 20.0]), (w[0] * 30).expand(3))
    assert w[1] > w[2] > w[0]
    # A class with no training image gets 0; the rest still average 1.
    w = class_weights([0, 0, 2], 3)
    assert w[1] == 0 and torch.allclose(w[[0, 2]].mean(), torch.tensor(1.0))


def test_balanced_sampler_draws_classes_equally():
    from workbench.core.data.dataset import balanced_sampler

    labels = [0] * 90 + [1] * 10
    sampler = balanced_sampler(labels, 2, generator=torch.Generator().manual_seed(0))
    drawn = [labels[i] for _ in range(20) for i in sampler]
    assert len(drawn) == 20 * len(labels)  # num_samples = len(train) per epoch
    share = sum(drawn) / len(drawn)
    assert 0.45 < share < 0.55  # a 10% class drawn about half the time


def test_loader_uses_the_sampler(tmp_path):
    from workbench.core.data.dataset import balanced_sampler, make_loader

    good, _ = _files(tmp_path)
    exp = Experiment()
    exp.data.batch_size = 2
    sampler = balanced_sampler([lab for _, lab in good], 2,
                               generator=torch.Generator().manual_seed(0))
    loader = make_loader(good, build_eval_transform(exp), exp, shuffle=True, sampler=sampler)
    assert loader.sampler is sampler
    assert sum(len(y) for _, y, _ in loader) == len(good)
