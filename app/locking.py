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


def lock_rows(model, ids: Sequence[int]) -> list:
    """Lock rows of `model` for the rest of the transaction and return them freshly loaded.

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
    query = select(model).where(model.id.in_(sorted(set(ids)))).order_by(model.id)
    if db.engine.dialect.name != "sqlite":
        query = query.with_for_update()
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def lock_loaded(row) -> bool:
    """Lock a row already loaded, like `lock_rows`, reading its columns again but keeping the
    relationships already loaded on it; False when the row no longer exists."""
    begin_writing()
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
