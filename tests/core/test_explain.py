"""Explanations: Grad-CAM finds the discriminative region, feature maps, filters, overlays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from workbench.core.errors import WorkbenchError
from workbench.core.registry import Component
from workbench.core.explain.bundle import Explainer
from workbench.core.explain.methods import (colormap, default_layer, explainable_layers,
                                            feature_grid, feature_maps, filter_grid,
                                            first_conv_filters, grad_cam, overlay)
from workbench.core.model.builder import build_network

SIZE, SQUARE = 32, 8


def _images(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes on the same kind of noise, each told apart only by one small square in
    a fixed quadrant: class 0 a bright one top-left, class 1 a dark one bottom-right.

    The squares differ in brightness as well as place because the network below ends in
    global average pooling, which cannot tell two identical squares apart by position."""
    g = torch.Generator().manual_seed(seed)
    x = 0.3 + 0.4 * torch.rand(2 * n_per_class, 1, SIZE, SIZE, generator=g)
    y = torch.arange(2).repeat_interleave(n_per_class)
    for i, label in enumerate(y.tolist()):
        # Jitter the square within its quadrant so the network learns "a square", not a pixel.
        r, c = (int(v) for v in torch.randint(1, SIZE // 2 - SQUARE, (2,), generator=g))
        if label == 1:
            r, c = r + SIZE // 2, c + SIZE // 2
        x[i, 0, r:r + SQUARE, c:c + SQUARE] = 1.0 if label == 0 else 0.0
    return x, y


def _cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: on a busy 2-core machine a second thread only adds waiting (20x here).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained_cnn():
    torch.manual_seed(0)
    model = _cnn()
    x, y = _images(16, seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.zero_grad(set_to_none=True)
    test_x, test_y = _images(10, seed=2)
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    assert accuracy == 1.0, "the synthetic task must be learnt for the test to mean anything"
    return model.eval(), test_x, test_y


def _quadrant_mass(heat: np.ndarray) -> list[float]:
    """Share of the heat in each quadrant: top-left, top-right, bottom-left, bottom-right."""
    h = SIZE // 2
    quads = [heat[:h, :h], heat[:h, h:], heat[h:, :h], heat[h:, h:]]
    return [float(q.sum() / heat.sum()) for q in quads]


def test_grad_cam_highlights_the_discriminative_square(trained_cnn):
    model, xs, ys = trained_cnn
    hits = 0
    for x, y in zip(xs, ys.tolist()):
        result = grad_cam(model, x)
        heat = result.heatmap
        assert result.class_index == y and result.probability > 0.5
        assert heat.shape == (SIZE, SIZE) and heat.min() >= 0.0 and heat.max() == pytest.approx(1)
        peak = np.unravel_index(heat.argmax(), heat.shape)
        in_quadrant = (peak[0] < SIZE // 2) == (y == 0) and (peak[1] < SIZE // 2) == (y == 0)
        # The square's quadrant holds clearly more heat than any other (a map that ignored
        # the square would spread it evenly, or put it elsewhere).
        mass = _quadrant_mass(heat)
        own = mass.pop(0 if y == 0 else 3)
        hits += in_quadrant and own > 1.5 * max(mass)
    assert hits >= 0.9 * len(ys)


def test_grad_cam_explains_a_chosen_class_and_layer(trained_cnn):
    model, xs, ys = trained_cnn
    layers = explainable_layers(model, xs[0])
    assert [c.label for c in layers] == ["1 Conv2d", "2 ReLU", "3 Conv2d", "4 ReLU"]
    assert layers[0].output_shape == (8, SIZE, SIZE)
    assert [c.convolutional for c in layers] == [True, False, True, False]
    assert default_layer(layers) == layers[2]
    assert grad_cam(model, xs[0]).layer == "3 Conv2d"  # default: the last convolution
    other = grad_cam(model, xs[0], target_class=1, layer=layers[2])
    assert other.class_index == 1 and other.layer == "3 Conv2d"
    assert other.probability < 0.5
    assert grad_cam(model, xs[0], layer="3 Conv2d").layer == "3 Conv2d"
    with pytest.raises(WorkbenchError, match="class 5 does not exist"):
        grad_cam(model, xs[0], target_class=5)
    with pytest.raises(WorkbenchError, match="not a spatial map"):
        grad_cam(model, xs[0], layer=6)  # the Linear


def test_the_default_layer_is_the_last_convolution_not_the_pooling_after_it():
    # seed-cnn's shape: the last spatial layer is a MaxPool, whose map is often empty.
    net, _ = build_network([Component("Conv2d", {"out_channels": 4, "padding": 1}),
                            Component("ReLU"), Component("MaxPool2d", {"kernel_size": 2}),
                            Component("Conv2d", {"out_channels": 4, "padding": 1}),
                            Component("ReLU"), Component("MaxPool2d", {"kernel_size": 2}),
                            Component("Flatten"), Component("Linear")], (1, 16, 16), 2)
    layers = explainable_layers(net, (1, 16, 16))
    assert layers[-1].label == "6 MaxPool2d"
    assert default_layer(layers).label == "4 Conv2d"
    result = grad_cam(net, torch.rand(1, 16, 16))
    assert result.layer == "4 Conv2d"
    assert feature_maps(net, torch.rand(1, 16, 16)).shape == (4, 8, 8)  # the same default
    assert default_layer([]) is None


def _linear_head(weight: float, kernel: int) -> nn.Sequential:
    """Conv (positive weights), ReLU, Flatten, Linear(2) whose class 0 weights are all
    ``weight``."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, kernel, padding=kernel // 2), nn.ReLU(), nn.Flatten(),
                        nn.Linear(2 * 6 * 6, 2))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(0.1)
        net[3].weight[0] = weight
        net[3].bias.zero_()
    return net


def test_an_empty_map_says_so_and_names_the_last_convolution():
    # Every activation after the ReLU counts against class 0: no place speaks for it.
    net = _linear_head(-1.0, 3)
    result = grad_cam(net, torch.rand(1, 6, 6), target_class=0, layer="2 ReLU")
    assert result.flat == "empty" and not result.heatmap.any()
    assert result.suggested_layer == "1 Conv2d"
    assert "is empty" in result.note and "class 0" in result.note
    assert "the last convolution, 1 Conv2d" in result.note
    result.class_name = "seven"
    assert "speaks for seven" in result.note


def test_a_constant_map_says_so():
    # A uniform image through a 1x1 convolution: the same activation at every place.
    net = _linear_head(1.0, 1)
    result = grad_cam(net, torch.full((1, 6, 6), 0.5), target_class=0)
    assert result.layer == "1 Conv2d" and result.flat == "constant"
    assert np.ptp(result.heatmap) == 0
    assert result.suggested_layer is None  # it is the last convolution already
    assert "the same everywhere" in result.note and "earlier convolution" in result.note


def test_a_real_map_has_no_note(trained_cnn):
    model, xs, _ = trained_cnn
    result = grad_cam(model, xs[0])
    assert result.flat is None and result.note is None and result.suggested_layer is None


def test_grad_cam_leaves_the_model_as_it_was(trained_cnn):
    model, xs, _ = trained_cnn
    before = {k: v.clone() for k, v in model.state_dict().items()}
    reference = grad_cam(model, xs[0]).heatmap
    model.train()
    model[1].eval()
    model[0].requires_grad_(False)  # frozen first layer, as a feature extractor would be
    try:
        frozen = grad_cam(model, xs[0]).heatmap
        assert [m.training for m in model] == [True, False] + [True] * 5
        assert [p.requires_grad for p in model.parameters()] == [False] * 2 + [True] * 4
        model.requires_grad_(False)  # everything frozen: gradients still reach the layer
        assert np.allclose(grad_cam(model, xs[0]).heatmap, reference, atol=1e-5)
        assert not any(p.requires_grad for p in model.parameters())
    finally:
        model.requires_grad_(True)
        model.eval()
    assert np.allclose(frozen, reference, atol=1e-5)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_grad_cam_uses_eval_mode_and_survives_inplace_relu():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Dropout(0.5),
                          nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).train()
    x = torch.randn(3, 8, 8)
    first = grad_cam(model, x, layer=0).heatmap
    assert np.array_equal(first, grad_cam(model, x, layer=0).heatmap)  # no dropout draws
    assert model.training and model[2].training


def test_a_network_without_a_spatial_layer_is_refused_clearly():
    mlp, _ = build_network([Component("Flatten"), Component("Linear", {"out_features": 8}),
                            Component("ReLU"), Component("Linear")], (3, 8, 8), 2)
    assert explainable_layers(mlp, (3, 8, 8)) == []
    with pytest.raises(WorkbenchError, match="need a convolutional layer"):
        grad_cam(mlp, torch.randn(3, 8, 8))
    with pytest.raises(WorkbenchError, match="no convolution layer"):
        first_conv_filters(mlp)
    with pytest.raises(WorkbenchError, match=r"shape \(channels, height, width\)"):
        grad_cam(mlp, torch.randn(1, 3, 8, 8))


def test_feature_maps_and_their_grid(trained_cnn):
    model, xs, _ = trained_cnn
    maps = feature_maps(model, xs[0], layer="2 ReLU")
    assert maps.shape == (8, SIZE, SIZE) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0
    grid = feature_grid(maps, pad=1)  # 8 maps: 3 columns, 3 rows
    assert grid.shape == (3 * (SIZE + 1) - 1, 3 * (SIZE + 1) - 1)
    assert np.array_equal(grid[:SIZE, :SIZE], maps[0])
    assert np.array_equal(grid[SIZE + 1:2 * SIZE + 1, :SIZE], maps[3])
    assert feature_grid(maps, columns=4, pad=0).shape == (2 * SIZE, 4 * SIZE)


def test_first_conv_filters_grid(trained_cnn):
    model, _, _ = trained_cnn
    filters = first_conv_filters(model)
    assert filters.shape == (8, 3, 3, 1)
    assert filters.min() == 0.0 and filters.max() == 1.0
    assert filter_grid(filters, columns=4).shape == (2 * 4 - 1, 4 * 4 - 1, 1)


def test_resnet18_backbone_with_random_weights():
    net, _ = build_network([Component("Backbone", {"arch": "resnet18", "weights": "random"}),
                            Component("Linear")], (3, 64, 64), 2)
    layers = explainable_layers(net, (3, 64, 64))
    labels = {c.label: c.output_shape for c in layers}
    assert labels["1 Backbone › layer4"] == (512, 2, 2)
    assert "1 Backbone › avgpool" not in labels  # 1x1: locates nothing
    convs = {c.label.split(" › ")[1]: c.convolutional for c in layers}
    assert convs["conv1"] and convs["layer3"] and not convs["bn1"] and not convs["maxpool"]
    assert default_layer(layers).label == "1 Backbone › layer4"  # its last block with convs
    result = grad_cam(net, torch.randn(3, 64, 64))  # the backbone is frozen
    assert result.layer == "1 Backbone › layer4" and result.heatmap.shape == (64, 64)
    assert np.isfinite(result.heatmap).all()
    assert not any(p.requires_grad for p in net[0].parameters())
    assert feature_maps(net, torch.randn(3, 64, 64), "1 Backbone › layer3").shape == (256, 4, 4)
    filters = first_conv_filters(net)
    assert filters.shape == (64, 7, 7, 3)  # RGB filters, shown in colour
    assert filter_grid(filters).shape == (8 * 8 - 1, 8 * 8 - 1, 3)


def test_overlay_blends_a_colour_map():
    image = np.full((16, 16, 3), 100, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    heat[0, 0] = 1.0
    assert np.array_equal(overlay(image, heat, alpha=0.0), image)
    full = overlay(image, heat, alpha=1.0)  # heatmap resized to the image
    assert full.shape == (16, 16, 3) and full.dtype == np.uint8
    assert full[0, 0].tolist() == [128, 0, 0]  # hot: dark red
    assert full[15, 15].tolist() == [0, 0, 128]  # cold: dark blue
    assert full[8, 8].tolist() == [0, 0, 128]  # the hot pixel stays in its corner
    assert overlay(image[:, :, 0], np.zeros((16, 16)), 0.5).shape == (16, 16, 3)
    assert colormap(np.array([0.0, 1.0])).tolist() == [[0, 0, 128], [128, 0, 0]]
    with pytest.raises(ValueError, match="alpha"):
        overlay(image, heat, alpha=2)


def test_overlay_on_grey_keeps_the_heat_colours_over_coloured_objects():
    from workbench.core.explain.display import as_grey

    blue = np.zeros((8, 8, 3), np.uint8)
    blue[..., 2] = 255
    grey = as_grey(blue)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    assert 64 <= grey.min() and grey.max() <= 255  # dark objects stay visible
    hot = np.ones((8, 8), np.float32)
    # Red heat over a blue square: red in grey, not purple as over the colours.
    r, g, b = overlay(blue, hot, alpha=0.45, grey=True)[0, 0].astype(int)
    assert r > 2 * b and r > 2 * g
    r, g, b = overlay(blue, hot, alpha=0.45)[0, 0].astype(int)
    assert b > r  # the colours mixed: the reason for grey
    assert np.array_equal(overlay(blue, hot, alpha=0.0, grey=True), grey)


def test_cells_after_the_last_map_take_the_empty_value():
    maps = np.zeros((5, 4, 4), np.float32)  # 3 columns, 2 rows: one cell unused
    grid = feature_grid(maps, pad=1, pad_value=-1.0, empty_value=-2.0)
    assert grid.shape == (9, 14)
    assert (grid[5:, 10:] == -2.0).all()  # the empty cell
    assert (grid[5:, 9] == -1.0).all() and (grid[4, :] == -1.0).all()  # gaps round maps
    assert (grid[:4, :4] == 0).all() and (grid[5:, 5:9] == 0).all()
    assert (feature_grid(maps, pad=1, pad_value=-1.0)[5:, 10:] == -1.0).all()  # default


def test_explainer_on_a_bundle_and_image_file(tiny_experiment, tmp_path):
    from workbench.core.train.trainer import Trainer

    tiny_experiment.model.layers = [Component("Conv2d", {"out_channels": 4}), Component("ReLU"),
                                    Component("Flatten"), Component("Linear")]
    path = Trainer(tiny_experiment).fit().save_bundle(tmp_path / "bundle.pt")
    explainer = Explainer(path)
    image_file = f"{tiny_experiment.data.folder}/red/red_000.png"
    image = explainer.load(image_file)
    assert image.tensor.shape == (3, 8, 8)
    assert image.display.shape == (8, 8, 3) and image.display.dtype == np.uint8
    assert image.display[..., 0].mean() > image.display[..., 2].mean()  # red, un-normalised
    assert [c.label for c in explainer.layers()] == ["1 Conv2d", "2 ReLU"]
    assert explainer.default_layer().label == "1 Conv2d"
    result = explainer.grad_cam(image_file, target_class="blue")
    assert (result.class_name, result.class_index) == ("blue", 0)
    assert result.heatmap.shape == (8, 8)
    assert overlay(image.display, result.heatmap).shape == (8, 8, 3)
    assert explainer.feature_maps(image, "1 Conv2d").shape == (4, 8, 8)
    assert explainer.filters().shape == (4, 3, 3, 3)
    with pytest.raises(WorkbenchError, match="not one of this model's classes"):
        explainer.grad_cam(image_file, target_class="purple")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(WorkbenchError, match="bad.png"):
        explainer.load(bad)
    assert explainer.grad_cam(Image.open(image_file)).heatmap.shape == (8, 8)


def test_the_input_is_stretched_back_to_the_originals_proportions():
    from workbench.core.explain.display import in_proportion

    seen = np.zeros((8, 8, 3), np.uint8)
    seen[2:6, 6] = 255  # a mark at x = 6/8 .. 7/8 of the squashed input
    wide = in_proportion(seen, (16, 48))  # a 48x16 original: 3 times as wide as high
    assert wide.shape == (8, 24, 3)
    columns = np.flatnonzero(wide[4, :, 0])
    assert columns.tolist() == [18, 19, 20]  # the same fraction of the width: 6/8 .. 7/8
    assert in_proportion(seen, (48, 16)).shape == (24, 8, 3)  # a tall one: taller
    assert in_proportion(seen, (30, 30)) is seen  # same proportions: as it is
    assert max(in_proportion(seen, (1, 10000)).shape[:2]) == 2048  # a panorama: capped
    # A heatmap over the input, drawn over the stretched picture, peaks where it did.
    heat = np.zeros((4, 4), np.float32)
    heat[:, 3] = 1.0  # the right quarter of the input
    drawn = overlay(wide, heat, alpha=1.0)
    reddest = drawn[4, :, 0].astype(int) - drawn[4, :, 2].astype(int)
    assert 0.75 <= (np.argmax(reddest) + 0.5) / 24 <= 1.0


def _mlp_bundle(experiment, path):
    from workbench.core.bundle import save_bundle

    torch.manual_seed(0)
    model, _ = build_network(experiment.model.layers, (3, 8, 8), 2)
    save_bundle(path, experiment, ["a", "b"], model.state_dict())
    return path


def test_the_explained_image_keeps_its_proportions_and_stays_upright(tiny_experiment, tmp_path):
    explainer = Explainer(_mlp_bundle(tiny_experiment, tmp_path / "b.pt"))
    wide = Image.new("RGB", (48, 16), (0, 0, 0))
    wide.paste((0, 255, 0), (36, 4, 44, 12))  # a green square at x = 0.75 .. 0.92
    wide.save(tmp_path / "wide.png")
    image = explainer.load(tmp_path / "wide.png")
    assert image.display.shape == (8, 8, 3)  # what the network saw: squashed to 8x8
    assert image.source_size == (16, 48) and image.whole
    shown = image.shown()
    assert shown.shape == (8, 24, 3)
    green = np.flatnonzero(shown[4, :, 1] > 128)
    assert 0.7 <= green.min() / 24 and green.max() / 24 <= 0.95

    # A JPEG stored 48 wide, 16 high, whose EXIF says "turn a quarter clockwise": upright it
    # is 16 wide, 48 high, and the red corner stored top-left is shown top-right.
    stored = Image.new("RGB", (48, 16), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 16, 16))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    upright = explainer.load(tmp_path / "rotated.jpg")
    assert upright.source_size == (48, 16)
    shown = upright.shown()
    assert shown.shape == (24, 8, 3)
    assert shown[0, -1, 0] > 200 and shown[-1, 0, 2] > 200  # red top-right, blue below


def test_a_cropping_pipeline_shows_the_input_as_the_network_saw_it(tiny_experiment, tmp_path):
    tiny_experiment.augment.transforms = [Component("Resize", {"size": [12]}),
                                          Component("CenterCrop", {"size": [8, 8]})]
    explainer = Explainer(_mlp_bundle(tiny_experiment, tmp_path / "b.pt"))
    Image.new("RGB", (48, 16)).save(tmp_path / "wide.png")
    image = explainer.load(tmp_path / "wide.png")
    assert not image.whole and image.shown() is image.display
