"""SQLite connections: every statement has a time budget, and the ORM engine's writers take
turns in the process.

A `TimedConnection` stops a statement that runs past its `deadline` (SQLite's progress handler
looks every few thousand virtual-machine steps); the readers of shared/sqlite_reads.py and the
ORM engine's `GatedConnection`s both use it.

SQLite lets one writer at a time hold its write lock, and a writer that finds it taken waits by
sleeping and retrying (the busy timeout), with sleeps that grow to 100 ms. Fifty requests writing
at once in one process therefore spent most of their time asleep while the lock sat free, and the
unlucky ones ran out of busy timeout. Here the writers of one process queue on a `WriteGate`
instead: first come, first served, each woken the moment the one before it commits. The busy
timeout still covers writers in other processes on the same file.

The gate is held only for a write transaction, which begins at the first statement that writes
(with BEGIN IMMEDIATE) and ends at its commit or rollback. Reads before it run outside any
transaction, each seeing the latest commit, as PostgreSQL's default isolation does, so a request
that authenticates, validates and then writes holds the gate for its writes alone. No write
transaction spans a hop between the event loop and the threadpool, so a thread that holds the
gate never waits for a threadpool token held by threads waiting for the gate; a wait on the gate
is bounded by the busy timeout all the same, and ends in "database is locked" (a 503).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections import deque
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import ConnectionPoolEntry

# How many SQLite virtual-machine steps run between two looks at the statement's deadline.
PROGRESS_STEPS = 10_000

# Statements that neither write nor need the write lock: reads and transaction control.
_NOT_A_WRITE = re.compile(
    r"\s*(SELECT|VALUES|EXPLAIN|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|END)\b",
    re.IGNORECASE,
)


class WriteGate:
    """A first-come, first-served lock that any thread may release.

    `threading.Lock` wakes waiters in no particular order, so under a steady stream of writers
    one of them can wait out its whole timeout; here each waiter is handed the gate in turn.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        # Handed the gate between the timeout and the mutex: it is ours after all.
        return True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # hand over; the gate stays held
            else:
                self._held = False


_gates: dict[str, WriteGate] = {}
_gates_mutex = threading.Lock()


def write_gate(database: str) -> WriteGate:
    """The process's gate for one database file (every engine on it shares the gate)."""
    with _gates_mutex:
        return _gates.setdefault(database, WriteGate())


class TimedConnection(sqlite3.Connection):
    """An sqlite3 connection that gives up on a statement running past its deadline, with
    "interrupted" (shared.errors.is_statement_timeout). The deadline is set per statement by
    whoever runs it; SQLite cannot stop work inside one step of its virtual machine, such as
    an FTS5 phrase lookup, which is why such lookups never run on the event loop unproven
    (shared/sqlite_reads.py)."""

    deadline = math.inf

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_progress_handler(self.past_deadline, PROGRESS_STEPS)

    def past_deadline(self) -> bool:
        # A true answer interrupts the statement.
        return time.monotonic() > self.deadline


class GatedConnection(TimedConnection):
    """A TimedConnection that takes the process's write gate for its write transactions."""

    gate: WriteGate
    gate_timeout: float
    # A class default, for the moments before the engine's connect event has set the gate.
    holds_gate = False

    def begin_write(self) -> None:
        """Take the gate, then begin a write transaction unless one is open already."""
        if self.holds_gate:
            return
        if not self.gate.acquire(self.gate_timeout):
            raise sqlite3.OperationalError("database is locked")
        self.holds_gate = True
        if not self.in_transaction:
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release_if_done()
                raise

    def commit(self) -> None:
        self.deadline = math.inf
        try:
            super().commit()
        finally:
            self._release_if_done()

    def rollback(self) -> None:
        self.deadline = math.inf
        try:
            super().rollback()
        finally:
            self._release_if_done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.holds_gate:
                self.holds_gate = False
                self.gate.release()

    def _release_if_done(self) -> None:
        if self.holds_gate and not self.in_transaction:
            self.holds_gate = False
            self.gate.release()


def sqlite_connect_args(busy_timeout_seconds: float) -> dict[str, Any]:
    return {
        "check_same_thread": False,
        "timeout": busy_timeout_seconds,
        "factory": GatedConnection,
    }


def configure_sqlite(
    engine: Engine, *, busy_timeout_seconds: float, statement_timeout_seconds: float
) -> None:
    busy_ms = int(busy_timeout_seconds * 1000)
    gate = write_gate(str(engine.url.database))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: GatedConnection, _record: ConnectionPoolEntry) -> None:
        # Let these events, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        dbapi_connection.gate = gate
        dbapi_connection.gate_timeout = busy_timeout_seconds
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def before_statement(
        connection: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        dbapi_connection: GatedConnection = connection.connection.dbapi_connection
        dbapi_connection.deadline = time.monotonic() + statement_timeout_seconds
        if _NOT_A_WRITE.match(statement) is None:
            dbapi_connection.begin_write()
        elif statement.lstrip()[:9].upper() == "SAVEPOINT" and not dbapi_connection.in_transaction:
            # A savepoint outside a transaction would begin one that its RELEASE commits,
            # though SQLAlchemy holds an outer transaction open around it.
            dbapi_connection.execute("BEGIN")
