"""What the tabs were left showing, kept in the session and given back when they are built.

:class:`TabStates` holds, for :class:`~workbench.qt.session.SessionKeeper`, the parts of
the session that are not the experiment: the run name typed on the Train tab (for its
next run: ``""`` while a run trains, which owns its name), the runs selected on the Runs
tab, the Tune tab's settings (:mod:`workbench.qt.panels.tune.state`), the Evaluate tab's
model and data (:mod:`workbench.qt.panels.evaluate.state`), the Predict tab's model and
images (:mod:`workbench.qt.panels.predict.state`), the Augment tab's selected step, sub-tabs
and preview image (:mod:`workbench.qt.panels.augment.state`), the sizes of every tab's splitters and
the Data tab's view (Dataset or Health: kept beside the splitters' states, under
:data:`DATA_VIEW`, as its index in one byte).
Tabs are built lazily (:mod:`workbench.qt.lazy_tabs`): each gets its part back when it is
built, and until then the last session's value is kept as it was, so a tab not opened in
this session loses nothing.

Splitters are known by their ``objectName`` (``"model.palette_network"``); one without a
name by its tab and its place among the tab's splitters (``"<tab>.splitter0"``). A saved
state is restored only into a splitter of the same orientation. The Model doctor's split,
which follows the doctor's findings until dragged, is kept only once the user dragged it.

A model the Evaluate or Predict tab kept (:func:`own_models`) is theirs: the Train tab's
last run does not replace it (:func:`workbench.qt.session.restore_last_run`).
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QByteArray, QObject
from PySide6.QtWidgets import QSplitter

#: Tabs that size a splitter themselves the first time they are shown, and the attribute
#: that says it was done: set when a saved size was restored, so it stays.
_FIRST_SIZING = {"train": ("first_share", "done"), "tune": (None, "_sized")}
#: Splitters that size themselves until the user drags them (their ``user_sized``): their
#: state is kept only once dragged, under this key; the one kept under their own key by
#: earlier versions, dragged or not, is dropped (it would stop their sizing for good).
_KEPT_ONCE_DRAGGED = {"model.network_doctor": "model.network_doctor.dragged"}
#: Splitters named since their state was kept under the key made up for them.
_RENAMED = {"evaluate.splitter0": "evaluate.confusion"}
#: The key of the Data tab's view (its ``views`` tab: Dataset 0, Health 1) among the
#: splitters' states: a one-byte index, absent for the first.
DATA_VIEW = "data.views"
#: The tabs whose choices are kept by their own module (``<name>_state`` and
#: ``restore_<name>_state`` in :mod:`workbench.qt.panels.<name>.state`).
_OWN_STATE = ("evaluate", "predict", "augment")


def exists(path: str, test: Callable[[str], bool] = os.path.exists) -> bool:
    """``test(path)`` (default: whether anything is there), False for a name the system
    refuses (too long, a NUL) instead of an error."""
    try:
        return bool(test(os.path.expanduser(path)))
    except (OSError, ValueError):
        return False


def saved_bundle(state: dict[str, Any]) -> str:
    """The model kept in ``state`` (the Evaluate or Predict tab's) when its file is still
    there; ``""`` otherwise (none was kept, or it was deleted or moved since)."""
    path = state.get("bundle")
    return path if isinstance(path, str) and path and exists(path, os.path.isfile) else ""


def gone_bundle_text(state: dict[str, Any]) -> str:
    """"the model chosen last time, NAME in FOLDER, is no longer there (deleted or moved)"
    when ``state`` kept a model whose file is gone; ``""`` otherwise."""
    path = state.get("bundle")
    if not isinstance(path, str) or not path or saved_bundle(state):
        return ""
    return (f"the model chosen last time, {os.path.basename(path)} in "
            f"{os.path.dirname(path) or '.'}, is no longer there (deleted or moved)")


def own_models(session: Any) -> set[str]:
    """The tabs (``"evaluate"``, ``"predict"``) whose model kept in ``session`` is still
    there: they get it back, not the last run's."""
    return {name for name in _OWN_STATE
            if saved_bundle(dict(getattr(session, name, {}) or {}))}


def page_splitters(name: str, page: Any) -> dict[str, QSplitter]:
    """The splitters of tab ``name``'s ``page``, by the key their state is kept under."""
    out: dict[str, QSplitter] = {}
    unnamed = 0
    for splitter in page.findChildren(QSplitter):
        key = splitter.objectName()
        if not key:
            key, unnamed = f"{name}.splitter{unnamed}", unnamed + 1
        out.setdefault(key, splitter)
    return out


class TabStates(QObject):
    """The tabs' state for the session file (:meth:`values`), restored into each tab of
    ``window`` when it is built, from ``session`` (a :class:`~workbench.core.session.Session`)."""

    def __init__(self, window: Any, session: Any = None,
                 typed_for: tuple[str, str] | None = None):
        super().__init__(window)
        self.window = window
        self.run_name = getattr(session, "run_name", "") or ""
        # The dataset and network the name was typed for: the session's experiment's, as
        # read (app.py points it at --data's folder after); the window may open another.
        self.run_name_for = typed_for
        self.runs_selected = list(getattr(session, "runs_selected", []) or [])
        self.splitters: dict[str, bytes] = dict(getattr(session, "splitters", {}) or {})
        self.tune: dict[str, Any] = dict(getattr(session, "tune", {}) or {})
        self.own: dict[str, dict[str, Any]] = {  # Evaluate's, Predict's, Augment's choices
            name: dict(getattr(session, name, {}) or {}) for name in _OWN_STATE}
        for old, new in _RENAMED.items():
            if old in self.splitters:
                self.splitters.setdefault(new, self.splitters[old])
                del self.splitters[old]
        for old in _KEPT_ONCE_DRAGGED:
            self.splitters.pop(old, None)
        self._runs_pending = bool(self.runs_selected)  # until the Runs tab has listed
        self._watched: dict[str, tuple[str, QSplitter]] = {}  # key: (tab, splitter)
        for name in window.tabs.names():
            page = window.tabs.built_page(name)
            if page is not None:
                self.restore(name, page)
        window.tabs.page_built.connect(self.restore)
        # Leaving a tab keeps its splitters' sizes (resized with the window since a drag).
        self._shown = window.tabs.currentWidget()
        window.tabs.currentChanged.connect(self._on_tab_changed)

    # -- restoring -------------------------------------------------------------------------
    def restore(self, name: str, page: Any) -> None:
        """Give tab ``name``'s ``page`` what the last session left in it."""
        self._restore_splitters(name, page)
        if name == "train":
            page.setup.set_typed_name(self.run_name, self.run_name_for)
        elif name == "runs" and self._runs_pending:
            page.refreshed.connect(lambda _count, page=page: self._select_runs(page))
            page.refresh()  # the selected runs' curves go over the Train tab's plots
        elif name == "tune":
            from workbench.qt.panels.tune.state import restore_tune_state
            from workbench.qt.startup import torch_loader

            restore_tune_state(page, self.tune)
            # Optuna is imported in a pool thread: never alongside torch's first import.
            torch_loader().call_when_ready(page.follower.lister.list, page)
        elif name in _OWN_STATE:
            getattr(_state_module(name), f"restore_{name}_state")(page, self.own[name])
        elif name == "data":
            view = self.splitters.get(DATA_VIEW, b"")
            if len(view) == 1 and view[0] < page.views.count():
                page.views.setCurrentIndex(view[0])

    def _select_runs(self, page: Any) -> None:
        if not self._runs_pending or not shiboken6.isValid(page):
            return
        self._runs_pending = False
        page.select_paths(self.runs_selected)  # runs deleted since are simply not there
        rows = page.table.selectionModel().selectedRows()
        if rows:
            page.table.scrollTo(rows[0])

    def _restore_splitters(self, name: str, page: Any) -> None:
        restored = False
        for key, splitter in page_splitters(name, page).items():
            self._watched[key] = (name, splitter)
            splitter.splitterMoved.connect(lambda *_, key=key: self._keep_splitter(key))
            state = self.splitters.get(_KEPT_ONCE_DRAGGED.get(key, key))
            if not state:
                continue
            orientation = splitter.orientation()
            if splitter.restoreState(QByteArray(state)):
                if splitter.orientation() != orientation:  # another version's splitter
                    splitter.setOrientation(orientation)
                else:
                    restored = True
        holder, flag = _FIRST_SIZING.get(name, (None, None))
        target = getattr(page, holder, None) if holder else page
        if restored and flag and target is not None and hasattr(target, flag):
            setattr(target, flag, True)  # the restored sizes stay

    # -- saving ----------------------------------------------------------------------------
    def _on_tab_changed(self, _index: int) -> None:
        left, self._shown = self._shown, self.window.tabs.currentWidget()
        if left is None or not shiboken6.isValid(left):
            return
        for key, (_name, splitter) in list(self._watched.items()):
            if shiboken6.isValid(splitter) and left.isAncestorOf(splitter):
                self._keep_splitter(key)

    def _keep_splitter(self, key: str) -> None:
        _name, splitter = self._watched.get(key, (None, None))
        if splitter is None or not shiboken6.isValid(splitter):
            return
        if key in _KEPT_ONCE_DRAGGED:
            if getattr(splitter, "user_sized", False):
                self.splitters[_KEPT_ONCE_DRAGGED[key]] = bytes(splitter.saveState().data())
            return
        self.splitters[key] = bytes(splitter.saveState().data())

    def values(self) -> dict[str, Any]:
        """The tabs' state as :func:`~workbench.core.session.session_text`'s keywords:
        the built tabs' as they are now, the others' as the last session left them."""
        tabs = self.window.tabs
        train = tabs.built_page("train")
        if train is not None:
            self.run_name = _next_run_name(train)
        runs = tabs.built_page("runs")
        if runs is not None and not self._runs_pending:
            self.runs_selected = runs.selected_paths()
        tune = tabs.built_page("tune")
        if tune is not None:
            from workbench.qt.panels.tune.state import tune_state

            self.tune = tune_state(tune, self.tune)
        data = tabs.built_page("data")
        if data is not None:
            view = data.views.currentIndex()
            if view > 0:
                self.splitters[DATA_VIEW] = bytes([view])
            else:
                self.splitters.pop(DATA_VIEW, None)
        for name in _OWN_STATE:
            page = tabs.built_page(name)
            if page is not None:
                self.own[name] = getattr(_state_module(name), f"{name}_state")(page)
        for key, (_name, splitter) in list(self._watched.items()):
            if not shiboken6.isValid(splitter):
                del self._watched[key]
            elif splitter.isVisible():  # hidden ones keep the sizes they were last seen at
                self._keep_splitter(key)
        return {"run_name": self.run_name, "runs_selected": list(self.runs_selected),
                "splitters": dict(self.splitters), "tune": dict(self.tune),
                **{name: dict(state) for name, state in self.own.items()}}


def _next_run_name(train: Any) -> str:
    """The name typed on the Train tab ``train`` for its next run; ``""`` while a run
    trains, or when the last run has it (the window closed while it trained, "Stop and
    quit", so its end never cleared the box): that run owns it."""
    if train.is_running():
        return ""
    typed = train.setup.typed_name()
    if typed and train.last_run_dir:
        from workbench.core.runs.store import read_run_info

        taken = read_run_info(train.last_run_dir).get("name")
        if isinstance(taken, str) and taken.casefold() == typed.casefold():
            return ""
    return typed


def _state_module(name: str) -> Any:
    return importlib.import_module(f"workbench.qt.panels.{name}.state")
