"""Every "open an image" dialog lists the same image types (those a dataset scan picks up,
and the phone formats whose message says what to do), and the Augment preview's Original
tooltip names the file's own size and mode and what it was converted to."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from workbench.core.data.images import ACCEPTED_EXTENSIONS, PHOTO_FORMATS
from workbench.core.experiment import Experiment
from workbench.qt.panels.augment.preview import AugmentPreview

WAIT_MS = 20000


def _filters(monkeypatch) -> list[str]:
    """The filters the file dialogs are opened with (each dialog answers "cancelled")."""
    seen: list[str] = []

    def one(_parent, _title, _start, filters, *a, **k):
        seen.append(filters)
        return "", ""

    def many(_parent, _title, _start, filters, *a, **k):
        seen.append(filters)
        return [], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(one))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(many))
    return seen


def _patterns(filters: str) -> list[str]:
    images = filters.split(";;")[0]
    assert images.startswith("Images (") and images.endswith(")")
    return images[len("Images ("):-1].split()


def test_every_image_dialog_lists_every_accepted_type_and_the_phone_formats(qtbot,
                                                                           monkeypatch):
    from workbench.qt.panels.explain.panel import ExplainDialog
    from workbench.qt.panels.predict.layout import ask_images

    seen = _filters(monkeypatch)
    preview = AugmentPreview(Experiment())
    qtbot.addWidget(preview)
    preview._choose_file()                                    # Augment's "Open image…"
    assert ask_images(preview, "") == []                      # Predict's "Open images…"
    ExplainDialog.choose_image(SimpleNamespace(image_path=""))  # Explain's "Open image…"
    assert len(seen) == 3 and len(set(seen)) == 1, seen
    patterns = _patterns(seen[0])
    for ext in (*ACCEPTED_EXTENSIONS, *PHOTO_FORMATS):  # .avif, .jfif, .pgm...; .heic
        assert f"*{ext}" in patterns
    assert len(patterns) == len(set(patterns))  # .avif once, readable or not
    assert seen[0].endswith(";;All files (*)")


def _preview(qtbot) -> AugmentPreview:
    exp = Experiment()
    exp.data.input_size = [32, 32]
    exp.augment.transforms = []
    preview = AugmentPreview(exp)
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitSignal(preview.preview_updated, timeout=WAIT_MS).wait()
    return preview


def _tip(qtbot, preview, path) -> str:
    with qtbot.waitSignal(preview.preview_updated, timeout=WAIT_MS):
        assert preview.open_path(str(path))
    return preview.original.toolTip()


@pytest.mark.parametrize("mode, name, size", [
    ("I;16", "sixteen.png", (64, 48)), ("CMYK", "cmyk.jpg", (64, 48)),
    ("LA", "la_alpha.png", (64, 48)), ("RGBA", "rgba.png", (64, 48)),
    ("P", "palette.png", (64, 48)), ("I;16", "big16.png", (4032, 3024))])
def test_the_original_tooltip_names_the_files_mode_and_the_conversion(qtbot, tmp_path, mode,
                                                                     name, size):
    path = tmp_path / name
    if mode == "I;16":
        Image.fromarray(np.full(size[::-1], 40000, np.uint16)).save(path)
    else:
        Image.new(mode, size).save(path)
    preview = _preview(qtbot)
    tip = _tip(qtbot, preview, path)
    assert preview.image.mode == "RGB"
    assert tip == f"{path} ({size[0]}x{size[1]}, {mode}, converted to RGB)"
    preview.shutdown()


def test_the_original_tooltip_of_an_unconverted_file_gives_its_mode_once(qtbot, tmp_path):
    plain, big = tmp_path / "plain.png", tmp_path / "big.jpg"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(plain)
    Image.new("RGB", (4032, 3024), (90, 120, 200)).save(big, quality=50)
    grey = tmp_path / "grey.jpg"
    Image.new("L", (4032, 3024), 90).save(grey, quality=50)
    preview = _preview(qtbot)
    assert _tip(qtbot, preview, plain) == f"{plain} (40x30, RGB)"
    tip = _tip(qtbot, preview, big)
    w, h = preview.image.size
    assert tip == f"{big} (4032x3024, RGB; decoded at {w}x{h} for the preview)"
    tip = _tip(qtbot, preview, grey)  # decoded small and converted: both said
    w, h = preview.image.size
    assert tip == (f"{grey} (4032x3024, L, converted to RGB; decoded at {w}x{h} for the "
                   f"preview)")
    preview.shutdown()
