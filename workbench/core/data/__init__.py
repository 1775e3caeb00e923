"""Datasets: folder scanning, train/validation splits, image decoding, transforms, loaders.

Import from the submodules (``workbench.core.data.scan``, ``.split``, ``.images``,
``.transforms``, ``.dataset``, ``.demo``); this package imports nothing itself.
"""
