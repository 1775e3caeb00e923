"""Views subscribing to the current Experiment's events (:mod:`workbench.core.events`).

A panel is built from the :class:`~workbench.core.events.CurrentExperiment` it shows and
connects its handlers in ``__init__`` with :func:`subscribe`, which stops calling a handler
once its widget is deleted (the holder may outlive a panel, a test's Experiment a window).
"""

from __future__ import annotations

from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject

from workbench.core.events import Emitter


def subscribe(owner: QObject, emitter: Emitter, callback: Callable[..., Any],
              replay: bool = False) -> None:
    """Call ``callback(*args)`` on each of ``emitter``'s events while ``owner`` lives.

    ``replay``: also call it now with the last event's arguments, when the emitter
    remembers one (a view made after the news, such as a tab built after the first scan).
    """

    def relay(*args: Any) -> None:
        if shiboken6.isValid(owner):
            callback(*args)
        else:
            emitter.disconnect(relay)

    emitter.connect(relay)
    if replay and emitter.last is not None:
        callback(*emitter.last)
