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
