"""One module per panel of the main window; each can be launched alone with
``python -m workbench.qt.panels.<name>``."""
