"""A dataset listed in a CSV file of ``path,label`` rows.

::

    path,label
    cats/001.jpg,cat
    /data/more/dog 7.png,dog

The header row is optional (it is recognised by its column names, e.g. ``path,label``,
``file,class`` or ``image,category``). Relative paths are relative to the CSV file's
folder; absolute paths are allowed. The classes are the sorted unique labels (the order
``ImageFolder`` would give folders of those names), so the labels of a model do not depend
on the order of the rows. Listed files that do not exist are reported in ``unreadable``
with the reason ``"file not found"`` and left out; a malformed row stops the scan with a
:class:`~workbench.core.errors.DataError` naming its line.
"""

from __future__ import annotations

import csv
import os
from typing import Callable

from workbench.core.data.index import DatasetIndex, ScanCancelled, Unreadable, verify_samples
from workbench.core.errors import DataError

_PATH_HEADERS = {"path", "file", "filename", "file_name", "filepath", "file_path", "image",
                 "image_path", "img", "name"}
_LABEL_HEADERS = {"label", "class", "class_name", "category", "target", "y"}
_PROGRESS_EVERY = 2048


def scan_csv(path: str | os.PathLike, verify: bool = False,
             progress: Callable[[int, int], None] | None = None,
             is_cancelled: Callable[[], bool] | None = None) -> DatasetIndex:
    """Read a CSV dataset file into a :class:`~.index.DatasetIndex` (layout ``"csv"``).

    Parameters
    ----------
    path
        The ``.csv`` file (UTF-8, with or without a byte-order mark).
    verify, progress, is_cancelled
        As for :func:`~.scan.scan_folder`: ``progress(done, total)`` is called while the
        rows are checked (``total`` is the number of rows), then while decoding.

    Returns
    -------
    DatasetIndex
        ``root`` is the CSV file, ``samples`` are in row order, ``val_samples`` is
        ``None`` (the validation set is split off), ``source`` is ``"csv"``.

    Raises
    ------
    DataError
        When the file cannot be read, is not UTF-8 text, or a row does not have exactly
        two non-empty cells, or a file is listed twice with different labels.
    ScanCancelled
        When ``is_cancelled()`` returned true.
    """
    path = os.path.expanduser(os.fspath(path))
    rows = _read_rows(path)
    base = os.path.dirname(os.path.abspath(path))
    labels = sorted({label for _, _, label in rows})
    label_of = {c: i for i, c in enumerate(labels)}
    samples: list[tuple[str, int]] = []
    unreadable: list[Unreadable] = []
    seen: dict[str, tuple[int, str]] = {}
    total = len(rows)
    for done, (line, rel, label) in enumerate(rows, 1):
        if done % _PROGRESS_EVERY == 1 and is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {path} was cancelled")
        full = os.path.normpath(os.path.join(base, os.path.expanduser(rel)))
        if full in seen:
            first_line, first_label = seen[full]
            if first_label != label:
                raise DataError(f"{path} line {line}: {rel} is already listed on line "
                                f"{first_line} with the label {first_label!r}, here with "
                                f"{label!r}: an image has one label, remove one of the rows")
            continue  # the same row twice: count the image once
        seen[full] = (line, label)
        if os.path.isdir(full):
            unreadable.append(Unreadable(full, "a folder, not an image file"))
        elif not os.path.exists(full):
            unreadable.append(Unreadable(full, "file not found"))
        else:
            samples.append((full, label_of[label]))
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    index = DatasetIndex(path, labels, samples, unreadable, source="csv")
    if verify:
        verify_samples(index, progress, is_cancelled)
    return index


def _read_rows(path: str) -> list[tuple[int, str, str]]:
    """``(line number, path cell, label cell)`` of every data row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise DataError(f"dataset file {path} does not exist: choose a .csv file of "
                        f"path,label rows or a folder of class sub-folders") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text (byte {e.start}): save it as UTF-8 "
                        f"CSV") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    rows: list[tuple[int, str, str]] = []
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    first = True
    ended = 0  # the line the previous row ended on: a row starts on the next one
    try:
        for cells in reader:
            # A quoted cell may span lines: a row is named by the line it starts on.
            line, ended = ended + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are allowed anywhere
            if first:
                first = False
                if _is_header(cells):
                    continue
            _check_line_breaks(path, lines, line, ended, cells)
            # Trailing empty cells come from spreadsheets that pad rows ("a.png,cat,,").
            while len(cells) > 2 and not cells[-1].strip():
                cells = cells[:-1]
            if len(cells) != 2:
                raise DataError(f"{path} line {line}: expected 2 cells (path,label), got "
                                f"{len(cells)}: {_preview(cells)}; quote a path or label "
                                f"that contains a comma")
            rel, label = cells[0].strip(), cells[1].strip()
            if not rel or not label:
                what = "path" if not rel else "label"
                raise DataError(f"{path} line {line}: the {what} is empty: "
                                f"{_preview(cells)}; give every row an image path and a label")
            rows.append((line, rel, label))
    except csv.Error as e:
        opened, closed = _spanning_quote(lines, ended)
        if opened is not None:
            raise DataError(_quote_message(path, opened, None if closed else "end", e)) \
                from None
        raise DataError(f"{path} line {ended + 1}: not valid CSV ({e}); check its "
                        f"quotes") from None
    return rows


def _check_line_breaks(path: str, lines: list[str], line: int, ended: int,
                       cells: list[str]) -> None:
    """A path or label never holds a line break: a cell that does is a quote left open
    (the csv module reads on to the closing quote, or to the end of the file)."""
    if ended == line or not any("\n" in c or "\r" in c for c in cells):
        return
    opened, closed = _spanning_quote(lines, line - 1)
    if opened is None:  # cannot happen with the csv module's dialect; name the row
        opened = line
    raise DataError(_quote_message(path, opened, ended if closed else "end"))


def _quote_message(path: str, opened: int, runs_to: int | str | None,
                   error: Exception | None = None) -> str:
    if runs_to == "end":
        what = "is never closed: the cell runs on to the end of the file"
    elif runs_to is None:
        what = f"is not closed before the csv module's limit ({error})"
    else:
        what = f"is closed only on line {runs_to}, so the cell holds line breaks"
    return (f"{path} line {opened}: a quote opened on this line {what}; close the quote on "
            f"line {opened} (a quote inside a quoted path or label is written twice: \"\")")


def _spanning_quote(lines: list[str], skip: int) -> tuple[int | None, bool]:
    """Reading ``lines`` after the first ``skip``: the line (1-based) of the first quote
    that opens a cell running past the end of its line, and whether that cell closes.

    Follows the ``csv`` module's default dialect: a quote opens a cell only at the cell's
    start, and ``""`` inside a quoted cell is one literal quote.
    """
    opened = None  # the line of the quote of the open quoted cell
    at_start = True
    for number, text in enumerate(lines[skip:], skip + 1):
        i = 0
        while i < len(text):
            ch = text[i]
            if opened is not None:
                if ch == '"':
                    if text[i + 1:i + 2] == '"':
                        i += 1
                    else:
                        if opened != number:
                            return opened, True
                        opened, at_start = None, False
            elif ch == '"' and at_start:
                opened = number
            else:
                at_start = ch in ",\r\n"
            i += 1
    return opened, False


def _is_header(cells: list[str]) -> bool:
    names = [c.strip().lower().replace(" ", "_") for c in cells[:2]]
    return names[0] in _PATH_HEADERS or (len(names) > 1 and names[1] in _LABEL_HEADERS)


def _preview(cells: list[str]) -> str:
    text = ",".join(cells)
    return repr(text if len(text) <= 80 else text[:77] + "...")
