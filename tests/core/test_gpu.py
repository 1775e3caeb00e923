"""The CUDA paths, on a real GPU: AMP (bf16, and fp16 with its GradScaler), channels-last,
pinned batches, the batch-wise augmentation on the device, the frozen-backbone feature
cache, a bundle trained on the GPU predicting on the CPU, out-of-memory translation, and
the distributed path's process group (NCCL) and DistributedDataParallel.

Every test is skipped unless ``torch.cuda.is_available()``. ``WORKBENCH_GPU_TEST_DEVICE=cpu``
runs the same tests on the CPU instead (a dry run of the tests' own code on a machine
without a GPU: the CUDA-only expectations are left out, the out-of-memory test is skipped,
and the distributed test uses Gloo).
"""

from __future__ import annotations

import os
import socket

import pytest
import torch

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component as C
from workbench.core.train.trainer import Callback, Trainer

DEVICE = os.environ.get("WORKBENCH_GPU_TEST_DEVICE", "cuda")
CUDA = DEVICE.startswith("cuda")
pytestmark = pytest.mark.skipif(CUDA and not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
needs_cuda = pytest.mark.skipif(not CUDA, reason="CUDA only (the dry run is on the CPU)")


def _bf16_ok() -> bool:
    return not CUDA or (torch.cuda.is_available() and torch.cuda.is_bf16_supported())


@pytest.fixture
def folder(tmp_path):
    return make_image_folder(tmp_path / "data", per_class=24, size=20)


def _experiment(folder, amp="off", size=16, layers=None, transforms=None, epochs=3,
                batch=16, lr=3e-3) -> Experiment:
    exp = Experiment()  # seed-cnn unless layers are given
    exp.data.folder = folder
    exp.data.input_size = [size, size]
    exp.data.batch_size = batch
    exp.data.val_fraction = 0.25
    if layers is not None:
        exp.model.layers, exp.model.preset = layers, None
    if transforms is not None:
        exp.augment.transforms = transforms
    exp.optimizer = C("Adam", {"lr": lr})
    exp.training.epochs = epochs
    exp.training.device = DEVICE
    exp.training.amp = amp
    exp.training.channels_last = True
    return exp.validate()


class Probe(Callback):
    """The run's info, its initial weights, and what the first Conv2d saw in training:
    ``(device type, input dtype, input channels-last, output dtype)``."""

    def __init__(self):
        self.info, self.initial, self.seen = {}, {}, []

    def on_fit_start(self, trainer, info):
        self.info = info
        self.initial = {k: v.detach().cpu().clone() for k, v in
                        trainer.model.state_dict().items()}
        conv = next((m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d)),
                    None)
        if conv is not None:
            conv.register_forward_hook(self._hook)

    def _hook(self, module, args, out):
        if module.training and len(self.seen) < 4:
            x = args[0]
            self.seen.append((x.device.type, x.dtype,
                              x.is_contiguous(memory_format=torch.channels_last), out.dtype))


def _finite_history(result):
    assert result.error is None
    for m in result.history:
        for key in ("train_loss", "val_loss"):
            assert m[key] is not None and torch.isfinite(torch.tensor(m[key])), (key, m)


def _on_cpu_and_contiguous(model):
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        assert t.device.type == "cpu" and t.is_contiguous(), name


# -- AMP and channels-last through the Trainer ------------------------------------------
@pytest.mark.parametrize("amp", ["bf16", "fp16", "off"])
def test_cuda_training_with_amp_and_channels_last(folder, amp):
    if amp == "bf16" and not _bf16_ok():
        pytest.skip("this GPU has no bfloat16")
    exp = _experiment(folder, amp=amp, epochs=4)
    probe = Probe()
    trainer = Trainer(exp, [probe])
    result = trainer.fit()
    _finite_history(result)
    assert len(result.history) == 4
    info = probe.info
    assert info["device"].startswith(DEVICE.split(":")[0])
    assert probe.seen, "the first Conv2d never ran in training"
    dev, in_dtype, channels_last, out_dtype = probe.seen[0]
    assert dev == DEVICE.split(":")[0] and in_dtype == torch.float32
    if CUDA:
        assert info["amp"] == amp and info["channels_last"] is True
        assert channels_last, "the batch reached the network in the contiguous layout"
        want = {"bf16": torch.bfloat16, "fp16": torch.float16, "off": torch.float32}[amp]
        assert out_dtype == want
        scaler = trainer._scaler
        assert (scaler is not None) == (amp == "fp16")
        if scaler is not None:
            assert 0 < scaler.get_scale() < float("inf")
    else:
        assert info["amp"] == "off" and info["channels_last"] is False
        assert out_dtype == torch.float32
    # The weights moved (an fp16 run may skip its first steps while the scale settles).
    after = result.model.state_dict()
    assert any(not torch.equal(after[k], v) for k, v in probe.initial.items())
    if amp != "fp16":
        assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    # The result is handed back on the CPU in the contiguous layout (what a bundle saves).
    _on_cpu_and_contiguous(result.model)


# -- the batch-wise augmentation on the device -------------------------------------------
#: One random op each (seeded: the draws are made on the CPU, so they are the same on
#: every device); GaussianNoise draws per pixel on the device and is left out.
AUGMENT = {
    "RandomResizedCrop": {}, "RandomHorizontalFlip": {"p": 0.5}, "RandomRotation": {},
    "ColorJitter": {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.05},
    "RandomAffine": {"shear": 5.0}, "RandomPerspective": {"p": 0.7}, "GaussianBlur": {},
    "RandomErasing": {"p": 0.7}, "RandomGrayscale": {"p": 0.5},
}


@pytest.mark.parametrize("name", AUGMENT)
def test_cuda_batch_augmentation_matches_the_cpu(folder, name):
    from workbench.core.data.augment.pipeline import split_pipeline

    exp = _experiment(folder, size=32, transforms=[C(name, AUGMENT[name])])
    split = split_pipeline(exp)
    h, w = split.size
    x = torch.randint(0, 256, (12, 3, h, w), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(1))
    x[..., : w // 3] //= 4  # a dark left third: flips and rotations change pixels
    # The deterministic evaluation rest (scaling and normalising, fused).
    ev_cpu, ev_dev = split.eval(x), split.eval(x.to(DEVICE))
    assert ev_dev.device.type == DEVICE.split(":")[0] and ev_dev.dtype == torch.float32
    torch.testing.assert_close(ev_dev.cpu(), ev_cpu, rtol=0, atol=1e-5)
    # The random training rest, with the same seed on both devices.
    torch.manual_seed(7)
    tr_cpu = split.train(x)
    torch.manual_seed(7)
    tr_dev = split.train(x.to(DEVICE))
    assert tr_dev.device.type == DEVICE.split(":")[0] and tr_dev.shape == tr_cpu.shape
    assert not torch.equal(tr_cpu, ev_cpu), f"{name} changed nothing"
    # In grey levels of the uint8 image (normalised with mean and std 0.5): interpolation
    # and colour maths may round differently on the GPU, by a level here and there (and a
    # nearest-neighbour sample at an exact tie may pick the other pixel). Other draws, or
    # other arithmetic, would change far more.
    grey = (tr_dev.cpu() - tr_cpu).abs() * 0.5 * 255
    assert (grey > 1.01).float().mean().item() <= 0.01, (name, grey.max().item())
    assert grey.mean().item() <= 0.5, (name, grey.mean().item())


def test_cuda_pinned_batches_copy_to_the_device_unchanged(tmp_path):
    from workbench.core.data.augment.pipeline import split_pipeline
    from workbench.core.data.cache import CachedBatches, open_cache
    from workbench.core.data.scan import scan_folder

    folder = make_image_folder(tmp_path / "pin", per_class=6, size=20)
    exp = _experiment(folder)
    paths = [p for p, _ in scan_folder(folder).samples]
    cache, _ = open_cache(paths, split_pipeline(exp), "auto")
    try:
        loader = CachedBatches(cache, list(range(len(paths))), [0] * len(paths), 5,
                               pin=CUDA)
        batches = list(loader)
        assert sum(len(b[0]) for b in batches) == len(paths)
        for x, _, _ in batches:
            assert x.is_pinned() == CUDA
            on_dev = x.to(DEVICE, non_blocking=True)
            if CUDA:
                torch.cuda.synchronize()
            assert torch.equal(on_dev.cpu(), x)
    finally:
        cache.close()


# -- the frozen backbone's feature cache ----------------------------------------------------
def test_cuda_feature_cache_trains_the_weights_it_would_without(folder, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # nothing to find there
    if CUDA:  # the same kernels' rounding on both runs: no TF32
        monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
        monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    layers = [C("Backbone", {"arch": "resnet18", "weights": "random",
                             "mode": "feature_extraction"}), C("Linear")]
    exp = _experiment(folder, size=32, layers=layers, transforms=[], epochs=3)
    # SGD: a step is linear in the gradient, so rounding stays rounding (Adam divides by
    # the gradient's own size, which magnifies it for parameters whose gradient is ~0).
    exp.optimizer = C("SGD", {"lr": 0.05, "momentum": 0.9})
    exp.training.deterministic = True
    cached_probe, live_probe = Probe(), Probe()
    cached_trainer = Trainer(exp, [cached_probe])
    cached = cached_trainer.fit()
    exp.training.feature_cache = "off"
    live = Trainer(exp, [live_probe]).fit()
    assert cached_probe.info["features"] == "cached"
    assert live_probe.info["features"] == "off"
    assert cached_trainer.features.computed == \
        cached_probe.info["num_train"] + cached_probe.info["num_val"]
    _finite_history(cached)
    _finite_history(live)
    a, b = cached.model.state_dict(), live.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-3, atol=1e-4, msg=key)
    for m, n in zip(cached.history, live.history):
        assert m["train_loss"] == pytest.approx(n["train_loss"], rel=1e-3)


# -- a bundle trained on the GPU, predicting on the CPU ----------------------------------
def test_cuda_trained_bundle_predicts_on_the_cpu(folder, tmp_path):
    from pathlib import Path

    from workbench.core.bundle import load_bundle
    from workbench.core.predict import Predictor

    amp = "bf16" if _bf16_ok() else "fp16"
    result = Trainer(_experiment(folder, amp=amp, epochs=2)).fit()
    _finite_history(result)
    path = result.save_bundle(tmp_path / "run" / "bundle.pt")
    # Plain CPU tensors: the file loads on a machine without a GPU.
    data = torch.load(path, map_location="cpu", weights_only=True)
    for key, t in data["state_dict"].items():
        assert t.device.type == "cpu" and t.is_contiguous(), key
    model = load_bundle(path).build_model().eval()
    images = sorted(str(p) for p in Path(folder).rglob("*.png"))[::8]
    pred = Predictor(path, device="cpu")
    results = pred.predict(images, top_k=3)
    assert all(r.error is None and len(r.top) == 3 for r in results)
    x = torch.stack([pred.load(p) for p in images])
    with torch.no_grad():
        probs = torch.softmax(model(x), 1)
        torch.testing.assert_close(probs, torch.softmax(result.model.eval()(x), 1))
    for r, row in zip(results, probs):
        assert r.top[0][0] == pred.classes[int(row.argmax())]
        assert r.top[0][1] == pytest.approx(float(row.max()), abs=1e-6)
    # The same bundle on the GPU: float32 (cuDNN may use TF32), no autocast.
    on_dev = Predictor(path, device=DEVICE)
    assert all(r.error is None for r in on_dev.predict(images, top_k=3))
    with torch.no_grad():
        dev_probs = torch.softmax(on_dev.model(x.to(DEVICE)).float(), 1).cpu()
    torch.testing.assert_close(dev_probs, probs, rtol=0, atol=5e-3)


# -- out of memory ---------------------------------------------------------------------------
@needs_cuda
def test_cuda_out_of_memory_is_translated_and_the_gpu_stays_usable(folder):
    from workbench.core.train.trainer import TrainingOutOfMemory

    class Grab(Callback):
        def on_batch_start(self, trainer, epoch, batch):
            # A petabyte: cudaMalloc refuses it at once (nothing is really allocated).
            torch.empty(1 << 50, dtype=torch.uint8, device=trainer.device)

    with pytest.raises(TrainingOutOfMemory) as caught:
        Trainer(_experiment(folder, batch=16), [Grab()]).fit()
    assert caught.value.batch_size == 16 and caught.value.suggested_batch_size == 8
    assert "ran out of memory" in str(caught.value) and "batch size 8" in str(caught.value)
    assert float(torch.ones(4, device=DEVICE).sum()) == 4.0


# -- the distributed path: process group, DDP, all-reduced metrics ----------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cuda_distributed_path_with_one_process(folder, monkeypatch):
    """torchrun with one process is an ordinary run (WORLD_SIZE 1 changes nothing); here
    a job of one is made to take the distributed path, so NCCL's process group, the DDP
    wrapper, the barrier and every all-reduce run on this GPU."""
    import torch.distributed as dist

    from workbench.core.train.distributed import DistributedContext

    env = {"WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(_free_port())}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(DistributedContext, "active", property(lambda self: True))
    amp = "bf16" if _bf16_ok() else "fp16"
    probe = Probe()
    trainer = Trainer(_experiment(folder, amp=amp, epochs=2), [probe])
    result = trainer.fit()
    _finite_history(result)
    assert probe.info["world_size"] == 1 and probe.info["rank"] == 0
    assert trainer.dist.backend == ("nccl" if CUDA else "gloo")
    assert not dist.is_initialized()  # the run left the process group it started
    assert all(m["val_acc"] is not None for m in result.history)
    assert not any(k.startswith("module.") for k in result.model.state_dict())
    _on_cpu_and_contiguous(result.model)
