"""The safetensors export reads its file back and compares every tensor with the bundle's
(as the ONNX export runs its file in onnxruntime): a file that does not hold the bundle's
weights is reported, naming the file and the tensor, by the CLI and the Export dialog."""

from __future__ import annotations

import math

import pytest

from helpers import random_bundle, refused, run_cli
from workbench.core.bundle import load_bundle
from workbench.core.errors import WorkbenchError
from workbench.core.export.weights import export_safetensors, verify_safetensors


@pytest.fixture
def bundle_file(tmp_path, tiny_experiment):
    return random_bundle(tmp_path / "bundle.pt", tiny_experiment)[0]


def test_the_written_weights_read_back_equal(tmp_path, bundle_file):
    bundle = load_bundle(bundle_file)
    weights, _ = export_safetensors(bundle, tmp_path / "m.safetensors")
    assert verify_safetensors(bundle, weights) == len(bundle.state_dict) == 4


def test_a_diverged_runs_nan_weights_read_back_equal(tmp_path, bundle_file):
    bundle = load_bundle(bundle_file)
    first = next(iter(bundle.state_dict.values()))
    first.view(-1)[0] = math.nan  # NaN != NaN, but the same bytes are the same weights
    weights, _ = export_safetensors(bundle, tmp_path / "m.safetensors")
    assert verify_safetensors(bundle, weights) == 4


def test_a_changed_byte_names_the_file_and_the_tensor(tmp_path, bundle_file):
    bundle = load_bundle(bundle_file)
    weights, _ = export_safetensors(bundle, tmp_path / "m.safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x40  # the last tensor's last byte (tensors follow the header, in order)
    weights.write_bytes(bytes(data))
    last = sorted(bundle.state_dict)[-1]
    with pytest.raises(WorkbenchError, match=f"{weights} was written but reads back a "
                                             f"different tensor {last}: export again"):
        verify_safetensors(bundle, weights)
    weights.write_bytes(bytes(data[:20]))
    with pytest.raises(WorkbenchError, match="was written but cannot be read back"):
        verify_safetensors(bundle, weights)


def test_a_missing_or_extra_tensor_is_named(tmp_path, bundle_file):
    bundle = load_bundle(bundle_file)
    weights, _ = export_safetensors(bundle, tmp_path / "m.safetensors")
    key = sorted(bundle.state_dict)[0]
    tensor = bundle.state_dict.pop(key)
    with pytest.raises(WorkbenchError, match=f"has a tensor {key} the bundle does not"):
        verify_safetensors(bundle, weights)
    bundle.state_dict[key] = tensor
    bundle.state_dict["9.weight"] = tensor
    with pytest.raises(WorkbenchError, match="lacks the bundle's tensor 9.weight"):
        verify_safetensors(bundle, weights)


def test_the_cli_reports_a_file_that_does_not_read_back(capsys, tmp_path, bundle_file,
                                                        monkeypatch):
    """A disk that stores other bytes than were written: the CLI's export fails, saying so,
    rather than printing "wrote" for weights that are not the bundle's."""
    import workbench.core.io as io

    real = io.atomic_write

    def damaging(path, write):
        if str(path).endswith(".safetensors"):
            def damaged(f):
                import io as pyio

                buffer = pyio.BytesIO()
                write(buffer)
                data = bytearray(buffer.getvalue())
                data[-1] ^= 0x40
                f.write(bytes(data))
            return real(path, damaged)
        return real(path, write)

    monkeypatch.setattr(io, "atomic_write", damaging)
    out = tmp_path / "m.safetensors"
    line = refused(run_cli(capsys, "export", bundle_file, "--safetensors", out),
                   f"{out} was written but reads back a different tensor")
    assert "export again" in line
