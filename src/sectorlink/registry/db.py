"""Opening the registry database and bringing its schema up to date.

SQLite (a file next to the analyst's work) is the default; PostgreSQL is a URL away.
Both get their schema from the same Alembic migrations, run in-process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sectorlink.registry import auditchain
from sectorlink.registry.changes import ACTOR_INFO, watch

DEFAULT_URL = "sqlite:///sectorlink-registry.db"
URL_ENV = "SECTORLINK_REGISTRY_URL"
MIGRATIONS = Path(__file__).parent / "migrations"


def resolve_url(url: str | None = None) -> str:
    """The URL given, else `$SECTORLINK_REGISTRY_URL`, else a SQLite file here.

    A bare `postgresql://` URL is pointed at psycopg 3, the driver we ship.
    """
    chosen = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if chosen.startswith(("postgresql://", "postgres://")):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


class Registry:
    """A handle on one registry database: an engine and a session factory.

    Example:
        >>> registry = Registry.open("sqlite:///hub-registry.db")
        >>> with registry.session() as session:
        ...     ...
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._key: bytes | None = None
        self.actor: str | None = None  # who writes, when a session does not say
        watch(self._sessions, self.audit_key)  # every write is audited

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Registry:
        """Open the registry at `url` (see `resolve_url`), migrating it unless told not to."""
        engine = make_engine(resolve_url(url))
        database = engine.url.database
        fresh = engine.url.get_backend_name() == "sqlite" and (
            not database or database == ":memory:" or not Path(database).exists()
        )
        if upgrade:
            migrate(engine)
        if fresh:  # a new file: a witness left by an earlier registry there is not its own
            auditchain.forget_witness(engine)
        return cls(engine)

    def audit_key(self) -> bytes:
        """The audit chain's key (kept outside the database; see `registry.auditchain`)."""
        if self._key is None:
            key = auditchain.audit_key(self.engine)
            assert key is not None
            self._key = key
        return self._key

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, *, actor: str | None = None) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back otherwise.

        Every write in it is audited under `actor` (default: the OS user, "(library)");
        a caller that learns the actor later sets `session.info["actor"]`.
        """
        session = self._sessions()
        if actor or self.actor:
            session.info[ACTOR_INFO] = actor or self.actor
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            head = auditchain.pending_head(session)
            session.close()
        if head is not None:
            auditchain.write_witness(self.engine, head)

    def close(self) -> None:
        self.engine.dispose()


def open_registry(url: str | None = None) -> Registry:
    """Open (and migrate) the registry at `url`, `$SECTORLINK_REGISTRY_URL` or the default."""
    return Registry.open(url)
