"""Images as browsers save them: Chrome on Windows names a downloaded JPEG ``.jfif``, which
the scan skipped without a word while ``predict`` classified it; and a file that starts
like a JPEG but holds garbage was called "cannot read the file: Truncated File Read",
which reads like a disk or permission problem."""

from __future__ import annotations

from PIL import Image

from workbench.core.data.scan import scan_folder


def test_jfif_and_jpe_downloads_are_images_of_their_class(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / cls / f"{i}.jpg")
    Image.new("RGB", (8, 8)).save(tmp_path / "cat" / "web_1.jfif", format="JPEG")
    Image.new("RGB", (8, 8)).save(tmp_path / "dog" / "web_2.JPE", format="JPEG")
    index = scan_folder(tmp_path)
    assert (str(tmp_path / "cat" / "web_1.jfif"), 0) in index.samples
    assert (str(tmp_path / "dog" / "web_2.JPE"), 1) in index.samples
    assert len(index.samples) == 8 and not index.unreadable


def test_a_jpeg_with_a_garbage_body_is_called_corrupt_not_unreadable(tmp_path):
    from workbench.core.data.images import load_image
    from workbench.core.errors import ImageDecodeError

    bad = tmp_path / "c.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"garbage" * 3)
    try:
        load_image(str(bad), 3)
    except ImageDecodeError as e:
        assert e.reason.startswith("truncated or corrupt image"), e.reason
        assert "cannot read the file" not in e.reason
    else:
        raise AssertionError("a garbage JPEG decoded")


def test_a_png_with_a_garbage_body_is_corrupt_in_our_words_only(tmp_path):
    """A PNG signature and then junk (or a PNG cut short): Pillow's "Truncated File Read"
    and "image file is truncated" said the same again, and read like a disk problem."""
    import io

    from PIL import Image

    from workbench.core.data.images import load_image
    from workbench.core.errors import ImageDecodeError

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buf, "PNG")
    cases = {"garbage.png": b"\x89PNG\r\n\x1a\n" + b"x" * 50,
             "half.png": buf.getvalue()[: len(buf.getvalue()) // 2]}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        try:
            load_image(str(tmp_path / name), 3)
        except ImageDecodeError as e:
            assert e.reason == "truncated or corrupt image", (name, e.reason)
        else:
            raise AssertionError(f"{name} decoded")
