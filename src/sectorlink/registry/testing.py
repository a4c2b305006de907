"""Helpers for tests that need a registry, on SQLite and on PostgreSQL.

Import the fixtures into a `conftest.py` (`from sectorlink.registry.testing import
registry, sqlite_registry, sample_region`) and a test taking `registry` runs twice: on a
fresh SQLite file and on a real PostgreSQL (marked `postgres`). PostgreSQL comes from
`$SECTORLINK_TEST_POSTGRES_URL`, by default the role and database that
`scripts/start-postgres.sh` sets up; when it cannot be reached those runs skip, saying why.
Each pytest-xdist worker gets its own PostgreSQL database, migrated once and emptied
between tests.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sectorlink.registry import auditchain
from sectorlink.registry.db import Registry, make_engine, migrate, resolve_url
from sectorlink.registry.models import Base

POSTGRES_URL_ENV = "SECTORLINK_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://sectorlink:sectorlink@127.0.0.1:5432/sectorlink_test"


def postgres_base_url() -> str:
    return resolve_url(os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL)


def postgres_unavailable_reason(url: str) -> str | None:
    """None when PostgreSQL at `url` answers, else why not (for a skip message)."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: skip, and say why
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        shown = make_url(url).render_as_string(hide_password=True)
        return (
            f"PostgreSQL not reachable at {shown} ({first}); run scripts/start-postgres.sh "
            f"as root or set {POSTGRES_URL_ENV}"
        )
    finally:
        engine.dispose()
    return None


def create_worker_database(base_url: str, worker: str) -> str:
    """Drop and create `<db>_<worker>` next to the base database; return its URL."""
    base = make_url(base_url)
    name = f"{base.database}_{worker}".lower()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def empty_registry(registry: Registry) -> None:
    """Delete every row (the schema stays). The audit table's guard triggers are set
    aside for this one transaction: only tests do this."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    auditchain.forget_witness(registry.engine)  # its head is no longer in the log
    with registry.engine.begin() as connection:
        if registry.engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            connection.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(
                text(
                    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
                    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
                )
            )


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per worker; tests get copies (much faster than migrating)."""
    path = tmp_path_factory.mktemp("registry-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_registry(_sqlite_template: Path, tmp_path: Path) -> Iterator[Registry]:
    path = tmp_path / "registry.db"
    shutil.copyfile(_sqlite_template, path)
    registry = Registry(make_engine(f"sqlite:///{path}"))
    yield registry
    registry.close()


@pytest.fixture(scope="session")
def _postgres_worker(worker_id: str) -> Iterator[Registry]:
    base = postgres_base_url()
    reason = postgres_unavailable_reason(base)
    if reason:
        pytest.skip(reason)
    registry = Registry(make_engine(create_worker_database(base, worker_id)))
    migrate(registry.engine)
    yield registry
    registry.close()


@pytest.fixture
def postgres_registry(_postgres_worker: Registry) -> Registry:
    empty_registry(_postgres_worker)
    return _postgres_worker


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest) -> Registry:
    """A fresh, migrated, empty registry: once on SQLite, once on PostgreSQL."""
    name = "sqlite_registry" if request.param == "sqlite" else "postgres_registry"
    value: Registry = request.getfixturevalue(name)
    return value


SAMPLE_SPECS: dict[str, dict[str, Any]] = {
    "ae.yaml": {
        "spec_version": 1,
        "source": "ae_northgate",
        "partner": "Northgate Hospital NHS Trust",
        "description": "Emergency department attendances, one row per attendance.",
        "record_id": "AttendanceNo",
        "person": {
            "full_name": {"column": "PatientName", "split": "surname_comma_forename"},
            "birth_date": {"column": "DOB", "formats": ["%d/%m/%Y"]},
            "sex": "Gender",
            "postcode": "PostCode",
            "nhs_number": "NHSNo",
        },
        "events": [
            {
                "event_type": {"column": "Intent", "codes": {"Assault": "ae_assault"}},
                "start_time": {"column": "ArrivalDT"},
                "site_code": {"value": "RNG01"},
                "detail": {
                    "violence": {
                        "when": {"column": "Intent", "in": ["Assault"]},
                        "arrival_datetime": "ArrivalDT",
                        "assault_method": "Method",
                        "assault_location_type": "PlaceType",
                    }
                },
            }
        ],
    },
    "police.yaml": {
        "spec_version": 1,
        "source": "police_northgate",
        "partner": "Northgate Police",
        "record_id": "PersonRef",
        "person": {"full_name": "Name", "birth_date": "DOB", "postcode": "Postcode"},
        "events": [
            {"event_type": {"value": "police_incident"}, "start_time": "When", "postcode": "Where"}
        ],
    },
    # A second file from the same source: its fields add to the same data set.
    "police_outcomes.yaml": {
        "spec_version": 1,
        "source": "police_northgate",
        "partner": "Northgate Police",
        "events": [
            {
                "event_type": {"value": "police_incident"},
                "record_id": "PersonRef",
                "event_id": "CrimeRef",
                "start_time": "Reported",
                "small_area": "LSOA",
            }
        ],
    },
    "lead.yaml": {
        "spec_version": 1,
        "source": "lead_inspections",
        "partner": "Northgate City Council Public Health",
        "tables": {
            "property": {"property_id": "UPRN", "postcode": "Postcode", "year_built": "Built"},
            "property_inspection": {
                "inspection_id": "Ref",
                "property_id": "UPRN",
                "inspection_date": "Date",
            },
        },
    },
}


def write_sample_region(folder: Path, *, encoded: tuple[str, ...] = ()) -> Path:
    """A small region (three partners, four specs, a manifest); returns the manifest.

    The extract files are not written: registering a region reads only the specs.
    """
    import yaml

    (folder / "specs").mkdir(parents=True, exist_ok=True)
    for name, spec in SAMPLE_SPECS.items():
        (folder / "specs" / name).write_text(yaml.safe_dump(spec, sort_keys=False))
    sectors = {
        "ae.yaml": "health care",
        "police.yaml": "police",
        "police_outcomes.yaml": "police",
        "lead.yaml": "public health",
    }
    extracts = []
    for name, spec in SAMPLE_SPECS.items():
        extract = {
            "source": spec["source"],
            "partner": spec["partner"],
            "sector": sectors[name],
            "spec": f"specs/{name}",
            "file": f"extracts/{name.replace('.yaml', '.csv')}",
            "description": spec.get("description", f"{spec['partner']} extract"),
        }
        if spec["source"] in encoded:
            extract["identifiers"] = "encoded"
        extracts.append(extract)
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({"region": "Northgate", "extracts": extracts}, indent=2))
    return manifest


@pytest.fixture
def sample_region(tmp_path: Path) -> Path:
    """The manifest of a small sample region written under `tmp_path`."""
    return write_sample_region(tmp_path / "region")
