"""The Model tab's split between the layer cards and the model doctor below them.

By default the doctor is as tall as its rows and the selected finding's explanation ask
(:meth:`~workbench.qt.panels.model.doctor.DoctorList.sizeHint`), never more than
:data:`DOCTOR_SHARE` of the column unless its own minimum needs it, and the layer cards,
what is edited, get the rest: at 125% on a 1366x768 laptop a fixed share (and room for
three rows under one finding) left the cards about 160 px, two cards. The doctor follows
its findings (a fix makes it shorter, the cards taller) until the handle is dragged or a
saved session's sizes are restored: a user's sizes stay.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer
from PySide6.QtWidgets import QSplitter, QWidget

#: The most of the column the doctor takes by default (its minimum aside).
DOCTOR_SHARE = 1 / 3


class NetworkDoctorSplit(QSplitter):
    """``network`` (the layer cards) over ``doctor``, the cards taking the stretch."""

    def __init__(self, network: QWidget, doctor: QWidget):
        super().__init__(Qt.Orientation.Vertical, objectName="model.network_doctor")
        self.addWidget(network)
        self.addWidget(doctor)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.user_sized = False  # dragged, or a drag restored from the session: left alone
        self.splitterMoved.connect(self._on_moved)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # once the doctor's rows and text are laid out
        self._timer.timeout.connect(self.fit)

    def restoreState(self, state: QByteArray | bytes) -> bool:  # noqa: N802  (Qt override)
        restored = super().restoreState(state)
        self.user_sized = self.user_sized or restored
        return restored

    def _on_moved(self, _pos: int, _index: int) -> None:
        self.user_sized = True

    def event(self, event: QEvent) -> bool:
        # A child asks for another height (the doctor's findings or explanation changed).
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show):
            self._timer.start()
        return super().event(event)

    def resizeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        super().resizeEvent(event)
        self._timer.start()

    def fit(self) -> None:
        """Give the doctor the height it asks for (within its share) and the cards the
        rest, unless the user has sized them."""
        sizes = self.sizes()
        if self.user_sized or len(sizes) != 2 or not self.isVisible() or not sum(sizes):
            return
        doctor = self.widget(1)
        total = sum(sizes)
        height = max(doctor.minimumSizeHint().height(),
                     min(doctor.sizeHint().height(), int(total * DOCTOR_SHARE)))
        if sizes[1] != height:
            self.setSizes([total - height, height])
