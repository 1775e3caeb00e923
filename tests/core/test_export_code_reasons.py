"""The exported PyTorch code says why it skips a file in Workbench's own words: "empty file
(0 bytes)", what to do about a HEIC photo, "not an image file", not Pillow's "cannot identify
image file" for all three."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from PIL import Image

from helpers import random_bundle
from workbench.core.data import images
from workbench.core.errors import ImageDecodeError
from workbench.core.export.code import export_code


@pytest.fixture
def exported(tmp_path, tiny_experiment):
    """(folder, bundle): the bundle of ``tiny_experiment`` and its code as model.py."""
    bundle, _ = random_bundle(tmp_path / "bundle.pt", tiny_experiment)
    export_code(bundle, tmp_path / "model.py")
    return tmp_path, bundle


def _unreadable(folder):
    """Files the app cannot read, each with the reason it gives (load_image's)."""
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("shopping list: eggs, milk\n")
    (folder / "iphone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    (folder / "camera.HEIF").write_bytes(b"\x00\x00\x00\x18ftypmif1" + bytes(64))
    (folder / "damaged.avif").write_bytes(b"\x00\x00\x00\x1cftypavif" + bytes(8))
    reasons = {}
    for name in ("empty.jpg", "notes.jpg", "iphone.heic", "camera.HEIF", "damaged.avif"):
        with pytest.raises(ImageDecodeError) as e:
            images.load_image(folder / name, 3)
        reasons[str(folder / name)] = e.value.reason
    return reasons


def test_the_exported_code_skips_each_file_with_the_apps_reason(exported):
    folder, bundle = exported
    reasons = _unreadable(folder)
    assert reasons[str(folder / "empty.jpg")] == "empty file (0 bytes)"
    assert reasons[str(folder / "notes.jpg")].startswith("not an image file")
    assert "install pillow-heif" in reasons[str(folder / "iphone.heic")]
    good = folder / "good.png"
    Image.new("RGB", (12, 12), (200, 30, 30)).save(good)
    done = subprocess.run([sys.executable, "model.py", str(bundle), *reasons, str(good)],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{good} " in done.stdout
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == [f"skipped {path}: {reason}" for path, reason in reasons.items()]
    assert "cannot identify" not in done.stderr and "Traceback" not in done.stderr
    assert f"{len(reasons)} of {len(reasons) + 1} files skipped" in done.stderr


def test_preprocess_raises_the_reason_and_the_texts_are_the_apps(exported):
    folder, _ = exported
    spec = importlib.util.spec_from_file_location("exported_reasons", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The texts are copied from workbench.core.data.images when the code is written.
    assert module.EMPTY_FILE == images.EMPTY_FILE
    assert module.NOT_AN_IMAGE == images.NOT_AN_IMAGE
    assert module.PHOTO_FORMAT_HINTS == {e: images.photo_format_hint(e)
                                         for e in images.PHOTO_FORMATS}
    for name, reason in _unreadable(folder).items():
        with pytest.raises(module.UnreadableImageError) as e:
            module.preprocess(name)
        assert str(e.value) == reason
        assert isinstance(e.value, ValueError)  # what predict() callers caught before


def test_a_picture_over_pillows_pixel_limit_is_skipped_not_the_end_of_the_run(
        exported, monkeypatch, capsys):
    """Pillow refuses a picture over twice its pixel limit with DecompressionBombError,
    which is no OSError: one huge panorama stopped predict() for every file."""
    folder, bundle = exported
    spec = importlib.util.spec_from_file_location("exported_bomb", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    big, small = folder / "big.png", folder / "small.png"
    Image.new("RGB", (64, 64), (10, 200, 10)).save(big)
    Image.new("RGB", (8, 8), (10, 200, 10)).save(small)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 is over twice that
    out = module.predict(model, [str(big), str(small)])
    assert out[0] is None and out[1] is not None
    assert f"skipped {big}: cannot be read as an image" in capsys.readouterr().err


def test_a_heic_photo_is_read_once_pillow_heif_is_installed(exported, monkeypatch):
    """The reason says "install pillow-heif": once it is, the exported code uses it (it
    never registered it, so the same reason came back)."""
    import types

    folder, _ = exported
    spec = importlib.util.spec_from_file_location("exported_heif", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    photo = folder / "IMG_0001.HEIC"
    photo.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    registered = []

    def register_heif_opener():  # what pillow-heif does: Pillow then reads the file
        registered.append(1)
        monkeypatch.setattr(Image, "open", lambda p, *a, **k: Image.new("RGB", (16, 16)))

    monkeypatch.setitem(sys.modules, "pillow_heif",
                        types.SimpleNamespace(register_heif_opener=register_heif_opener))
    assert module.preprocess(str(photo)).shape[0] == 3
    assert registered == [1]


def test_a_missing_and_a_truncated_file_get_the_apps_reasons_too(exported, capsys):
    folder, _ = exported
    spec = importlib.util.spec_from_file_location("exported_more", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.FILE_NOT_FOUND, module.CORRUPT) == (images.FILE_NOT_FOUND, images.CORRUPT)
    gone, cut = folder / "gone.jpg", folder / "cut.jpg"
    whole = folder / "whole.jpg"
    Image.effect_noise((256, 256), 64).convert("RGB").save(whole, quality=95)
    cut.write_bytes(whole.read_bytes()[:2000])  # a copy that stopped early
    said = {}
    for path in (gone, cut):
        with pytest.raises(ImageDecodeError) as e:
            images.load_image(path, 3)
        said[path] = e.value.reason
    assert said == {gone: images.FILE_NOT_FOUND, cut: images.CORRUPT}
    out = module.predict(module.build_model(), [str(gone), str(cut), str(whole)])
    assert out[0] is None and out[1] is None and out[2] is not None
    err = capsys.readouterr().err
    for path, reason in said.items():
        assert f"skipped {path}: {reason}\n" in err, err
