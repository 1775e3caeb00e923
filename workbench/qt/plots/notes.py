"""A note centred in a plot that has nothing to show, and why ("No data yet").

An empty plot drew the ticks of a made-up range ("2, 5" on a log axis before a run), which
read as data; a plot whose every value was 0 or NaN drew nothing at all under a legend of
its curves. :class:`PlotNote` says so in the middle of the plot and hides the numbers of
the axes that have no data to measure meanwhile.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

import pyqtgraph as pg  # after PySide6 (see workbench.qt)

#: What an empty plot says.
NO_DATA = "No data yet"
_GREY = (105, 105, 105)


class PlotNote:
    """A grey line of text centred in ``plot``'s view, shown with :meth:`set`.

    Parameters
    ----------
    plot
        The plot.
    axes
        The axes ("left", "bottom") whose numbers are hidden while the note shows.
    ended
        Shown instead of :data:`NO_DATA` once the run has ended (:meth:`set_ended`): "yet"
        no longer holds ("No epoch finished"); ``None``: :data:`NO_DATA` still.

    Attributes
    ----------
    text : str or None
        What the note shows now (``None``: hidden).
    """

    def __init__(self, plot: pg.PlotItem, axes: tuple[str, ...] = ("left", "bottom"),
                 ended: str | None = None):
        self.plot = plot
        self.axes = axes
        self.ended_text = ended
        self.text: str | None = None
        self._asked: str | None = None  # the text given to set()
        self._ended = False
        self.label = pg.LabelItem("", color=_GREY)
        option = self.label.item.document().defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.label.item.document().setDefaultTextOption(option)
        self.label.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the plot
        # A child of the view (not of its data), so it stays centred whatever the range.
        self.label.setParentItem(plot.vb)
        self._centre()
        self.label.setZValue(20)
        self.label.hide()

    def set_ended(self, ended: bool) -> None:
        """Whether the run has ended (and an empty plot will get no data)."""
        self._ended = bool(ended)
        self.set(self._asked)

    def set(self, text: str | None) -> None:
        """Show ``text`` (lines separated by "\\n"); ``None`` hides the note and shows the
        axes' numbers again."""
        self._asked = text
        if text == NO_DATA and self._ended and self.ended_text:
            text = self.ended_text
        if text == self.text:
            return
        self.text = text
        if text is not None:
            item = self.label.item
            item.setTextWidth(-1)  # not wrapped at the last text's width
            self.label.setText("<br>".join(_escape(line) for line in text.split("\n")))
            item.setTextWidth(item.document().idealWidth())  # its lines centred on each other
            self.label.updateMin()
            self.label.resize(self.label.minimumSize())  # no layout sizes it: the text's size
            self._centre()  # the anchor follows the view's size, not the label's
        self.label.setVisible(text is not None)
        for side in self.axes:
            self.plot.getAxis(side).setStyle(showValues=text is None)

    def _centre(self) -> None:
        self.label.anchor(itemPos=(0.5, 0.5), parentPos=(0.5, 0.5))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
