"""The database: which one, how to connect, and keeping its schema current.

SQLite in the user data directory (``emoethics.db``, write-ahead log, every commit synced to
disk) unless ``$EMOETHICS_DATABASE_URL`` names another, e.g.
``postgresql+psycopg://user:pass@host/emoethics``. The schema is brought up to date by the
Alembic migrations in ``store/migrations`` the first time a process opens a database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..config import data_dir, env
from ..errors import ConfigError

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(root: Path | None = None) -> str:
    """``$EMOETHICS_DATABASE_URL``, or SQLite in ``root`` (default: the user data directory)."""
    if root is None and (url := env("EMOETHICS_DATABASE_URL")):
        return url
    return f"sqlite:///{(root or data_dir()) / 'emoethics.db'}"


def describe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 (DB-API connection)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def engine(url: str | None = None) -> Engine:
    """The (cached) engine for ``url``, with its schema migrated to the newest version."""
    url = url or database_url()
    with _lock:
        if url in _engines:
            return _engines[url]
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(f"not a database URL: {url!r}") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            eng = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as e:
            raise ConfigError(f"cannot use database {describe(url)}: {e}") from None
        if eng.dialect.name == "sqlite":
            event.listen(eng, "connect", _sqlite_pragmas)
        try:
            migrate(eng)
        except OperationalError as e:
            raise ConfigError(f"cannot open database {describe(url)}: {str(e.orig).strip()}") from None
        _engines[url] = eng
        return eng


def migrate(eng: Engine) -> None:
    """Upgrade the schema to the newest migration (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_tables(url: str | None = None) -> list[str]:
    """The tables in the database (for checks and ``emoethics db``)."""
    return sorted(inspect(engine(url)).get_table_names())


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block ends (and rolls back on an error)."""
    maker = sessionmaker(engine(url), expire_on_commit=False)
    with maker() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def add_once(url: str | None, row: Any, key: Any) -> None:
    """Store ``row`` unless a row of its class with primary key ``key`` is there already; another
    process (a second proxy worker) storing the same row at the same moment is not an error."""
    try:
        with session(url) as s:
            if s.get(type(row), key) is None:
                s.add(row)
    except IntegrityError:
        with session(url) as s:
            if s.get(type(row), key) is None:
                raise


def forget_engines() -> None:
    """Close every cached engine (tests, and after a fork)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
