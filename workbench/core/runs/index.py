"""The SQLite index behind :class:`workbench.core.runs.store.RunStore`.

One table, ``runs``: a row per run folder (keyed by the folder's name) holding its
:class:`~workbench.core.runs.store.RunRecord` and the fingerprint of the files it was read from.
The index is a cache of the folders, so every failure is survivable:

* a file that is not a database (or a damaged one) is deleted and built again;
* a schema from another Workbench version (different columns) is dropped and rebuilt;
* where the file cannot be opened or written at all (read-only folder, a lock held for
  longer than the timeout), the index moves to an in-memory database for the rest of
  the store's life and says why in :attr:`RunIndex.problem`.

Every operation opens its own connection and closes it, so one index object may be used
from several threads; WAL mode lets other windows read while one writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from workbench.core.runs.record import RECORD_RULES, RunRecord

T = TypeVar("T")
COLUMNS = tuple(f.name for f in fields(RunRecord)) + ("fingerprint",)
# Changes with the columns and with the rules the records were read by: an index written
# with other fields is rebuilt, not misread, and one read by other rules is read again.
SCHEMA_VERSION = zlib.crc32(f"{','.join(COLUMNS)};rules {RECORD_RULES}".encode()) & 0x7FFFFFFF
LOCK_TIMEOUT_S = 10.0
#: Immediate lock conflicts are retried this many times before the index gives up.
LOCK_RETRIES = 8


class RunIndex:
    """The ``runs`` table in the SQLite file ``path`` (or in memory when that fails)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.problem = ""
        self._memory: sqlite3.Connection | None = None
        self._memory_lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        return self._memory is not None

    # -- queries -------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, str]:
        """Folder name -> fingerprint of every indexed run."""
        return self._run(lambda con: dict(con.execute("SELECT path, fingerprint FROM runs")))

    def records(self) -> list[RunRecord]:
        """Every indexed run, newest first (``path`` is the folder name)."""
        def query(con: sqlite3.Connection) -> list[RunRecord]:
            rows = con.execute("SELECT * FROM runs ORDER BY created DESC, path DESC")
            return [record_from_row(dict(r)) for r in rows]
        return self._run(query)

    def record(self, key: str, fingerprint: str | None = None) -> RunRecord | None:
        """The run ``key`` when it is indexed with this ``fingerprint`` (None: with any),
        else None."""
        def query(con: sqlite3.Connection) -> RunRecord | None:
            row = con.execute("SELECT * FROM runs WHERE path = ?", (key,)).fetchone() \
                if fingerprint is None else \
                con.execute("SELECT * FROM runs WHERE path = ? AND fingerprint = ?",
                            (key, fingerprint)).fetchone()
            return record_from_row(dict(row)) if row is not None else None
        return self._run(query)

    def apply(self, changed: Iterable[tuple[str, RunRecord]], gone: Iterable[str]) -> None:
        """Insert or replace the ``(fingerprint, record)`` pairs, delete the ``gone`` keys,
        in one transaction."""
        changed, gone = list(changed), list(gone)
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)

        def write(con: sqlite3.Connection) -> None:
            con.execute("BEGIN IMMEDIATE")
            try:
                for fp, record in changed:
                    row = record_to_row(record, fp)
                    con.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})",
                                [row[c] for c in COLUMNS])
                con.executemany("DELETE FROM runs WHERE path = ?", [(k,) for k in gone])
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        self._run(write)

    # -- connections ---------------------------------------------------------------------
    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the file, rebuilding it once when it is damaged; on the
        in-memory database when the file cannot be used."""
        if self._memory is None:
            if not self.path.parent.is_dir():
                # No runs folder yet: nothing to index, and listing must not create it.
                # An empty database for this call; the file is tried again next time.
                con = _memory_database()
                try:
                    return fn(con)
                finally:
                    con.close()
            discarded = False
            for attempt in range(LOCK_RETRIES + 1):
                try:
                    con = self._open()
                    try:
                        return fn(con)
                    finally:
                        con.close()
                except sqlite3.DatabaseError as e:
                    if self._damaged(e) and not discarded:
                        discarded = True
                        self._discard()
                        continue
                    if _locked(e) and attempt < LOCK_RETRIES:
                        # SQLite reports some lock conflicts at once, without waiting out
                        # the busy timeout (switching a fresh file to WAL while another
                        # connection opens it; a reader upgrading to a writer): try again.
                        time.sleep(0.05 * (attempt + 1))
                        continue
                    self._go_to_memory(e)
                    break
        with self._memory_lock:
            assert self._memory is not None
            return fn(self._memory)

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in apply).
        con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode=WAL")  # once per file: it is persistent
            _ensure_schema(con)
        except BaseException:
            con.close()
            raise
        return con

    @staticmethod
    def _damaged(e: sqlite3.DatabaseError) -> bool:
        # OperationalError (locked, read-only, cannot open) is a DatabaseError too, but
        # deleting the file would not cure it.
        return not isinstance(e, sqlite3.OperationalError)

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(f"{self.path}{suffix}").unlink()
            except OSError:
                pass  # missing, or not deletable: then opening it fails again, and memory
                # takes over

    def _go_to_memory(self, e: Exception) -> None:
        with self._memory_lock:
            if self._memory is None:
                self.problem = (f"the run index {self.path} cannot be used ({e}); runs are "
                                f"listed from their folders without it")
                self._memory = _memory_database(check_same_thread=False)


def indexed_record(path: str | Path, key: str) -> RunRecord | None:
    """The run ``key`` (a folder name) as the index file ``path`` last recorded it, read
    only: nothing is created, rebuilt or written. None when the file is missing or cannot
    be read, or has no such row (what a damaged run.json is recovered from:
    :mod:`workbench.core.runs.damaged`)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                              timeout=LOCK_TIMEOUT_S)
        try:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM runs WHERE path = ?", (key,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return record_from_row(dict(row)) if row is not None else None


def _locked(e: sqlite3.DatabaseError) -> bool:
    text = str(e).lower()
    return isinstance(e, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _memory_database(check_same_thread: bool = True) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=check_same_thread)
    con.row_factory = sqlite3.Row
    _ensure_schema(con)
    return con


def _ensure_schema(con: sqlite3.Connection) -> None:
    if con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        if con.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            con.execute("DROP TABLE IF EXISTS runs")
            cols = ", ".join(f'"{c}"' + (" TEXT PRIMARY KEY" if c == "path" else "")
                             for c in COLUMNS)
            con.execute(f"CREATE TABLE runs ({cols})")
            con.execute("CREATE INDEX runs_created ON runs (created)")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def record_to_row(record: RunRecord, fingerprint: str) -> dict[str, Any]:
    """``record`` as column values (the folder name instead of the path)."""
    row = asdict(record)
    row["path"] = Path(record.path).name
    row["has_bundle"] = int(record.has_bundle)
    row["input_size"] = json.dumps(list(record.input_size)) if record.input_size else None
    row["fingerprint"] = fingerprint
    return row


def record_from_row(row: dict[str, Any]) -> RunRecord:
    """The inverse of :func:`record_to_row` (``path`` stays the folder name)."""
    values = {f.name: row.get(f.name) for f in fields(RunRecord)}
    values["has_bundle"] = bool(values["has_bundle"])
    size = values["input_size"]
    try:
        values["input_size"] = tuple(json.loads(size)) if size else None
    except (TypeError, ValueError):
        values["input_size"] = None
    return RunRecord(**values)
