"""Registry fixtures: `registry` runs each test on SQLite and on PostgreSQL."""

from sectorlink.registry.testing import (  # noqa: F401  (fixtures, found by name)
    _postgres_worker,
    _sqlite_template,
    postgres_registry,
    registry,
    sample_region,
    sqlite_registry,
)
