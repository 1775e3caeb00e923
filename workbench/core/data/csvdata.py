"""A dataset listed in a CSV file of ``path,label`` rows.

::

    path,label
    cats/001.jpg,cat
    /data/more/dog 7.png,dog

The header row is optional (it is recognised by its column names, e.g. ``path,label``,
``file,class`` or ``image,category``); a header that names a path and a label column
picks those two in any position, and the other columns are ignored (``id,image_path,
label``). The cells may be separated by commas, semicolons, tabs or ``|`` (a ``.tsv``
file too): the separator is detected from the first lines. Relative paths are relative to
the CSV file's folder, with ``/`` or Windows' ``\\``; absolute paths are allowed (a Windows
one, ``C:\\...``, only on Windows). The classes are the sorted unique labels (the order
``ImageFolder`` would give folders of those names), so the labels of a model do not depend
on the order of the rows. Listed files that do not exist are reported in ``unreadable``
with the reason ``"file not found"`` and left out; a malformed row stops the scan with a
:class:`~workbench.core.errors.DataError` naming its line.
"""

from __future__ import annotations

import csv
import os
import re
from typing import Callable

from workbench.core.data.images import is_image_file
from workbench.core.data.index import DatasetIndex, ScanCancelled, Unreadable, verify_samples
from workbench.core.data.layouts import case_clash_warnings
from workbench.core.errors import DataError

_PATH_HEADERS = ("path", "file", "filename", "file_name", "filepath", "file_path", "image",
                 "image_path", "img", "img_path", "image_name", "name")
_LABEL_HEADERS = ("label", "class", "class_name", "category", "target", "species", "breed",
                  "labels", "y")
_DELIMITERS = ",;\t|"
_WINDOWS_ABSOLUTE = re.compile(r"^([A-Za-z]:[\\/]|\\\\)")
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
    rows, header = _read_rows(path)
    base = os.path.dirname(os.path.abspath(path))
    warnings: list[str] = []
    if not header and len(rows) > 1 and _looks_like_header(rows, base):
        line, rel, label = rows.pop(0)
        warnings.append(f"line {line} looks like a header ({rel}, {label}), so it is not read "
                        f"as an image: name the columns path,label")
    labels = sorted({label for _, _, label in rows})
    label_of = {c: i for i, c in enumerate(labels)}
    samples: list[tuple[str, int]] = []
    unreadable: list[Unreadable] = []
    seen: dict[str, tuple[int, str]] = {}
    total = len(rows)
    for done, (line, rel, label) in enumerate(rows, 1):
        if done % _PROGRESS_EVERY == 1 and is_cancelled is not None and is_cancelled():
            raise ScanCancelled(f"the scan of {path} was cancelled")
        windows = os.name != "nt" and _WINDOWS_ABSOLUTE.match(rel)
        full = rel if windows else _full_path(base, rel)
        if full in seen:
            first_line, first_label = seen[full]
            if first_label != label:
                raise DataError(f"{path} line {line}: {rel} is already listed on line "
                                f"{first_line} with the label {first_label!r}, here with "
                                f"{label!r}: an image has one label, remove one of the rows")
            continue  # the same row twice: count the image once
        seen[full] = (line, label)
        if windows:
            unreadable.append(Unreadable(full, f"a Windows absolute path (line {line}): this "
                                               f"computer cannot open it; write the path "
                                               f"relative to the CSV file's folder {base}"))
        elif os.path.isdir(full):
            unreadable.append(Unreadable(full, "a folder, not an image file"))
        elif not os.path.exists(full):
            unreadable.append(Unreadable(full, "file not found"))
        else:
            samples.append((full, label_of[label]))
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    if rows and not samples and all(u.reason == "file not found" for u in unreadable):
        warnings += _missing_hints(rows, base)
    warnings += case_clash_warnings(labels)
    index = DatasetIndex(path, labels, samples, unreadable, source="csv", warnings=warnings)
    if verify:
        verify_samples(index, progress, is_cancelled)
    return index


def _full_path(base: str, rel: str) -> str:
    """The file a path cell names: ``\\`` read as ``/`` (a CSV written on Windows),
    relative to the CSV file's folder ``base``."""
    return os.path.normpath(os.path.join(base, os.path.expanduser(rel.replace("\\", "/"))))


def _looks_like_header(rows: list[tuple[int, str, str]], base: str) -> bool:
    """The first row names columns this module does not know (``filepath_x,kind``): its
    path is no image file name and no file, and its label is on no other row."""
    _, rel, label = rows[0]
    return (not is_image_file(rel) and not os.path.exists(_full_path(base, rel))
            and all(other != label for _, _, other in rows[1:]))


def _missing_hints(rows: list[tuple[int, str, str]], base: str) -> list[str]:
    """What to check when no listed file exists."""
    line, rel, _ = rows[0]
    hints = [f"none of the {len(rows)} listed files exists: paths are read relative to the "
             f"CSV file's folder {base} (line {line}: {rel} is looked for as "
             f"{_full_path(base, rel)})"]
    if all(not os.path.splitext(r)[1] for _, r, _ in rows):
        hints.append(f"the paths have no file extension (line {line}: {rel}): write each "
                     f"image's file name with its extension, e.g. {rel}.jpg")
    return hints


def _read_rows(path: str) -> tuple[list[tuple[int, str, str]], bool]:
    """``(line number, path cell, label cell)`` of every data row, and whether line 1 was
    a recognised header."""
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
    delimiter = _delimiter(path, lines)
    sep = {",": "a comma", ";": "a semicolon", "\t": "a tab", "|": "a |"}[delimiter]
    reader = csv.reader(lines, delimiter=delimiter)
    first, columns = True, None
    ended = 0  # the line the previous row ended on: a row starts on the next one
    try:
        for cells in reader:
            # A quoted cell may span lines: a row is named by the line it starts on.
            line, ended = ended + 1, reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are allowed anywhere
            if first:
                first = False
                columns = _header_columns(path, line, cells)
                if columns is not None:
                    continue
            _check_line_breaks(path, lines, line, ended, cells, delimiter)
            if columns is not None and columns != (0, 1):  # picked by the header's names
                need = max(columns) + 1
                if len(cells) < need:
                    raise DataError(f"{path} line {line}: expected at least {need} cells "
                                    f"(the header names column {need} as the "
                                    f"{'path' if columns[0] == need - 1 else 'label'}), got "
                                    f"{len(cells)}: {_preview(cells, delimiter)}")
                cells = [cells[columns[0]], cells[columns[1]]]
            # Trailing empty cells come from spreadsheets that pad rows ("a.png,cat,,").
            while len(cells) > 2 and not cells[-1].strip():
                cells = cells[:-1]
            if len(cells) != 2:
                raise DataError(f"{path} line {line}: expected 2 cells (path,label), got "
                                f"{len(cells)}: {_preview(cells, delimiter)}; quote a path or "
                                f"label that contains {sep}, or name the columns in a "
                                f"header (path,label)")
            rel, label = cells[0].strip(), cells[1].strip()
            if not rel or not label:
                what = "path" if not rel else "label"
                raise DataError(f"{path} line {line}: the {what} is empty: "
                                f"{_preview(cells, delimiter)}; give every row an image path "
                                f"and a label")
            rows.append((line, rel, label))
    except csv.Error as e:
        opened, closed = _spanning_quote(lines, ended, delimiter)
        if opened is not None:
            raise DataError(_quote_message(path, opened, None if closed else "end", e)) \
                from None
        raise DataError(f"{path} line {ended + 1}: not valid CSV ({e}); check its "
                        f"quotes") from None
    return rows, columns is not None


def _delimiter(path: str, lines: list[str]) -> str:
    """The cell separator of the file: ``,``, ``;``, tab or ``|``, from its first lines."""
    sample = "".join(lines[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:  # rows that disagree (a broken one): go by the first line
        first = next((t for t in lines if t.strip()), "")
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        if counts[best]:
            return best
        return "\t" if path.lower().endswith(".tsv") else ","


def _header_columns(path: str, line: int, cells: list[str]) -> tuple[int, int] | None:
    """``(path column, label column)`` when ``cells`` are a header row, else None."""
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    where = {n: i for i, n in reversed(list(enumerate(names)))}  # the first of each name
    p = next((where[n] for n in _PATH_HEADERS if n in where), None)
    lab = next((where[n] for n in _LABEL_HEADERS if n in where and where[n] != p), None)
    if p is not None and lab is not None:
        return p, lab
    if p is None and lab is None:
        return None
    if len(names) == 2:
        return (p, 1 - p) if p is not None else (1 - lab, lab)
    missing = "path" if p is None else "label"
    raise DataError(f"{path} line {line} is a header ({', '.join(c.strip() for c in cells)}) "
                    f"with no {missing} column: name the image paths' column path and the "
                    f"classes' column label")


def _check_line_breaks(path: str, lines: list[str], line: int, ended: int,
                       cells: list[str], delimiter: str = ",") -> None:
    """A path or label never holds a line break: a cell that does is a quote left open
    (the csv module reads on to the closing quote, or to the end of the file)."""
    if ended == line or not any("\n" in c or "\r" in c for c in cells):
        return
    opened, closed = _spanning_quote(lines, line - 1, delimiter)
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


def _spanning_quote(lines: list[str], skip: int,
                    delimiter: str = ",") -> tuple[int | None, bool]:
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
                at_start = ch in delimiter + "\r\n"
            i += 1
    return opened, False


def _preview(cells: list[str], delimiter: str = ",") -> str:
    text = delimiter.join(cells)
    return repr(text if len(text) <= 80 else text[:77] + "...")
