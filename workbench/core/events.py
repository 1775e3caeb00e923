"""Change events of the Experiment: a small observer, no Qt.

The Experiment's sections (:class:`~workbench.core.experiment.DataConfig` and the others, and
the Experiment itself) derive from :class:`Evented`: setting a field to a different value
calls the section's listeners with ``(section, field_name)``. An edit made in place (a layer
list changed with ``layers[:] = ...``, a component's ``params`` dict) is announced with
:meth:`Evented.announce`.

The views do not listen to the sections one by one: :class:`CurrentExperiment` holds the
experiment the app shows, listens to all of its sections, and re-emits every edit as
``changed(section, field)``; opening another experiment is one ``replaced(experiment)``
that every view hears (napari's evented models, psygnal underneath, work the same way).
It also holds what is worked out from the experiment and shown on several tabs: the scan
of its dataset (``dataset_changed``) and the shapes of its network (``network_changed``).
The tab that works one out publishes it here; the others subscribe, so no tab asks
another and the window relays nothing.

Listeners are plain callables kept outside the dataclass fields: ``copy.deepcopy``,
pickling, ``==``, ``to_dict`` and ``from_dict`` see an Experiment exactly as before, and a
copy has no listeners. An instance nobody listens to pays one dictionary lookup per set.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

#: Where an :class:`Evented` keeps its listeners (an instance attribute, not a field).
_LISTENERS = "_listeners"
_MISSING = object()


class Emitter:
    """A list of callbacks called in order by :meth:`emit` (psygnal's ``SignalInstance``,
    reduced to what the Experiment needs).

    With ``remember``, :attr:`last` keeps the arguments of the last :meth:`emit` (None
    before the first), so a view made later can show the news it missed.
    """

    __slots__ = ("_callbacks", "_remember", "last")

    def __init__(self, remember: bool = False) -> None:
        self._callbacks: list[Callable[..., Any]] = []
        self._remember = remember
        self.last: tuple | None = None

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every :meth:`emit`; returns it (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` (nothing happens when it is not connected)."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        if self._remember:
            self.last = args
        # A copy: a callback may disconnect itself (or another) while this runs.
        for callback in tuple(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)


class Evented:
    """Mixin for a dataclass whose field assignments are announced.

    ``listener(instance, name)`` is called after ``instance.name = value`` when the value
    differs from the one before, or is another :class:`Evented` object (a new section to
    follow, even when equal), and after :meth:`announce`. Names starting with ``_`` are
    never announced.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        listeners = self.__dict__.get(_LISTENERS)
        if not listeners or name[0] == "_":
            object.__setattr__(self, name, value)
            return
        old = self.__dict__.get(name, _MISSING)
        object.__setattr__(self, name, value)
        if old is value or (type(old) is type(value) and old == value
                            and not isinstance(value, Evented)):  # a new section: follow it
            return
        for listener in tuple(listeners):
            listener(self, name)

    def add_listener(self, listener: Callable[[Any, str], None]) -> None:
        """Call ``listener(self, field_name)`` after each change of a field."""
        listeners = self.__dict__.get(_LISTENERS)
        if listeners is None:
            listeners = []
            object.__setattr__(self, _LISTENERS, listeners)
        listeners.append(listener)

    def remove_listener(self, listener: Callable[[Any, str], None]) -> None:
        listeners = self.__dict__.get(_LISTENERS) or []
        if listener in listeners:
            listeners.remove(listener)

    def announce(self, name: str) -> None:
        """Say that field ``name`` changed in place (a list or dict edited, not replaced)."""
        for listener in tuple(self.__dict__.get(_LISTENERS) or ()):
            listener(self, name)

    # Copies and pickles carry the fields only: listeners belong to the original.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop(_LISTENERS, None)
        return state


class CurrentExperiment:
    """The experiment the app shows, and its events: the one thing the views subscribe to.

    Attributes
    ----------
    changed
        ``changed(section, field)`` after an edit: ``section`` is the Experiment's field
        (``"data"``, ``"model"``, ``"optimizer"``, ``"name"``...); ``field`` the section's
        field that changed (``"input_size"``), or ``None`` when the section itself was
        assigned (``experiment.optimizer = Component(...)``).
    replaced
        ``replaced(experiment)`` after :meth:`replace`: every view shows ``experiment`` anew.
    dataset_changed
        ``dataset_changed(index)`` after :meth:`set_dataset`: the experiment's dataset was
        scanned (a :class:`~workbench.core.data.index.DatasetIndex`); :attr:`dataset` is
        the last one.
    images_summarized
        ``images_summarized(folder, summary)`` after :meth:`set_images_summary`: the image
        headers of dataset ``folder`` were read (an
        :class:`~workbench.core.data.summary.ImageSummary`: sizes and colour modes);
        :attr:`images_summary` is the last pair.
    network_changed
        ``network_changed(summary, problem)`` after :meth:`set_network`: the network's
        shapes were worked out again (a :class:`~workbench.core.model.builder.NetworkSummary`,
        None before torch is imported) and ``problem`` says why it cannot be trained as it
        is ("": it can); :attr:`network` is the last pair.

    The last three remember their last news (:attr:`Emitter.last`) for views made after it.
    """

    def __init__(self, experiment: Any):
        self.changed = Emitter()
        self.replaced = Emitter()
        self.dataset_changed = Emitter(remember=True)
        self.images_summarized = Emitter(remember=True)
        self.network_changed = Emitter(remember=True)
        self._experiment: Any = None
        self._sections: dict[str, tuple[Evented, Callable]] = {}
        self._attach(experiment)

    @classmethod
    def of(cls, experiment: Any) -> "CurrentExperiment":
        """``experiment`` itself when it is a CurrentExperiment, else a new one holding it
        (a panel shown alone, or in a test, is given an Experiment)."""
        return experiment if isinstance(experiment, cls) else cls(experiment)

    @property
    def experiment(self) -> Any:
        return self._experiment

    def replace(self, experiment: Any, in_place: bool = False) -> None:
        """Show ``experiment`` from now on and emit ``replaced`` once.

        ``in_place``: copy ``experiment``'s fields into the current Experiment instead (the
        same object stays current: whoever holds it sees the new values); still one
        ``replaced`` event, not one ``changed`` per field.
        """
        if in_place:
            current = self._experiment
            self._detach()
            for f in dataclasses.fields(current):
                setattr(current, f.name, getattr(experiment, f.name))
            experiment = current
        else:
            self._detach()
        self._attach(experiment)
        self.replaced.emit(experiment)

    @property
    def dataset(self) -> Any:
        """The last scan of the dataset (None before the first)."""
        last = self.dataset_changed.last
        return last[0] if last else None

    @property
    def images_summary(self) -> tuple[str, Any] | None:
        """The last ``(folder, ImageSummary)`` of the dataset's image headers (None before)."""
        return self.images_summarized.last

    @property
    def network(self) -> tuple[Any, str] | None:
        """The last ``(summary, problem)`` of the network (None before the first)."""
        return self.network_changed.last

    def set_dataset(self, index: Any) -> None:
        """Publish the scan of the experiment's dataset (by the tab that scanned it)."""
        self.dataset_changed.emit(index)

    def set_images_summary(self, folder: str, summary: Any) -> None:
        """Publish the image headers' summary of dataset ``folder`` (by the tab that read
        them): what opening the dataset chooses is worked out from it."""
        self.images_summarized.emit(folder, summary)

    def set_network(self, summary: Any, problem: str) -> None:
        """Publish the network's shapes and why it cannot be trained ("" when it can), by
        the tab that worked them out."""
        self.network_changed.emit(summary, problem)

    # -- wiring ----------------------------------------------------------------------------
    def _attach(self, experiment: Any) -> None:
        self._experiment = experiment
        if isinstance(experiment, Evented):
            experiment.add_listener(self._on_experiment_set)
        for f in dataclasses.fields(experiment):
            self._attach_section(f.name)

    def _attach_section(self, name: str) -> None:
        section = getattr(self._experiment, name)
        if isinstance(section, Evented):
            def relay(_section: Any, field: str, _name: str = name) -> None:
                self.changed.emit(_name, field)

            section.add_listener(relay)
            self._sections[name] = (section, relay)

    def _detach_section(self, name: str) -> None:
        section, relay = self._sections.pop(name, (None, None))
        if section is not None:
            section.remove_listener(relay)

    def _detach(self) -> None:
        exp = self._experiment
        if isinstance(exp, Evented):
            exp.remove_listener(self._on_experiment_set)
        for name in list(self._sections):
            self._detach_section(name)

    def _on_experiment_set(self, _experiment: Any, name: str) -> None:
        # A section assigned whole (``experiment.data = DataConfig()``): listen to the new one.
        self._detach_section(name)
        self._attach_section(name)
        self.changed.emit(name, None)
