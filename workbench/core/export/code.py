"""Export a trained bundle for use outside Workbench.

* :func:`export_code`: the network as a self-contained PyTorch module whose
  ``build_model()`` builds it (random weights); the bundle's ``state_dict`` loads into it
  as is, as the file's header shows (see :mod:`workbench.core.model.codegen`).

* :func:`workbench.core.export.onnx.export_onnx`: ONNX with a dynamic batch dimension,
  checked at once with onnxruntime, and its preprocessing as JSON (its own module: it
  needs the onnx packages, which code export does not).
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.bundle import Bundle, load_bundle
from workbench.core.errors import BundleError, WorkbenchError
from workbench.core.io import atomic_write_text


def read_bundle(path: str | Path) -> Bundle:
    """:func:`~workbench.core.bundle.load_bundle`, with any file at all refused in one line.

    ``torch.load`` on arbitrary bytes (a text file given by mistake) can fail with errors
    ``load_bundle`` does not expect, such as a ``KeyError`` from the unpickler's memo; here
    every one of them means "not a bundle".

    Raises
    ------
    BundleError
        For a missing, damaged, foreign or unsafe file, naming it.
    """
    try:
        return load_bundle(path)
    except WorkbenchError:
        raise
    except Exception as e:  # noqa: BLE001 - see above: the bytes decide what is raised
        raise BundleError(f"{path} is not a readable bundle (truncated, damaged or not a "
                          f"PyTorch file: {type(e).__name__}); give a bundle.pt written by "
                          f"Workbench") from None


def _bundle(bundle: Bundle | str | Path) -> Bundle:
    return bundle if isinstance(bundle, Bundle) else read_bundle(bundle)


def bundle_code(bundle: Bundle | str | Path, module_name: str = "model") -> str:
    """The Python source of ``bundle``'s network (see
    :func:`~workbench.core.model.codegen.network_code`), its class names included.

    Parameters
    ----------
    bundle
        A loaded :class:`~workbench.core.bundle.Bundle` or the path of a bundle file.
    module_name
        The name the file will be imported as, for the load snippet in its header.
    """
    from workbench.core.model.codegen import network_code

    b = _bundle(bundle)
    name = Path(b.path).name if b.path else "bundle.pt"
    return network_code(b.experiment, len(b.classes), b.classes, bundle_name=name,
                        module_name=module_name)


def export_code(bundle: Bundle | str | Path, path: str | Path) -> Path:
    """Write ``bundle``'s network as a PyTorch module at ``path`` (atomically).

    Returns
    -------
    Path
        The file written. ``import <its stem>; m = build_model();
        m.load_state_dict(torch.load(BUNDLE, weights_only=True)["state_dict"])`` gives the
        outputs Workbench's model gives.

    Raises
    ------
    BundleError
        For a missing, damaged or foreign bundle file.
    WorkbenchError
        When the file cannot be written (the message names it and the reason).
    """
    path = Path(path)
    stem = path.stem if path.stem.isidentifier() else "model"
    text = bundle_code(bundle, module_name=stem)
    if path.is_dir():
        raise WorkbenchError(f"{path} is a folder: give the file to write, e.g. "
                             f"{path / 'model.py'}")
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise WorkbenchError(f"cannot write {path}: {e.strerror or e}") from None
    return path


__all__ = ["read_bundle", "bundle_code", "export_code"]
