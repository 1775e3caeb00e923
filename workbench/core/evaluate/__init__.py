"""Evaluating a trained bundle: :mod:`.evaluation` (predictions over a labelled folder), :mod:`.metrics` (pure metric functions), :mod:`.report` (text and CSV). Import from the submodules."""
