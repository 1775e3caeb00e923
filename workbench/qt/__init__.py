"""The desktop GUI: the only package that imports PySide6 and pyqtgraph.

PySide6 is imported here, before any module of this package can import pyqtgraph, so that
pyqtgraph binds to PySide6 even when another Qt binding is installed.
"""

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6.QtCore  # noqa: E402,F401  (must precede every pyqtgraph import)
