"""Training callbacks, one a module: :mod:`.base` (the hooks, the result),
:mod:`.early_stopping`, :mod:`.pause`, :mod:`.norms`, :mod:`.progress` (the console's),
:mod:`.checkpoints` (last.pt and best.pt) and :mod:`.lr_finder`."""
