"""The training bridge gives a layer-norm sample the step of the batch it was taken in, so
the norms plot lines up with the other plots' epochs."""

from __future__ import annotations

from types import SimpleNamespace


def test_a_norm_sample_gets_the_step_of_its_batch_not_the_one_before():
    from workbench.qt.workers.bridge import _BridgeHooks

    sent = []
    worker = SimpleNamespace(state=SimpleNamespace(send=sent.append), emit_interval=1e9)
    hooks = _BridgeHooks(worker)
    batches = 9
    for epoch in (1, 2):
        for batch in range(1, batches + 1):
            step = (epoch - 1) * batches + batch
            if batch == batches:  # as the trainer: on_norms in the step, then on_batch_end
                hooks.on_norms(None, step, ["1 Conv2d"], [0.5], [1.0])
            hooks.on_batch_end(None, epoch, batch, batches, 1.0)
        hooks.flush()
    chunks = [args[0] for name, args in sent if name == "batches_finished"]
    samples = [s for chunk in chunks for s in chunk["norms"]]
    # Epoch ends: x = step / batches per epoch = 1.0 and 2.0, as the epochs' points.
    assert [s[0] for s in samples] == [9, 18]
    assert all(s[0] in chunk["steps"] for chunk in chunks for s in chunk["norms"])
