"""What the user types or pastes in the Data tab's Dataset field, read as a path."""

from __future__ import annotations

import os

from PySide6.QtCore import QUrl

#: Quotes a pasted path may come wrapped in (Windows' "Copy as path", some terminals).
QUOTES = "\"'"


def typed_path(text: str) -> str:
    """``text`` as an absolute path ("" for none): spaces around it and a pair of quotes
    around that taken off, a ``file:`` URL (a file manager's copy,
    ``file:///home/me/mid%20data``) read as the local path it names, ``~`` expanded.
    A path that exists as typed (a folder named with quotes) is taken as it is."""
    text = text.strip()
    if not text or os.path.exists(os.path.expanduser(text)):
        return os.path.abspath(os.path.expanduser(text)) if text else ""
    while len(text) >= 2 and text[0] == text[-1] and text[0] in QUOTES:
        text = text[1:-1].strip()
    if text[:5].lower() == "file:":
        text = QUrl(text).toLocalFile() or text
    return os.path.abspath(os.path.expanduser(text)) if text else ""
