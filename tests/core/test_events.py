"""The Experiment's change events: what a view subscribes to (no Qt)."""

from __future__ import annotations

import copy
import json
import pickle

from workbench.core.events import CurrentExperiment
from workbench.core.experiment import DataConfig, Experiment
from workbench.core.registry import Component


def test_a_set_field_is_heard_by_its_section_and_the_current_experiment():
    exp = Experiment()
    current = CurrentExperiment(exp)
    heard = []
    current.changed.connect(lambda section, field: heard.append((section, field)))
    exp.data.input_size = [64, 48]
    exp.training.epochs = 3
    exp.optimizer = Component("SGD", {"lr": 0.1})
    exp.name = "renamed"
    assert heard == [("data", "input_size"), ("training", "epochs"), ("optimizer", None),
                     ("name", None)]
    exp.data.input_size = [64, 48]  # the same value: nothing happened
    assert len(heard) == 4


def test_an_edit_in_place_is_announced_and_a_new_section_is_followed():
    exp = Experiment()
    current = CurrentExperiment(exp)
    heard = []
    current.changed.connect(lambda section, field: heard.append((section, field)))
    exp.model.layers.pop()
    exp.model.announce("layers")
    old = exp.data
    exp.data = DataConfig()
    exp.data.channels = 1
    old.channels = 1  # no longer the experiment's: nobody hears it
    assert heard == [("model", "layers"), ("data", None), ("data", "channels")]


def test_unsubscribed_callbacks_are_not_called():
    current = CurrentExperiment(Experiment())
    heard = []

    def listen(section, field):
        heard.append(section)

    current.changed.connect(listen)
    current.experiment.data.seed = 1
    current.changed.disconnect(listen)
    current.experiment.data.seed = 2
    assert heard == ["data"]


def test_replacing_is_one_event_and_the_old_experiment_is_left_alone():
    first, second = Experiment(), Experiment()
    current = CurrentExperiment(first)
    replaced, changed = [], []
    current.replaced.connect(replaced.append)
    current.changed.connect(lambda *args: changed.append(args))
    current.replace(second)
    assert replaced == [second] and current.experiment is second
    first.data.seed = 5
    assert changed == []
    second.data.seed = 5
    assert changed == [("data", "seed")]


def test_replacing_in_place_keeps_the_object_and_is_one_event():
    exp = Experiment()
    current = CurrentExperiment(exp)
    events = []
    current.replaced.connect(lambda e: events.append(("replaced", e)))
    current.changed.connect(lambda *args: events.append(args))
    new = Experiment(name="tuned")
    new.training.epochs = 2
    current.replace(new, in_place=True)
    assert events == [("replaced", exp)]
    assert current.experiment is exp and exp.name == "tuned" and exp.training.epochs == 2
    exp.training.epochs = 4  # the section that came from ``new`` is followed
    assert events[-1] == ("training", "epochs")


def test_listened_to_experiments_copy_pickle_compare_and_serialise_as_before():
    exp = Experiment()
    plain = exp.to_dict()
    current = CurrentExperiment(exp)
    heard = []
    current.changed.connect(lambda *args: heard.append(args))
    assert exp.to_dict() == plain
    assert exp == Experiment() and exp.data == DataConfig()
    clone = copy.deepcopy(exp)
    assert clone == exp and clone.to_dict() == plain
    clone.data.seed = 9  # a copy has no listeners
    assert heard == []
    assert pickle.loads(pickle.dumps(exp)) == exp
    back = Experiment.from_dict(json.loads(exp.to_json()), validate=False)
    assert back == exp
    assert "_listeners" not in json.dumps(exp.to_dict())
    assert exp.copy() == exp


def test_the_scan_and_the_network_are_kept_for_views_made_after_them():
    current = CurrentExperiment(Experiment())
    assert current.dataset is None and current.network is None
    heard = []
    current.dataset_changed.connect(lambda index: heard.append(("dataset", index)))
    current.network_changed.connect(lambda *args: heard.append(("network", *args)))
    current.set_dataset("scan 1")
    current.set_network("summary", "the layers do not fit")
    current.set_dataset("scan 2")
    assert heard == [("dataset", "scan 1"), ("network", "summary", "the layers do not fit"),
                     ("dataset", "scan 2")]
    assert current.dataset == "scan 2"
    assert current.network == ("summary", "the layers do not fit")
    assert current.dataset_changed.last == ("scan 2",)
    # Edits are news of the moment, not state: nothing is kept of them.
    current.experiment.training.epochs = 3
    assert current.changed.last is None and current.replaced.last is None
