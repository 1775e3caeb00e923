"""One package per tab of the main window (data, augment, model, train, tune, runs, evaluate,
predict) and the explain dialog; each tab's ``panel`` module can be launched alone with
``python -m workbench.qt.panels.<tab>.panel``."""
