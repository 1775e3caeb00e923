"""A bundle's classes are read for the model choosers without loading its weights."""

from __future__ import annotations

from workbench.core.runs.classes import bundle_classes, same_classes


def test_a_bundles_classes_are_read_and_a_damaged_file_gives_none(tmp_path):
    import torch

    from workbench.core.bundle import save_bundle
    from workbench.core.experiment import Experiment

    path = tmp_path / "bundle.pt"
    save_bundle(path, Experiment(), ["owl", "cat"], {"w": torch.zeros(2, 3)})
    assert bundle_classes(path) == ["owl", "cat"]  # the model's output order
    save_bundle(path, Experiment(), ["a", "b", "c"], {"w": torch.zeros(3)})
    assert bundle_classes(path) == ["a", "b", "c"]  # rewritten: not the cached answer
    (tmp_path / "bad.pt").write_bytes(b"not a bundle")
    assert bundle_classes(tmp_path / "bad.pt") is None
    assert bundle_classes(tmp_path / "missing.pt") is None


def test_classes_fit_in_any_order_and_unknown_fits():
    assert same_classes(["cat", "dog"], ["dog", "cat"])
    assert not same_classes(["apple"], ["cat"])
    assert same_classes(None, ["cat"]) and same_classes(["cat"], None)
