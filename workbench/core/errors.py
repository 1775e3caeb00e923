"""Errors a user can cause.

Every exception here carries a message meant for a person: it names the thing that is
wrong and says what to do. The CLI prints it on one line (exit code 2); the GUI shows it
in a message box. Anything *not* derived from :class:`WorkbenchError` is a bug.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every user-facing error."""


class SpecError(WorkbenchError, ValueError):
    """An Experiment (or part of one) is invalid.

    Parameters
    ----------
    field
        Dotted path of the offending field, e.g. ``"data.batch_size"`` or
        ``"model.layers[3].params.out_channels"``.
    problem
        What is wrong with it and, where possible, what to do.
    """

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


class ShapeError(WorkbenchError):
    """A network whose layer shapes do not fit together."""

    def __init__(self, message: str, index: int | None = None, layer_type: str | None = None,
                 input_shape: tuple | None = None):
        self.index = index
        self.layer_type = layer_type
        self.input_shape = input_shape
        super().__init__(message)


class DataError(WorkbenchError):
    """A dataset folder that cannot be used (missing, empty, a single class...)."""


class ImageDecodeError(WorkbenchError):
    """One image file could not be read; ``reason`` says why."""

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class BundleError(WorkbenchError):
    """A bundle file that cannot be loaded."""
