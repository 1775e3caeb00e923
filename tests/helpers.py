"""Helpers shared by the core and Qt tests (on sys.path via pytest's pythonpath)."""

from __future__ import annotations


def make_image_folder(root, classes=("blue", "green", "red"), per_class=10, size=12, seed=0,
                      mode="RGB"):
    """A tiny class-per-folder dataset whose classes differ by colour (learnable in a few
    steps). ``size`` is one side or a ``(width, height)`` pair; ``mode`` "L" writes
    grayscale images (the classes differ by brightness). Returns the root as a string."""
    import random

    from PIL import Image

    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220),
               "yellow": (230, 220, 20)}
    rng = random.Random(seed)
    for c in classes:
        d = root / c
        d.mkdir(parents=True, exist_ok=True)
        base = colours.get(c, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        for i in range(per_class):
            jitter = tuple(max(0, min(255, v + rng.randint(-25, 25))) for v in base)
            if mode == "L":
                jitter = sum(jitter) // 3
            dims = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
            Image.new(mode, dims, jitter).save(d / f"{c}_{i:03d}.png")
    return str(root)


def run_cli(capsys, *argv):
    """Run ``workbench`` in-process; returns ``(exit code, stdout, stderr)``. argparse's own
    errors arrive as SystemExit and give its code."""
    from workbench.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def report_html(capsys, run, path) -> str:
    """``workbench report RUN -o path``, which must succeed; the page written."""
    code, _, err = run_cli(capsys, "report", run, "-o", path)
    assert code == 0, err
    return path.read_text()


def train_diverged(capsys, tmp_path, experiment, epochs: int = 3):
    """``workbench train`` of ``experiment`` (``epochs`` epochs, saved as tmp_path/exp.json)
    into tmp_path/run, which must end diverged (exit code 3); ``(run_dir, out, err)``."""
    experiment.training.epochs = epochs
    experiment.save(tmp_path / "exp.json")
    run_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", tmp_path / "exp.json", "--out", run_dir)
    assert code == 3, err
    return run_dir, out, err


def diverged_findings(run_dir) -> list[dict]:
    """The ``diverged`` findings of ``run_dir``'s run.json, in order."""
    import json
    from pathlib import Path

    info = json.loads((Path(run_dir) / "run.json").read_text())
    return [f for f in info["findings"] if f["kind"] == "diverged"]


def no_lr_suggestion(monkeypatch) -> None:
    """The LR finder after a divergence proposes nothing: the doctor's own rate stands."""
    from workbench.core.train.lr_find import LRFindResult

    monkeypatch.setattr("workbench.core.train.lr_find.find_lr", lambda experiment, **kw:
                        LRFindResult([1e-4], [1.0], [1.0], None, False, "stubbed"))


def run_lr_search(capsys, tmp_path, experiment, *options):
    """``workbench tune`` of ``experiment`` (saved as tmp_path/exp.json) over a log range of
    learning rates, one random trial of one epoch, in its own SQLite storage; ``options``
    are added to the command. Returns ``(exit code, stdout, stderr, the experiment file)``."""
    import json

    exp_file, space_file = tmp_path / "exp.json", tmp_path / "space.json"
    experiment.save(exp_file)
    space_file.write_text(json.dumps({
        "params": {"optimizer.params.lr": {"type": "float", "low": 1e-3, "high": 0.1,
                                           "log": True}},
        "sampler": "random", "seed": 0, "epochs": 1}))
    code, out, err = run_cli(capsys, "tune", exp_file, "--space", space_file, "--trials", 1,
                             "--storage", f"sqlite:///{tmp_path / 's.db'}", *options)
    return code, out, err, exp_file


def random_bundle(path, experiment, classes=("blue", "green", "red")):
    """A bundle at ``path`` of ``experiment``'s network with random weights (no training);
    returns ``(path, model)``, the model in eval mode."""
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.model.builder import build_network

    h, w = experiment.data.input_size
    model, _ = build_network(experiment.model.layers, (experiment.data.channels, h, w),
                             len(classes))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return save_bundle(path, experiment, list(classes), model.state_dict()), model.eval()


def finished_run(name, bundle, epochs: int = 2) -> str:
    """A finished run ``name`` in the app's runs folder holding a copy of the model file
    ``bundle``; returns its bundle's path."""
    import shutil

    from workbench.core.io import runs_dir
    from workbench.core.runs.store import write_run_info

    folder = runs_dir() / name
    folder.mkdir(parents=True)
    shutil.copy(bundle, folder / "bundle.pt")
    write_run_info(folder, {"name": name, "status": "finished", "epochs_done": epochs,
                            "epochs_planned": epochs})
    return str(folder / "bundle.pt")


def make_digits(root, per_class=40, size=16, seed=0, shuffle_labels=False):
    """Handwriting-like digits 0-9: each glyph drawn in Pillow's built-in font at a random
    size, offset, tilt and stroke weight, grey on black with noise; a real (small) vision
    task a small CNN learns to 90%+ in a few epochs. ``shuffle_labels`` files every image
    under a random class instead (nothing left to learn). Returns the root as a string."""
    import random

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    for d in range(10):
        (root / str(d)).mkdir(parents=True, exist_ok=True)
    big = size * 4
    for d in range(10):
        for i in range(per_class):
            img = Image.new("L", (big, big), 0)
            draw = ImageDraw.Draw(img)
            font = ImageFont.load_default(size=int(big * rng.uniform(0.6, 0.85)))
            x, y = big / 2 + rng.uniform(-0.1, 0.1) * big, big / 2 + rng.uniform(-0.1, 0.1) * big
            draw.text((x, y), str(d), fill=rng.randint(170, 255), font=font, anchor="mm",
                      stroke_width=rng.randint(0, 2), stroke_fill=200)
            img = img.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)
            img = img.resize((size, size), Image.LANCZOS)
            a = np.asarray(img, dtype=np.float32) + nprng.normal(0, 12, (size, size))
            label = rng.randrange(10) if shuffle_labels else d
            Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(
                root / str(label) / f"d{d}_{i:03d}.png")
    return str(root)


def make_planted_digits(root, side=32, conflicts=10, near=20, flips=20, limit=None, seed=0):
    """scikit-learn's 1,797 real handwritten digits (8x8, scaled to ``side`` px PNGs) with
    three kinds of planted faults; returns ``(root, planted)``:

    - ``conflicts``: images copied, pixel for pixel, into another digit's folder;
    - ``near``: images saved again beside themselves re-encoded (JPEG q80) or resized by
      one pixel: near copies (which may land on both sides of a split);
    - ``flips``: images moved to a wrong digit's folder (a wrong label).

    ``planted`` maps each kind to ``[(path, ...)]``: the conflict pairs, the near pairs, and
    ``(path, true digit)`` for the flips."""
    import random

    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    rng = random.Random(seed)
    digits = load_digits()
    n = len(digits.images) if limit is None else limit
    for d in range(10):
        (root / str(d)).mkdir(parents=True, exist_ok=True)
    order = list(range(n))
    rng.shuffle(order)
    flipped = set(order[:flips])
    copied = order[flips:flips + conflicts]
    doubled = order[flips + conflicts:flips + conflicts + near]
    planted = {"conflicts": [], "near": [], "flips": []}
    for i in range(n):
        img = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8))
        img = img.resize((side, side), Image.BICUBIC)
        true = int(digits.target[i])
        label = (true + rng.randint(1, 9)) % 10 if i in flipped else true
        path = root / str(label) / f"{i:04d}.png"
        img.save(path)
        if i in flipped:
            planted["flips"].append((str(path), str(true)))
        if i in copied:
            other = root / str((true + 1 + i % 9) % 10) / f"{i:04d}_copy.png"
            img.save(other)
            planted["conflicts"].append((str(path), str(other)))
        if i in doubled:
            twin = root / str(label) / f"{i:04d}_again"
            if i % 2:
                img.convert("RGB").save(str(twin) + ".jpg", quality=80)
                twin = str(twin) + ".jpg"
            else:
                img.resize((side + 1, side + 1), Image.BICUBIC).save(str(twin) + ".png")
                twin = str(twin) + ".png"
            planted["near"].append((str(path), twin))
    return str(root), planted


def make_photo_folder(root, classes=("cats", "dogs", "owls"), per_class=12, side=48, seed=0):
    """Distinct photo-like images: smooth random colour fields, each drawn afresh (no two
    alike, so a data-health check of them finds nothing). Returns ``root``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
            img = Image.fromarray(small).resize((side, side), Image.BICUBIC)
            img.save(root / c / f"{c}_{i:02d}.png")
    return root


#: The test/ copy of a training image that :func:`make_leaky_parts` makes (a leak).
LEAK = "test/cats/cats_from_train.png"


def make_leaky_parts(root):
    """train/ and test/ of three photo classes (6 images each, :func:`make_photo_folder`)
    and :data:`LEAK`, a test/ copy of a training image. Returns ``root``."""
    import shutil

    for i, part in enumerate(("train", "test")):
        make_photo_folder(root / part, per_class=6, seed=i)
    shutil.copy(root / "train" / "cats" / "cats_00.png", root / LEAK)
    return root


def error_lines(err: str) -> list[str]:
    """The lines of ``err`` less the ``warning:`` lines a run says before it starts (a
    handful of validation images, a flip that changes the label): a failure met during the
    run is still one line after them."""
    return [ln for ln in err.strip().splitlines() if not ln.startswith("warning: ")]


def one_line(capsys, rc, *words):
    """The CLI refused with exit code 2 and one line naming ``words``; returns that line."""
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


def refused(result, *words) -> str:
    """``run_cli``'s result is exit code 2 with one line naming ``words``; that line."""
    code, out, err = result
    assert code == 2 and out == "", err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err.strip()



def stop_after(epoch: int):
    """A training callback that asks for a stop once epoch ``epoch`` has ended (as the
    Stop button would then)."""
    from workbench.core.train.callbacks.base import Callback

    class StopAfter(Callback):
        def on_epoch_end(self, trainer, done, metrics):
            if done == epoch:
                trainer.request_stop()

    return StopAfter()


def frozen_backbone(exp, dropout: bool = True):
    """``exp`` made a frozen resnet18 (random weights: nothing to download) and a Linear
    head (after a Dropout of 0.2), at 32x32 with no augmentation; returns it."""
    from workbench.core.registry import Component

    exp.data.input_size = [32, 32]
    exp.augment.transforms = []
    exp.model.layers = [Component("Backbone", {"arch": "resnet18", "weights": "random",
                                               "mode": "feature_extraction"}),
                        *([Component("Dropout", {"p": 0.2})] if dropout else []),
                        Component("Linear")]
    return exp


def flip_cause(classes=("left", "right")):
    """The training doctor's cause for a RandomHorizontalFlip on direction classes (the
    left/right arrows a flip turns into each other)."""
    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.core.train.doctor.causes import label_cause

    exp = Experiment()
    exp.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5})]
    change = label_cause(exp, list(classes))
    assert change is not None and "RandomHorizontalFlip" in change.why
    return change
