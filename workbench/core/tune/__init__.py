"""Hyperparameter search with Optuna: :mod:`.study` (run_study), :mod:`.space` (SPACE.json and dotted paths), :mod:`.storage` (where a study lives). Import from the submodules."""
