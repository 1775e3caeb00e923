"""Train tab layout: long messages never make the window taller, the plots keep their height."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from workbench.qt.common import BoundedMessageLabel
from workbench.qt.plots.header import MIN_PLOT_HEIGHT

ERROR = ("training diverged: the loss exploded to 6.02e+08 at batch 4 of epoch 1, over 100 "
         "times the 1.39 of guessing every class equally. The learning rate (10) is far too "
         "large: lower it (e.g. to 0.001, or find one with the LR finder) and start again. ")
NOTE = ("Note: no pretrained weights were found for this backbone, so it trains from random "
        "weights; put the weights file in the models folder (or untick 'pretrained') to "
        "silence this. ")
CACHE = ("Decoded-image cache: off: the decoded images would take 1.2 GB, more than the "
         "500 MB allowed, so every epoch decodes them again; raise the limit under Device "
         "and run to keep them. ")


def _settle(qtbot):
    for _ in range(3):  # layouts, then the splitter moving for the messages
        QApplication.processEvents()
        qtbot.wait(20)


def test_a_bounded_label_asks_for_a_few_lines_needs_one_and_keeps_its_text(qtbot):
    host = QWidget()
    label = BoundedMessageLabel("", max_lines=3)
    column = QVBoxLayout(host)
    column.addWidget(label)
    column.addStretch(1)  # the label gets what it asks for, no more
    qtbot.addWidget(host)
    host.resize(400, 300)
    host.show()
    line = label.fontMetrics().lineSpacing()
    assert label.minimumSizeHint().height() == 0  # empty: no room taken

    text = "Training failed: " + ERROR * 3
    label.show_message(text, "error")
    _settle(qtbot)
    assert label.text() == text and label.level == "error"
    assert label.minimumSizeHint().height() <= line + 2
    assert line * 3 - 2 <= label.sizeHint().height() <= line * 3 + 2
    assert label.is_cut() and label.toolTip() == text  # the whole text, on hover
    lines = label.visible_lines()
    assert 1 <= len(lines) <= 3 and lines[-1].endswith("…")
    width = label.contentsRect().width()
    assert all(label.fontMetrics().horizontalAdvance(s.rstrip()) <= width for s in lines)

    label.setToolTip("own tip")
    label.show_message("Finished 2 epochs.", "ok")
    _settle(qtbot)
    assert not label.is_cut() and label.toolTip() == "own tip"
    assert label.sizeHint().height() <= line + 2


@pytest.fixture
def window(train_window):
    return train_window


def _long_messages(panel):
    panel.status.show_message("Training failed: " + ERROR * 3, "error")  # ~800 characters
    assert len(panel.status.text()) > 400
    panel.notes_label.show_message("\n".join([NOTE * 2] * 3), "warning")
    panel.notes_label.show()
    panel.cache_bar.show()
    panel.cache_label.setText(CACHE * 3)
    panel.run_label.show_message("The learning-rate finder proposes 0.0016 for this network "
                                 "and data: " + "the Doctor tab's button sets it. " * 8, "ok")


@pytest.mark.parametrize("size", [(1366, 768), (1100, 706)])
def test_long_messages_never_make_the_window_taller(qtbot, window, size):
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    _settle(qtbot)
    panel = window.train_panel
    idle_min = window.minimumSizeHint().height()
    assert idle_min <= 700
    assert window.height() == size[1]

    _long_messages(panel)
    _settle(qtbot)
    assert window.minimumSizeHint().height() <= idle_min
    assert window.height() == size[1]  # not grown off a 768-px screen
    assert panel.minimumSizeHint().height() <= 640
    # Nothing scrolls at these sizes, and every plot keeps a readable height.
    assert not panel.scroll.verticalScrollBar().isVisible()
    assert all(v.height() >= MIN_PLOT_HEIGHT for v in panel.plots.views.values())
    # Each message shows at least its first line; cut short, the whole is its tooltip.
    for label in (panel.status, panel.notes_label, panel.cache_label, panel.run_label):
        assert label.height() >= label.fontMetrics().lineSpacing()
        assert label.visibleRegion().boundingRect().height() >= label.fontMetrics().height()
        if label.is_cut():
            assert label.toolTip() == label.text()
    assert panel.status.text().startswith("Training failed: training diverged")
    # The messages fit between the progress bar and the plots: nothing covers anything.
    stack = [panel.progress, panel.status, panel.notes_label, panel.cache_label, panel.plots,
             panel.run_label]
    bottoms = [w.mapTo(panel, w.rect().bottomLeft()).y() for w in stack]
    tops = [w.mapTo(panel, w.rect().topLeft()).y() for w in stack]
    assert all(bottoms[i] < tops[i + 1] for i in range(len(stack) - 1)), (tops, bottoms)
    assert bottoms[-1] < panel.height()


def test_at_a_big_window_long_messages_show_in_full(qtbot, window):
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    _settle(qtbot)
    panel = window.train_panel
    panel.status.show_message("Training failed: " + ERROR, "error")  # about 250 characters
    _settle(qtbot)
    # The splitter gave the message its lines, from the settings above (which scroll).
    assert not panel.status.is_cut(), (panel.status.height(), panel.status.sizeHint())
    assert all(v.height() >= MIN_PLOT_HEIGHT for v in panel.plots.views.values())


def test_a_window_too_short_for_the_tab_scrolls_it_instead_of_squashing_the_plots(qtbot, window):
    window.resize(1366, 400)  # shorter than the window allows: it keeps its minimum
    window.show()
    qtbot.waitExposed(window, timeout=30000)
    panel = window.train_panel
    _long_messages(panel)
    _settle(qtbot)
    assert window.height() <= 700
    assert all(v.height() >= MIN_PLOT_HEIGHT for v in panel.plots.views.values())
    # The plots keep their places one under another, not stacked over each other.
    views = list(panel.plots.views.values())
    top_row, bottom_row = views[0], views[3]
    assert top_row.mapTo(panel.plots, top_row.rect().bottomLeft()).y() < \
        bottom_row.mapTo(panel.plots, bottom_row.rect().topLeft()).y()
