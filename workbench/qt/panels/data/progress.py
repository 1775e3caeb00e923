"""The Data tab's scan progress bar, redrawn at most about ten times a second.

``QProgressBar.setValue`` repaints at once (synchronously) whenever its text changes, and
a synchronous repaint also paints whatever else in the window waits for a repaint (the
thumbnail grid, the bar chart). A scan of a large folder reports progress every 50 ms or
so; applied as it comes, every report cost the event loop a repaint of the window. Here
the latest report is kept and shown on the next tick of a 100 ms timer, as a deferred
update (painted with the rest of the window's changes, once an event-loop turn).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QProgressBar

#: The shortest time between two updates of the bar.
INTERVAL_MS = 100


class ScanProgress(QObject):
    """Feeds ``bar`` the latest of the reports given to :meth:`report`, throttled."""

    def __init__(self, bar: QProgressBar, parent: QObject | None = None):
        super().__init__(parent)
        self.bar = bar
        self._pending: tuple[int, int] | None = None
        self._shown_at = float("-inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)

    def report(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` now when the bar has not changed for
        :data:`INTERVAL_MS`, else once that time has passed (a later report replaces it)."""
        self._pending = (done, total)
        if self._timer.isActive():
            return
        wait_ms = INTERVAL_MS - (time.monotonic() - self._shown_at) * 1000
        if wait_ms <= 0:
            self._flush()
        else:
            self._timer.start(int(wait_ms) + 1)

    def show_now(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` at once (a new stage begins: 0 of its total); a
        report not shown yet is dropped. ``total`` 0: a busy bar, no total known."""
        self.stop()
        self._set(done, total)

    def stop(self) -> None:
        """Drop a report not shown yet (the scan finished, failed or was replaced)."""
        self._timer.stop()
        self._pending = None

    @Slot()
    def _flush(self) -> None:
        if self._pending is None:
            return
        done, total = self._pending
        self._pending = None
        self._set(done, max(total, 1))

    def _set(self, done: int, total: int) -> None:
        self._shown_at = time.monotonic()
        bar = self.bar
        # With updates off, setValue() does not repaint; turning them back on asks for one
        # deferred update instead.
        was_enabled = bar.updatesEnabled()
        bar.setUpdatesEnabled(False)
        try:
            bar.setRange(0, total)
            bar.setValue(done)
        finally:
            bar.setUpdatesEnabled(was_enabled)
