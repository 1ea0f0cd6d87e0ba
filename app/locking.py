"""Database locks that guard capacity: the database decides, not counting in Python.

On PostgreSQL a service locks the rows it is about to re-count with SELECT ... FOR UPDATE, in id
order. SQLite has no row locks, and a transaction that read and then tries to write after another
writer committed fails at once ("database is locked") instead of waiting. So on SQLite a unit of
work that means to write (a POST request, a scheduled job) begins IMMEDIATE: it takes the single
write lock up front and waits its turn (busy_timeout). Reads (GET pages) begin deferred and never
block anyone, thanks to WAL.

A POST whose work is mostly reading (a booking: the session, the person, who may book) can say so
with `reads_first`: it begins deferred like a page, and the first lock it takes (`lock_rows`,
`lock_loaded`) ends that read-only transaction and begins an immediate one on the same connection
(`begin_writing`), then reads the locked rows again, as on PostgreSQL. So in a rush the write lock
is held for the re-count and the writes only, not for the whole request.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidRequestError

from app.extensions import db

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


class QueuedWriters(sqlite3.Connection):
    """A SQLite connection whose writers queue on a lock file beside the database before they ask
    SQLite for its write lock, and leave the queue when their transaction ends.

    SQLite itself makes a writer that finds the lock taken sleep and try again, sleeping longer each
    time (up to 100 ms): in a rush the lock sits free while everyone sleeps. The kernel's file lock
    wakes the next writer as soon as the last one has committed. A thread already at the head of the
    queue through another connection goes straight to SQLite (which waits busy_timeout and fails)
    rather than waiting behind itself."""

    writers_fd: int | None = None
    queued = False
    _heads = threading.local()  # how many connections of this thread are at the head of the queue

    def join_queue(self, database: str) -> None:
        if self.queued or not database or database == ":memory:" or getattr(self._heads, "count", 0):
            return
        if self.writers_fd is None:
            self.writers_fd = os.open(database + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.writers_fd, fcntl.LOCK_EX)
        self.queued = True
        self._heads.count = getattr(self._heads, "count", 0) + 1

    def leave_queue(self) -> None:
        if self.queued:
            self.queued = False
            fcntl.flock(self.writers_fd, fcntl.LOCK_UN)
            self._heads.count = max(getattr(self._heads, "count", 1) - 1, 0)

    # The driver's own end of a transaction (SQLAlchemy calls it), then the queue moves on.
    def commit(self) -> None:
        try:
            sqlite3.Connection.commit(self)
        finally:
            self.leave_queue()

    def rollback(self) -> None:
        try:
            sqlite3.Connection.rollback(self)
        finally:
            self.leave_queue()

    def close(self) -> None:
        try:
            sqlite3.Connection.close(self)
        finally:
            self.leave_queue()
            if self.writers_fd is not None:
                os.close(self.writers_fd)
                self.writers_fd = None


def _queue_for_writing(connection) -> None:
    dbapi_connection = connection.connection.driver_connection
    if isinstance(dbapi_connection, QueuedWriters):
        dbapi_connection.join_queue(connection.engine.url.database or "")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):  # QueuedWriters too
        # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        immediate = _write_intent.get()
        if immediate:
            _queue_for_writing(connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info["immediate"] = immediate
        connection.info["writing"] = immediate
        connection.info["wrote"] = False


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_writes(connection, _cursor, _statement, _parameters, context, _executemany) -> None:
    # begin_writing may end a deferred transaction only while it has written nothing (once it has,
    # it holds the write lock already).
    if context is not None and (context.isinsert or context.isupdate or context.isdelete) \
            and connection.dialect.name == "sqlite":
        connection.info["wrote"] = True


def holds_write_lock() -> bool:
    """Whether this transaction has held the database's only write lock since it began (SQLite,
    begun IMMEDIATE): then every row it has read is current and stays so until it ends, and locking
    a loaded row again, or reading it again to see what another request changed, would read the same."""
    if db.engine.dialect.name != "sqlite" or not db.session().in_transaction():
        return False
    return bool(db.session.connection().info.get("immediate"))


def begin_writing() -> None:
    """Hold SQLite's write lock from here to the end of this transaction (nothing on PostgreSQL,
    whose locks are per row).

    A transaction begun deferred (`reads_first`) that has written nothing is committed, which ends
    its read, and an immediate one begins on the same connection, waiting its turn for the lock.
    Rows read before are kept but may be out of date: whoever calls this reads again what it relies on.
    """
    if db.engine.dialect.name != "sqlite":
        return
    connection = db.session.connection()
    if connection.info.get("writing") or connection.info.get("wrote"):
        # A transaction that has written holds the write lock since its first write.
        return
    connection.exec_driver_sql("COMMIT")
    _queue_for_writing(connection)
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info["writing"] = True


def reads_first(view):
    """Mark a view whose POST reads before it writes: on SQLite it begins deferred and takes the
    write lock only when it locks rows (see the module's docstring)."""
    view.reads_first = True
    return view


def queue_behind(row) -> bool:
    """Make this transaction wait for any other that holds `row` (a person booking, say) and keep it
    until the end; False when the row no longer exists.

    On PostgreSQL the row is locked now (FOR UPDATE), its columns read again. On SQLite nothing is
    done here: writers queue for the single write lock when they begin writing, and whatever they
    read before it is read again then.
    """
    if db.engine.dialect.name == "sqlite":
        return True
    return lock_loaded(row)


def set_write_intent(intent: bool):
    """Declare whether the coming transactions will write; returns a token for reset_write_intent."""
    return _write_intent.set(intent)


def reset_write_intent(token) -> None:
    _write_intent.reset(token)


@contextmanager
def write_intent() -> Iterator[None]:
    """Run a block whose transactions write (SQLite: BEGIN IMMEDIATE)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def lock_rows(model, ids: Sequence[int], loads: Sequence = ()) -> list:
    """Lock rows of `model` for the rest of the transaction and return them freshly loaded, with
    the relationships `loads` names (loader options) read in the same statement.

    Rows are locked in id order (a fixed order, so two lockers never deadlock). On SQLite the
    transaction of a POST request or job already holds the write lock.
    """
    if not ids:
        return []
    begin_writing()
    if holds_write_lock():
        loaded = [db.session.identity_map.get(db.session.identity_key(model, i)) for i in sorted(set(ids))]
        if all(row is not None and not sa_inspect(row).expired_attributes for row in loaded):
            return loaded  # read in this transaction, which has held the only write lock all along
    query = select(model).where(model.id.in_(sorted(set(ids)))).order_by(model.id).options(*loads)
    if db.engine.dialect.name != "sqlite":
        query = query.with_for_update(of=model)  # the rows joined in to load are not locked
    return list(db.session.scalars(query.execution_options(populate_existing=True)).unique())


def lock_loaded(row, *, shared: bool = False) -> bool:
    """Lock a row already loaded, like `lock_rows`, reading its columns again but keeping the
    relationships already loaded on it; False when the row no longer exists.

    `shared` (PostgreSQL): FOR SHARE, so that others locking it shared go on together while anyone
    locking it to change what it guards waits for them all. It can be traded for the exclusive lock
    later (`trade_for_exclusive`); on SQLite every lock is the single write lock.
    """
    begin_writing()
    if holds_write_lock() and not sa_inspect(row).expired_attributes:
        # Loaded in this transaction, which has held the write lock since it began (rows loaded
        # before a commit or rollback are expired, so they are read again below).
        return True
    postgresql = locks_are_shared()
    if shared and postgresql:
        # A savepoint to step back to: two holders of a shared lock who both wanted the exclusive
        # one would wait for each other. Anything pending is written before it, so stepping back
        # undoes nothing but the lock.
        db.session.flush()
        db.session.connection().exec_driver_sql(f"SAVEPOINT {_SHARED_LOCK}")
    columns = [attr.key for attr in sa_inspect(row).mapper.column_attrs]
    try:
        db.session.refresh(row, attribute_names=columns,
                           with_for_update=({"read": True} if shared else True) if postgresql else None)
    except InvalidRequestError:
        return False
    return True


_SHARED_LOCK = "shared_lock"


def locks_are_shared() -> bool:
    """Whether `lock_loaded(row, shared=True)` lets others hold the row too (PostgreSQL), rather than
    taking the one write lock (SQLite)."""
    return db.engine.dialect.name != "sqlite"


def trade_for_exclusive(row) -> bool:
    """Give up the shared lock `lock_loaded(row, shared=True)` took and queue for the exclusive one
    (nothing written since is undone: the caller writes only once it holds the lock it needs);
    False when the row no longer exists. PostgreSQL only (see `locks_are_shared`)."""
    db.session.connection().exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SHARED_LOCK}")
    return lock_loaded(row)
