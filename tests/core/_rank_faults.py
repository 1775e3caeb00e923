"""``workbench`` under torchrun with one rank made to differ (tests of test_distributed_faults):

* ``WORKBENCH_TEST_RANK1_DATA=DIR``: rank 1 alone trains on ``DIR`` (``--data DIR``), as a
  process whose machine holds another copy of the dataset;
* ``WORKBENCH_TEST_RANK1_EXIT_AFTER=N``: rank 1 alone dies (``os._exit``, as a kill would
  end it) once its epoch N has ended, while rank 0 goes on to epoch N + 1.
"""

from __future__ import annotations

import os
import sys

from workbench.cli import main
from workbench.core.train.trainer import Trainer

argv = sys.argv[1:]
if os.environ.get("RANK") == "1":
    data = os.environ.get("WORKBENCH_TEST_RANK1_DATA")
    if data:
        argv += ["--data", data]
    after = int(os.environ.get("WORKBENCH_TEST_RANK1_EXIT_AFTER", "0"))
    if after:
        real = Trainer.emit

        def die_after_epoch(self, hook, *args):
            real(self, hook, *args)
            if hook == "on_epoch_end" and args[0] == after:
                os._exit(9)

        Trainer.emit = die_after_epoch

sys.exit(main(argv))
