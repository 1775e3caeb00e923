"""“Use the last run's settings” at start-up, while torch still loads in the background:
the click validates nothing on the GUI thread (that would import torch beside the loader
thread); the run's sections replace the lost ones once torch is ready, and the message
said again then no longer offers them."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton

import workbench.core.catalog as catalog
import workbench.qt.app as app
from workbench.core.session import session_path, session_text

from test_session_cut_network import TAKE, TIMEOUT_MS, _experiment, _last_run, _types
from test_startup import loader  # noqa: F401  (the fixture: a deferred loader, as the app's)


def _boxes(window) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def _cut_session(tmp_path, image_folder, bad_layer: bool):
    exp = _experiment(image_folder)
    run_dir = _last_run(tmp_path, exp)
    saved = _experiment(image_folder)
    if bad_layer:  # refused by the registries only: found once torch is ready
        saved.model.layers[0].params["out_channels"] = -3
    text = session_text(saved, b"", "Model", last_run=str(run_dir))
    session_path().parent.mkdir(parents=True, exist_ok=True)
    session_path().write_text(text[:text.index('"AdaptiveAvgPool2d"') + 5])
    return exp


@pytest.mark.parametrize("bad_layer", [False, True])
def test_taking_the_last_run_waits_for_torch_and_is_offered_once(
        qtbot, tmp_path, image_folder, loader, monkeypatch, bad_layer):  # noqa: F811
    exp = _cut_session(tmp_path, image_folder, bad_layer)
    checked = []  # the loader's state at each validation against the registries
    real = catalog.validate
    monkeypatch.setattr(catalog, "validate",
                        lambda e: (checked.append(loader.state), real(e))[1])
    window = app.create_window()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
    [box] = _boxes(window)
    [take] = [b for b in box.findChildren(QPushButton) if b.text() == TAKE]
    cut = _types(window.experiment)
    take.click()
    assert checked == []  # nothing validated (nor torch imported) on the GUI thread
    assert _types(window.experiment) == cut  # not yet: once torch is ready
    assert loader.state == "deferred"
    loader.start()
    qtbot.waitUntil(loader.is_ready, timeout=TIMEOUT_MS)
    assert checked and set(checked) == {"ready"}
    assert _types(window.experiment) == _types(exp)
    assert window.experiment.optimizer.type == "AdamW"
    assert window.experiment.training.epochs == 40
    if bad_layer:  # said again with what the registries reset: the run is not offered twice
        qtbot.waitUntil(lambda: bool(_boxes(window)), timeout=TIMEOUT_MS)
        [again] = _boxes(window)
        assert "out_channels" in again.text()
        assert "last run's settings" not in again.text()
        assert not [b for b in again.findChildren(QPushButton) if b.text() == TAKE]
