"""A half-downloaded or damaged weights file is called so, with the way out (download it
again from the arch's URL), and never with torch's advice to load with
``weights_only=False`` (which would run whatever code the file holds)."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
import torchvision

from workbench.core.errors import WorkbenchError
from workbench.core.model.backbone_weights import load_backbone_weights
from workbench.core.model.builder import build_network
from workbench.core.registry import Component as C

URL = torchvision.models.get_model_weights("resnet18").DEFAULT.url


@pytest.fixture(scope="module")
def full_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "resnet18.pth"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    return path


def _error(path) -> str:
    model = build_network([C("Backbone", {"arch": "resnet18", "weights": "pretrained",
                                          "weights_file": str(path)}), C("Linear")],
                          (3, 32, 32), 3)[0]
    with pytest.raises(WorkbenchError) as e:
        load_backbone_weights(model)
    return str(e.value)


@pytest.mark.parametrize("keep", [0.4, 0.001])
def test_a_download_cut_short_is_called_incomplete_with_where_to_get_it_again(
        full_file, tmp_path, keep):
    cut = tmp_path / "cut.pth"
    data = full_file.read_bytes()
    cut.write_bytes(data[:int(len(data) * keep)])
    message = _error(cut)
    assert message.endswith(f"{cut} is incomplete or damaged (a download cut short?): delete "
                            f"it and download it again from {URL}"), message
    assert "weights_only" not in message and "likelihood" not in message


def test_a_damaged_old_style_pickle_never_gets_the_unsafe_advice(tmp_path):
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02" + os.urandom(64))  # a pickle's header, then noise
    message = _error(legacy)
    assert "is incomplete or damaged" in message and "weights_only" not in message


def test_a_file_that_would_run_code_is_refused_in_plain_words(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(Evil(), protocol=2))
    message = _error(evil)
    assert "asks to load posix.system" in message and "could run code" in message
    assert "weights_only" not in message
