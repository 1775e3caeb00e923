"""Photos from today's largest sensors (108 and 200 megapixels) decode; a few bytes that
claim more are refused as a decompression bomb; Pillow's warning about either never
reaches the terminal; and huge full decodes run one at a time."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import threading
import time

import numpy as np
import pytest
from PIL import Image

from helpers import random_bundle, run_cli
from workbench.core.data import images
from workbench.core.data.images import load_image
from workbench.core.errors import ImageDecodeError

# Every test here fails if Pillow's DecompressionBombWarning escapes (it is printed
# with a file:line trace otherwise).
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")

#: Four 8x8 blocks of a flat grey baseline JPEG: "DC unchanged, end of block" in the
#: standard Huffman tables, 6 bits a block; what Pillow writes for such an image.
_FOUR_FLAT_BLOCKS = bytes.fromhex("28a28a")


def flat_jpeg(path, width: int, height: int, scan: bytes | None = None):
    """A real ``width`` x ``height`` mid-grey JPEG, written at once (1.3 MB for 108 MP,
    where encoding one takes a second); ``scan``: other entropy-coded data (b"": a file
    that only claims the size)."""
    buf = io.BytesIO()
    Image.new("L", (32, 8), 128).save(buf, "JPEG", quality=75)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
    assert bytes(data[start:-2]) == _FOUR_FLAT_BLOCKS  # the scan of the 32x8 image
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    assert blocks % 4 == 0
    if scan is None:
        scan = _FOUR_FLAT_BLOCKS * (blocks // 4)
    header = bytes(data[:start])
    path.write_bytes(header + scan + b"\xff\xd9")
    return path


@pytest.mark.parametrize("size", [(12000, 9000), (16320, 12240)], ids=["108MP", "200MP"])
def test_the_largest_phone_photos_decode(tmp_path, size):
    path = flat_jpeg(tmp_path / "photo.jpg", *size)
    img = load_image(path, 3, min_side=64)  # as for training at 32 px
    assert img.mode == "RGB" and min(img.size) >= 64
    assert img.width / img.height == pytest.approx(size[0] / size[1], rel=0.02)
    assert np.abs(np.asarray(img, dtype=int) - 128).max() <= 1


def test_a_few_bytes_that_claim_400_megapixels_are_a_bomb(tmp_path):
    path = flat_jpeg(tmp_path / "bomb.jpg", 20000, 20000, scan=b"")
    assert path.stat().st_size < 1000
    with pytest.raises(ImageDecodeError) as info:
        load_image(path, 3, min_side=64)
    assert info.value.reason == ("decompression bomb: 400,000,000 pixels, over the limit "
                                 "of 268,435,456")
    assert images.pixel_limit() == images.MAX_PIXELS == 16384 * 16384


def test_scan_and_predict_take_a_200_megapixel_photo_quietly(tmp_path, capsys,
                                                             tiny_experiment):
    for cls in ("a", "b"):
        (tmp_path / "d" / cls).mkdir(parents=True)
        Image.new("RGB", (8, 8), (200, 0, 0)).save(tmp_path / "d" / cls / "small.png")
    photo = flat_jpeg(tmp_path / "d" / "a" / "phone.jpg", 16320, 12240)
    bomb = flat_jpeg(tmp_path / "d" / "b" / "bomb.jpg", 20000, 20000, scan=b"")
    code, out, err = run_cli(capsys, "scan", tmp_path / "d", "--json")
    assert code == 0, err
    assert [u["path"] for u in json.loads(out)["unreadable"]] == [str(bomb)]
    assert "Warning" not in err
    bundle, _ = random_bundle(tmp_path / "b.pt", tiny_experiment)
    code, out, err = run_cli(capsys, "predict", bundle, photo, "--json")
    assert code == 0, err
    assert "error" not in json.loads(out)[0] and "Warning" not in err


def test_huge_full_decodes_run_one_at_a_time(tmp_path, monkeypatch):
    # Stand-ins: 20x20 images count as huge when the threshold is 100 pixels.
    monkeypatch.setattr(images, "BIG_DECODE_PIXELS", 100)
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        Image.new("RGB", (20, 20), (i, 0, 0)).save(paths[-1])
    Image.new("RGB", (8, 8)).save(tmp_path / "small.png")
    inside, most = [0], [0]
    lock = threading.Lock()
    real = images.to_channels

    def slow_to_channels(img, channels):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        with lock:
            inside[0] -= 1
        return real(img, channels)

    monkeypatch.setattr(images, "to_channels", slow_to_channels)
    threads = [threading.Thread(target=load_image, args=(p, 3)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    # Small images are not held up by a huge one being decoded.
    with images._BIG_DECODE:
        assert load_image(tmp_path / "small.png", 3).size == (8, 8)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_process_forked_during_a_huge_decode_can_decode_huge_images(tmp_path,
                                                                       monkeypatch):
    # A DataLoader worker forked while a thread of the app decodes a huge image.
    monkeypatch.setattr(images, "BIG_DECODE_PIXELS", 100)
    path = tmp_path / "big.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(path)
    with images._BIG_DECODE:
        child = multiprocessing.get_context("fork").Process(target=load_image,
                                                            args=(path, 3))
        child.start()
        child.join(timeout=20)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0


def test_the_health_check_names_a_bomb_as_the_scan_does(tmp_path):
    from workbench.core.data.health.report import check_dataset
    from workbench.core.data.scan import scan_folder
    from workbench.core.experiment import Experiment

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (8, 8), (80 * i, 0, 0)).save(tmp_path / cls / f"{i}.png")
    bomb = flat_jpeg(tmp_path / "a" / "bomb.jpg", 20000, 20000, scan=b"")
    exp = Experiment()
    exp.data.folder = str(tmp_path)
    exp.validate()
    # An index listed without decoding (as the app has it at first): the check meets it.
    report = check_dataset(exp, index=scan_folder(tmp_path))
    assert report.unreadable == [{"path": str(bomb), "reason": (
        "decompression bomb: 400,000,000 pixels, over the limit of 268,435,456")}]
