"""Security: typed, keyed audit entries; sign-in attempts; registry settings.

* `audit_entry.event` (the typed event's name), `organisation_id` (the stable id of the
  organisation, whatever it is called later) and `scheme` (`sha256` for the entries
  written before this revision, `hmac-sha256` after: keyed by a secret kept outside the
  database, see `sectorlink.governance.audit`).
* A trigger refusing an INSERT whose sequence number or hashes already exist, so
  `INSERT OR REPLACE` (SQLite deletes the old row without firing DELETE triggers) and
  `INSERT ... ON CONFLICT` cannot overwrite an entry.
* `login_attempt`: failed and successful sign-ins by account and address (rate limit).
* `registry_setting`: settings only an admin changes (the disclosure minimum).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSAL = "audit_entry is append-only: an entry with this sequence number or hash exists"
_EXISTS = (
    "EXISTS (SELECT 1 FROM audit_entry WHERE seq = NEW.seq OR entry_hash = NEW.entry_hash "
    "OR prev_hash = NEW.prev_hash)"
)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): the audit table's triggers must stay in place.
    op.add_column(
        "audit_entry",
        sa.Column("event", sa.String(length=60), nullable=False, server_default="recorded"),
    )
    op.add_column("audit_entry", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.add_column(
        "audit_entry",
        sa.Column("scheme", sa.String(length=20), nullable=False, server_default="sha256"),
    )
    op.create_index("ix_audit_entry_event", "audit_entry", ["event"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempt_username_at", "login_attempt", ["username_key", "at"])
    op.create_index("ix_login_attempt_address_at", "login_attempt", ["address", "at"])
    op.create_table(
        "registry_setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
            f"WHEN {_EXISTS} BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )
    else:
        op.execute(
            "CREATE FUNCTION audit_entry_refuse_replace() RETURNS trigger AS $$ "
            f"BEGIN IF {_EXISTS} THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; RETURN NEW; END; "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_replace BEFORE INSERT ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_replace()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_replace")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_replace ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_refuse_replace()")
    op.drop_table("registry_setting")
    op.drop_index("ix_login_attempt_address_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_username_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index("ix_audit_entry_event", table_name="audit_entry")
    # Plain DROP COLUMN, not a batch copy, which would lose the table's triggers.
    for column in ("scheme", "organisation_id", "event"):
        op.drop_column("audit_entry", column)
