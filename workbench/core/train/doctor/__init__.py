"""The training doctor (issue 19): checks that watch a live run and explain, in plain words
and with a fix, what is going wrong. :mod:`.findings` is what a check says (the contract
run.json and scripts read), :mod:`.checks` the checks themselves, each a small function
over a :class:`~.view.RunView` (those on the classes predicted, an imbalanced training set
among them, in :mod:`.classes`), and :mod:`.probes` what they measure besides the
metrics (silent ReLU units, per-layer gradients, how far the weights moved), :mod:`.causes`
what stops a network learning that is not the learning rate (asked before a check blames the
rate), :mod:`.rates` the checks on the learning rate itself (too low to move the loss, too
high for the run to stay stable), :mod:`.fixes` the learning-rate fixes, and
:mod:`.segments` which settings, changed on resuming, make the checks judge the epochs
since the change only. The callback that runs them is
:class:`workbench.core.train.callbacks.doctor.TrainingDoctor`.
"""
