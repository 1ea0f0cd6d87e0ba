"""Database locks that guard capacity: the database decides, not counting in Python.

On PostgreSQL a service locks the rows it is about to re-count with SELECT ... FOR UPDATE, in id
order. SQLite has no row locks, and a transaction that read and then tries to write after another
writer committed fails at once ("database is locked") instead of waiting. So on SQLite a unit of
work that means to write (a POST request, a scheduled job) begins IMMEDIATE: it takes the single
write lock up front and waits its turn (busy_timeout). Reads (GET pages) begin deferred and never
block anyone, thanks to WAL.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidRequestError

from app.extensions import db

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info["immediate"] = immediate


def holds_write_lock() -> bool:
    """Whether this transaction already holds the database's only write lock (SQLite, begun
    IMMEDIATE): then every row it has read is current and stays so until it ends, and locking a
    loaded row again, or reading it again to see what another request changed, would read the same."""
    if db.engine.dialect.name != "sqlite" or not db.session().in_transaction():
        return False
    return bool(db.session.connection().info.get("immediate"))


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


def lock_rows(model, ids: Sequence[int]) -> list:
    """Lock rows of `model` for the rest of the transaction and return them freshly loaded.

    Rows are locked in id order (a fixed order, so two lockers never deadlock). On SQLite the
    transaction of a POST request or job already holds the write lock.
    """
    if not ids:
        return []
    if holds_write_lock():
        loaded = [db.session.identity_map.get(db.session.identity_key(model, i)) for i in sorted(set(ids))]
        if all(row is not None and not sa_inspect(row).expired_attributes for row in loaded):
            return loaded  # read in this transaction, which has held the only write lock all along
    query = select(model).where(model.id.in_(sorted(set(ids)))).order_by(model.id)
    if db.engine.dialect.name != "sqlite":
        query = query.with_for_update()
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def lock_loaded(row) -> bool:
    """Lock a row already loaded, like `lock_rows`, reading its columns again but keeping the
    relationships already loaded on it; False when the row no longer exists."""
    if holds_write_lock() and not sa_inspect(row).expired_attributes:
        # Loaded in this transaction, which has held the write lock since it began (rows loaded
        # before a commit or rollback are expired, so they are read again below).
        return True
    columns = [attr.key for attr in sa_inspect(row).mapper.column_attrs]
    try:
        db.session.refresh(row, attribute_names=columns,
                           with_for_update=True if db.engine.dialect.name != "sqlite" else None)
    except InvalidRequestError:
        return False
    return True
