"""``workbench explain``: Grad-CAM pictures of image files, headless (the Explain dialog's
computation and overlay, written as PNGs, one printed line per image)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import random_bundle, refused, run_cli
from workbench.core.bundle import save_bundle
from workbench.core.explain.display import as_grey, colormap
from workbench.core.registry import Component
from workbench.core.model.builder import build_network

CLASSES = ["blue", "green", "red"]


@pytest.fixture
def bright_bundle(tiny_experiment, tmp_path):
    """A bundle that predicts "blue", whose Grad-CAM for it is the image's brightness: a
    1x1 convolution summing the channels, read by "blue" alone. A white square on black is
    all the heat; "green" and "red" read nothing (their maps are empty)."""
    exp = tiny_experiment
    exp.model.layers = [Component("Conv2d", {"out_channels": 2, "kernel_size": 1,
                                             "padding": 0}),
                        Component("Flatten"), Component("Linear")]
    exp.augment.transforms = []
    exp.validate()
    model, _ = build_network(exp.model.layers, (3, 8, 8), 3)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model[0].weight[0] = 1.0           # channel 0: the brightness
        model[2].weight[0, :64] = 1.0      # "blue" reads channel 0 everywhere
        model[2].bias[0] = 300.0           # and is predicted
    run = tmp_path / "run"
    run.mkdir()
    return save_bundle(run / "bundle.pt", exp, CLASSES, model.state_dict())


def _square_image(path, size=(40, 24), box=(4, 4, 16, 12)):
    """Black, with a white rectangle top-left (``box`` = left, top, right, bottom)."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 255, 255), box)
    image.save(path)
    return path


def test_the_png_has_the_images_size_and_the_heat_lies_on_the_square(
        bright_bundle, tmp_path, capsys):
    image = _square_image(tmp_path / "shape.png")
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "explain", bright_bundle, image, "--class", "blue",
                                "--out", out)
    assert code == 0, err
    png = out / "shape-grad-cam-blue.png"
    assert stdout.strip() == (f"{image}: predicted blue 100.0%; explained blue 100.0% at "
                              f"layer 1 Conv2d; wrote {png}")
    assert "red where the evidence" in err and "relative" in err
    drawn = np.asarray(Image.open(png).convert("RGB")).astype(int)
    plain = np.asarray(Image.open(image)).astype(int)
    assert drawn.shape == plain.shape == (24, 40, 3)  # the image's own size, not 8x8
    # Red over the square (where the heat is), blue over the rest (no evidence); the
    # overlay differs from the plain image there, as the dialog's at 45% does.
    inside, outside = drawn[6:10, 7:13], drawn[18:, 25:]
    assert (inside[..., 0] > inside[..., 2] + 40).all()
    assert (outside[..., 2] > outside[..., 0] + 40).all()
    assert np.abs(drawn - plain).max(axis=2)[6:10, 7:13].min() > 40
    # Opacity 100: the heatmap alone, hot only where the square is.
    run_cli(capsys, "explain", bright_bundle, image, "--class", "blue", "--out", out,
            "--opacity", "100")
    heat = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert heat[8, 10, 0] >= 128 and (heat[8, 10, 1:] == 0).all()  # jet's red end
    assert (heat[20, 35] == colormap(np.array(0.0))).all()
    # Opacity 0: the image file itself, in grey as the dialog draws it under the heat.
    run_cli(capsys, "explain", bright_bundle, image, "--class", "blue", "--out", out,
            "--opacity", "0")
    assert (np.asarray(Image.open(png).convert("RGB")) == as_grey(plain.astype(np.uint8))).all()


def test_a_stated_size_and_a_huge_image(bright_bundle, tmp_path, capsys):
    image = _square_image(tmp_path / "shape.png")
    code, stdout, _ = run_cli(capsys, "explain", bright_bundle, image, "--size", "200",
                              "--out", tmp_path / "o")
    assert code == 0
    assert Image.open(tmp_path / "o" / "shape-grad-cam.png").size == (200, 120)
    wide = _square_image(tmp_path / "wide.png", size=(3000, 60), box=(100, 10, 400, 50))
    code, stdout, _ = run_cli(capsys, "explain", bright_bundle, wide, "--out", tmp_path / "o")
    assert code == 0 and "made smaller: give --size" in stdout
    assert Image.open(tmp_path / "o" / "wide-grad-cam.png").size == (2048, 41)


def test_a_cropping_pipeline_draws_what_the_network_saw(bright_bundle, tmp_path, capsys):
    from workbench.core.bundle import load_bundle

    bundle = load_bundle(bright_bundle)
    bundle.experiment.augment.transforms = [Component("Resize", {"size": [12]}),
                                            Component("CenterCrop", {"size": [8, 8]})]
    path = save_bundle(tmp_path / "crop.pt", bundle.experiment, CLASSES, bundle.state_dict)
    image = _square_image(tmp_path / "shape.png")
    code, stdout, _ = run_cli(capsys, "explain", path, image, "--out", tmp_path / "o")
    assert code == 0 and "what the network saw: its preprocessing crops" in stdout
    assert Image.open(tmp_path / "o" / "shape-grad-cam.png").size == (512, 512)


def test_the_predicted_class_by_default_and_a_chosen_one(tiny_experiment, tmp_path, capsys):
    tiny_experiment.model.layers = [Component("Conv2d", {"out_channels": 4}),
                                    Component("ReLU"), Component("Flatten"),
                                    Component("Linear")]
    torch.manual_seed(0)
    path, model = random_bundle(tmp_path / "b.pt", tiny_experiment.validate())
    image = f"{tiny_experiment.data.folder}/red/red_000.png"
    code, stdout, _ = run_cli(capsys, "explain", path, image, "--out", tmp_path)
    assert code == 0
    predicted = stdout.split("predicted ")[1].split("%;")[0]
    assert f"explained {predicted}%" in stdout  # the predicted class is the one explained
    code, stdout, _ = run_cli(capsys, "explain", path, image, "--class", "GREEN", "--out",
                              tmp_path)
    assert code == 0 and "; explained green " in stdout, stdout
    assert (tmp_path / "red_000-grad-cam-GREEN.png").is_file()
    err = refused(run_cli(capsys, "explain", path, image, "--class", "purple"),
                  "'purple' is not one of this model's classes", "blue, green, red")
    assert "explain" in err
    refused(run_cli(capsys, "explain", path, image, "--layer", "4"),
            "layer 4 (Linear) gives no image-like map", "'1 Conv2d', '2 ReLU'")
    refused(run_cli(capsys, "explain", path, image, "--layer", "conv"),
            "no layer 'conv'", "'1 Conv2d'")
    code, stdout, _ = run_cli(capsys, "explain", path, image, "--layer", "2 relu", "--out",
                              tmp_path)
    assert code == 0 and "at layer 2 ReLU" in stdout


def test_unreadable_images_are_named_and_the_others_written(bright_bundle, tmp_path, capsys):
    good = _square_image(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    code, stdout, err = run_cli(capsys, "explain", bright_bundle, good, bad,
                                tmp_path / "gone.png")
    assert code == 0  # as predict: one image explained is a success, a set -e script goes on
    written = bright_bundle.parent / "explain" / "good-grad-cam.png"  # beside the bundle
    assert f"wrote {written}" in stdout and written.is_file()
    assert f"{bad}: error: not an image file" in stdout
    assert f"{tmp_path / 'gone.png'}: error: file not found" in stdout
    assert err.strip().splitlines()[-1] == (
        "warning: 2 of 3 images could not be explained (named above, with why): give "
        "image files that can be read")
    refused(run_cli(capsys, "explain", bright_bundle, bad), "no image could be explained",
            "bad.png: not an image file")


def test_a_run_folder_and_the_refusals(bright_bundle, tiny_experiment, tmp_path, capsys):
    image = _square_image(tmp_path / "shape.png")
    code, stdout, _ = run_cli(capsys, "explain", bright_bundle.parent, image)
    assert code == 0 and "shape-grad-cam.png" in stdout  # a run folder: its bundle.pt
    refused(run_cli(capsys, "explain", tmp_path / "shape-less", image),
            "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(run_cli(capsys, "explain", empty, image), f"{empty} is a folder with no bundle.pt")
    tiny_experiment.model.layers = [Component("Flatten"), Component("Linear")]  # an MLP
    mlp, _ = random_bundle(tmp_path / "mlp.pt", tiny_experiment.validate())
    refused(run_cli(capsys, "explain", mlp, image), "no convolutional layer",
            "no Grad-CAM for it", "MLP")
    refused(run_cli(capsys, "explain", bright_bundle, image, "--size", "5"), "--size 5")
    refused(run_cli(capsys, "explain", bright_bundle, image, "--opacity", "150"),
            "--opacity 150")
    refused(run_cli(capsys, "explain", bright_bundle, image, "--out", image),
            "is a file, not a folder")


def test_images_of_one_name_in_two_folders_get_two_pngs(bright_bundle, tmp_path, capsys):
    for folder in ("cats", "dogs"):
        (tmp_path / folder).mkdir()
        _square_image(tmp_path / folder / "001.png")
    code, stdout, _ = run_cli(capsys, "explain", bright_bundle, tmp_path / "cats",
                              tmp_path / "dogs", "--out", tmp_path / "o")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "001-grad-cam.png", "dogs-001-grad-cam.png"]


def test_a_map_that_shows_no_place_writes_no_png_and_says_why(bright_bundle, tmp_path,
                                                               capsys):
    image = _square_image(tmp_path / "shape.png")
    code, stdout, _ = run_cli(capsys, "explain", bright_bundle, image, "--class", "green",
                              "--out", tmp_path / "o")
    assert code == 0  # an answer (nothing here speaks for green), not a failure
    assert stdout.strip() == (f"{image}: predicted blue 100.0%; explained green 0.0% at layer "
                              f"1 Conv2d; no PNG: The Grad-CAM map at layer 1 Conv2d is "
                              f"empty: nothing in this layer's output speaks for green, so "
                              f"it shows no place. Try another layer (an earlier "
                              f"convolution) or another class.")
    assert not (tmp_path / "o").exists()


def test_a_picture_runs_the_network_once_and_its_probabilities_are_the_networks(
        bright_bundle, tmp_path):
    """Grad-CAM's forward pass gives the probabilities shown with it: a 12 MP photo through
    resnet18 on a laptop CPU paid for two passes per picture."""
    from workbench.core.explain.bundle import Explainer
    from workbench.core.explain.picture import cam_picture, probabilities

    explainer = Explainer(str(bright_bundle))
    image = _square_image(tmp_path / "sq.png")
    expected = probabilities(explainer, explainer.load(str(image)).tensor)
    passes = []
    explainer.model.register_forward_hook(lambda *_: passes.append(1))
    out = cam_picture(explainer, str(image))
    assert len(passes) == 1
    assert out.predicted[0] == "blue" and out.predicted[1] == pytest.approx(max(expected))
