"""The training doctor (issue 19): checks that watch a live run and explain, in plain words
and with a fix, what is going wrong. :mod:`.findings` is what a check says (the contract
run.json and scripts read), :mod:`.checks` the checks themselves, each a small function
over a :class:`~.checks.RunView`, and :mod:`.probes` what they measure besides the
metrics (silent ReLU units, per-layer gradients, how far the weights moved), :mod:`.causes`
what stops a network learning that is not the learning rate (asked before a check blames the
rate), and :mod:`.fixes` the learning-rate fixes. The callback
that runs them is :class:`workbench.core.train.callbacks.doctor.TrainingDoctor`.
"""
