"""The Augment tab at 1100x706: a transform of five parameter rows (RandomCrop) shows them
all, without scroll bars (a UI review: two and a half rows showed, behind two scroll
bars, and the size row's "auto" box had no label in view)."""

from __future__ import annotations

from workbench.core.experiment import Experiment
from workbench.core.registry import Component


def test_randomcrops_parameters_fit_at_1100x706(qtbot):
    from workbench.qt.main_window import MainWindow
    from workbench.qt.startup import torch_loader

    torch_loader().ensure_loaded()
    exp = Experiment()
    exp.augment.transforms = [Component("RandomHorizontalFlip"), Component("RandomCrop"),
                              Component("ColorJitter")]
    window = MainWindow(exp)
    qtbot.addWidget(window)
    window.resize(1100, 706)
    window.show()
    qtbot.waitExposed(window)
    panel = window.augment_panel
    window.tabs.setCurrentWidget(panel)
    panel.list.setCurrentRow(1)
    area = panel.form_area
    qtbot.waitUntil(lambda: panel.form is not None and panel.form.isVisible(), timeout=20000)

    def fits() -> bool:
        room, need = area.viewport().size(), panel.form.sizeHint()
        return room.width() >= need.width() and room.height() >= need.height()

    qtbot.waitUntil(fits, timeout=5000)
    assert set(panel.form.editors) >= {"size", "padding", "pad_if_needed", "fill",
                                       "padding_mode"}
