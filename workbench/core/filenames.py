"""File names that are not valid UTF-8, handled by one rule everywhere.

A zip made on Windows and unpacked on Linux gives names such as ``b"caf\\xe9_dog.jpg"``
(Latin-1 bytes). Python lists them as ``str`` with each undecodable byte as a lone
surrogate (``"caf\\udce9_dog.jpg"``, PEP 383), which opens the file again but cannot be
encoded as UTF-8 strictly. The rule:

- **Files Workbench writes** (CSV, JSON, HTML, Python) are UTF-8 with
  ``errors="surrogateescape"`` (:data:`ERRORS`): the bad byte is written back as itself,
  so a path in a CSV names the real file. JSON is written with ``ensure_ascii`` (the
  default), which writes ``"\\udce9"``: the file stays ASCII and ``json.loads`` gives the
  same ``str`` back, which opens the file.
- **Hashes** of names use :func:`name_bytes` (UTF-8 with surrogateescape: the file name's
  own bytes; unchanged for every valid name).
- **Names shown to a person** (the app's widgets, an HTML report) go through
  :func:`readable`: each bad byte becomes U+FFFD "�". Qt cannot hold a lone surrogate in a
  string (PySide6 drops it silently), so a path must never travel through a Qt ``str``
  signal or item role: carry it as a Python ``object``. :data:`NOT_UTF8_NOTE` says what to
  do about such a name.
"""

from __future__ import annotations

import re

#: The ``errors`` handler for text Workbench writes (and reads back) that may hold paths.
ERRORS = "surrogateescape"

#: What a person should know about a name :func:`is_valid` refuses.
NOT_UTF8_NOTE = ("the file name is not valid UTF-8 (a character shown as \ufffd; typical of "
                 "a zip made on Windows): rename the file")

_SURROGATES = re.compile("[\ud800-\udfff]")
#: Lone surrogates no file name decodes to (surrogateescape makes U+DC80..U+DCFF only).
_NOT_BYTES = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def encode_text(text: str) -> bytes:
    """``text`` as UTF-8, a file name's undecodable bytes written back as themselves (a
    lone surrogate that stands for no byte, as JSON's ``"\\ud83d"`` gives, as "\ufffd")."""
    try:
        return text.encode("utf-8", ERRORS)
    except UnicodeEncodeError:
        return _NOT_BYTES.sub("\ufffd", text).encode("utf-8", ERRORS)


def name_bytes(name: str) -> bytes:
    """The bytes to hash for ``name`` (a path or a class name): its UTF-8, with the
    original byte for each undecodable one (for a valid name, plain UTF-8)."""
    return encode_text(name)


def is_valid(name: str) -> bool:
    """Whether ``name`` holds no lone surrogate (every byte of it decoded as UTF-8)."""
    return _SURROGATES.search(name) is None


def readable(text: str) -> str:
    """``text`` with every lone surrogate (an undecodable byte of a file name) shown as
    "\ufffd": a string Qt, a browser or a strict UTF-8 encoder takes as it is."""
    return _SURROGATES.sub("\ufffd", text)


def print_names_as_bytes(*streams: object) -> None:
    """Let ``streams`` (``sys.stdout``, ``sys.stderr``) print such names: a strict stream
    (a UTF-8 locale's terminal, where Python does not use surrogateescape itself) is set
    to write a bad byte back as itself, as ``ls`` does, instead of raising mid-output. A
    character the stream's encoding has no code for (an emoji class name on a Windows
    console or a redirected cp1252/ASCII stdout) is written as its escape, ``\\U0001f431``."""
    import codecs

    codecs.register_error(_PRINT_ERRORS, _print_error)
    for stream in streams:
        if getattr(stream, "errors", None) in ("strict", ERRORS) \
                and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors=_PRINT_ERRORS)
            except (ValueError, OSError, AttributeError):  # a stream that cannot: left so
                pass


#: The ``errors`` handler :func:`print_names_as_bytes` gives a stream.
_PRINT_ERRORS = "workbench.print"


def _print_error(e: UnicodeError) -> tuple[str | bytes, int]:
    """A file name's undecodable byte (U+DC80..U+DCFF) as itself, anything else the
    stream cannot encode as its backslash escape; one character at a time."""
    import codecs

    if not isinstance(e, UnicodeEncodeError):
        raise e
    c = e.object[e.start]
    if "\udc80" <= c <= "\udcff":
        return bytes([ord(c) - 0xDC00]), e.start + 1
    return codecs.backslashreplace_errors(
        UnicodeEncodeError(e.encoding, e.object, e.start, e.start + 1, e.reason))
