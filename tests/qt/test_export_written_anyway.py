"""Export: the files a failed export still wrote are those created or written again since
the export began (an atomic write makes a new file); a file left alone is not listed, nor
one that is still absent."""

from __future__ import annotations

import os

from workbench.qt.export_job import _rewritten, _stamps


def test_only_the_files_written_since_are_listed(tmp_path):
    kept, replaced, new, absent = (str(tmp_path / n) for n in
                                   ("kept.json", "model.onnx", "model.json", "none.onnx"))
    for path in (kept, replaced):
        with open(path, "w") as f:
            f.write("before")
    before = _stamps([kept, replaced, new, absent])
    assert before[new] is None and before[absent] is None
    with open(new, "w") as f:
        f.write("written")
    with open(replaced + ".tmp", "w") as f:  # as atomic_write does: a new file renamed
        f.write("after")
    os.replace(replaced + ".tmp", replaced)
    assert sorted(_rewritten(before)) == sorted([replaced, new])
