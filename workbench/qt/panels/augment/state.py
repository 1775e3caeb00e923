"""The Augment tab as the user left it: the selected step, the sub-tabs shown (Parameters
or a pipeline; 16 draws or Batch), the preview's class and its dataset image, kept in the
session file (:mod:`workbench.core.session`) and chosen again when the app reopens.

Only what differs from a new tab is kept (the first step, the first sub-tabs and "any
class" are not). The class and the image come back once a dataset holding them is loaded
(:attr:`~workbench.qt.panels.augment.preview.AugmentPreview.wanted`); an image no longer
in the dataset gives way to a random one of the class, as a new tab picks.
"""

from __future__ import annotations

from typing import Any


def augment_state(panel: Any) -> dict[str, Any]:
    """The choices of ``panel`` (an AugmentPanel), as JSON values."""
    preview = panel.preview
    state: dict[str, Any] = {}
    for key, index in (("step", panel.list.currentRow()),
                       ("pipelines", panel.pipelines.currentIndex()),
                       ("preview", preview.tabs.currentIndex())):
        if index > 0:
            state[key] = index
    if preview.wanted:  # not taken yet (no dataset loaded): kept as they were
        class_name, image = preview.wanted
    else:  # 0 is "any class"; an image opened from elsewhere is not the dataset's
        class_name = preview.class_combo.currentText() \
            if preview.class_combo.currentIndex() > 0 else ""
        image = preview.image_name if preview.image_class else ""
    state.update({k: v for k, v in (("class", class_name), ("image", image)) if v})
    return state


def restore_augment_state(panel: Any, state: dict[str, Any]) -> None:
    """Choose again on ``panel`` what ``state`` (from :func:`augment_state`) kept; values
    of the wrong kind or out of range are ignored."""
    for key, widget, count in (("step", panel.list, panel.list.count()),
                               ("pipelines", panel.pipelines, panel.pipelines.count()),
                               ("preview", panel.preview.tabs, panel.preview.tabs.count())):
        index = state.get(key)
        if isinstance(index, int) and not isinstance(index, bool) and 0 < index < count:
            if widget is panel.list:
                widget.setCurrentRow(index)
            else:
                widget.setCurrentIndex(index)
    class_name, image = state.get("class"), state.get("image")
    class_name = class_name if isinstance(class_name, str) else ""
    image = image if isinstance(image, str) else ""
    if class_name or image:
        preview = panel.preview
        preview.wanted = (class_name, image)
        if preview.index is not None and preview.index.samples:
            preview.pick_random()  # the dataset is loaded already: choose them now
