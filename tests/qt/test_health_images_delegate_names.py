"""The Health table's Images captions cut class names with the Class column's delegate,
the one told the dataset's names: the Images delegate has no fallback of its own (one
never told the names would cut nothing)."""

from __future__ import annotations

import pytest

from workbench.qt.panels.data.health.table import (IMAGES, FindingsModel, FindingsTable,
                                                   ImagesDelegate)
from workbench.qt.thumbnails import ThumbnailLoader


def test_the_images_captions_use_the_class_columns_names(qtbot):
    model = FindingsModel(ThumbnailLoader(None, size=80))
    table = FindingsTable(model)
    qtbot.addWidget(table)
    assert table.itemDelegateForColumn(IMAGES).names is table.names
    with pytest.raises(TypeError):
        ImagesDelegate(model, table)  # names required: no delegate that was never told them
