"""Workbench: train image classifiers by pointing and clicking.

Importing this package must stay cheap: it pulls in neither Qt nor torch.
"""

__version__ = "0.1.0"
