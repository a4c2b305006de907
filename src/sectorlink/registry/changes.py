"""Every write to the registry becomes an audit entry, in the same transaction.

`watch(sessionmaker, key)` hooks a session factory: before each flush it notes what is
about to change (the values before, from SQLAlchemy's attribute history), after the flush
it writes one `registry-change` entry per changed entry (organisation, data set,
agreement, user, ...) naming the actor (`session.info["actor"]`), what changed, and the
values before and after. Rows that belong to an entry (a data set's fields, an
agreement's parties and data sets, a project's members) are folded into their parent's
entry, so registering a data set with twenty fields is one entry, not twenty-one.

Because the entry is written in the write's own transaction, a write that commits is
audited and one that rolls back leaves no entry. Secrets (password and token hashes)
are never copied into the log.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, object_session, sessionmaker
from sqlalchemy.orm.relationships import RelationshipProperty

from sectorlink.registry.auditchain import append_rows_in, entry_values
from sectorlink.registry.models import (
    Agreement,
    AgreementDataset,
    AgreementParty,
    ApiToken,
    Dataset,
    DatasetField,
    Organisation,
    Person,
    Project,
    ProjectContact,
    ProjectDataset,
    ProjectOrganisation,
    RegistrySetting,
    User,
)

EVENT = "registry-change"
ACTOR_INFO = "actor"
_PENDING = "sectorlink.registry_changes"

# The entries audited on their own, by the name the log gives them.
ENTITIES: dict[type[Any], str] = {
    Organisation: "organisation",
    Dataset: "dataset",
    Agreement: "agreement",
    Project: "project",
    User: "user",
    ApiToken: "token",
    RegistrySetting: "setting",
}
# Rows folded into a parent's entry: (parent type, parent id column, what they are).
CHILDREN: dict[type[Any], tuple[type[Any], str, str]] = {
    DatasetField: (Dataset, "dataset_id", "fields"),
    AgreementParty: (Agreement, "agreement_id", "parties"),
    AgreementDataset: (Agreement, "agreement_id", "datasets"),
    ProjectOrganisation: (Project, "project_id", "members"),
    ProjectDataset: (Project, "project_id", "datasets"),
    ProjectContact: (Project, "project_id", "contacts"),
    Person: (Organisation, "organisation_id", "people"),
}
_SECRET = {"password_hash", "token_hash"}
_SKIPPED = {"created_at", "name_key", "username_key", "reference_key"} | _SECRET


def default_actor() -> str:
    try:
        return f"{getpass.getuser()} (library)"
    except Exception:  # no user name in some containers
        return "unknown (library)"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    ident = getattr(value, "id", None)
    name = getattr(value, "name", None) or getattr(value, "source", None)
    return {"id": ident, "name": name} if name is not None else ident


def _columns(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        a.key: _plain(getattr(obj, a.key)) for a in mapper.column_attrs if a.key not in _SKIPPED
    }


def _changed(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the columns and many-to-one links that changed."""
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.attrs:
        if attr.key in _SKIPPED:
            continue
        if isinstance(attr, RelationshipProperty) and attr.direction.name != "MANYTOONE":
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old is None and isinstance(attr, RelationshipProperty):
            old = _previous_target(obj, attr)
        if _plain(old) == _plain(new):
            continue
        before[attr.key], after[attr.key] = _plain(old), _plain(new)
    # a many-to-one link also shows as its id column: keep the readable one
    for key in [k for k in after if k.endswith("_id") and k[:-3] in after]:
        before.pop(key)
        after.pop(key)
    return before, after


def _previous_target(obj: Any, relation: RelationshipProperty[Any]) -> Any:
    """The entry a many-to-one link pointed at before (not loaded, so not in its history):
    its id column still holds the old value until the flush."""
    session = object_session(obj)
    column = next(iter(relation.local_columns), None)
    if session is None or column is None:
        return None
    old_id = getattr(obj, inspect(obj).mapper.get_property_by_column(column).key, None)
    return session.get(relation.mapper.class_, old_id) if old_id is not None else None


@dataclass
class _Change:
    entity: str
    obj: Any
    change: str  # created, updated, deleted
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    ident: Any = None


def _note_before(session: Session) -> None:
    pending: list[tuple[str, Any, dict[str, Any], dict[str, Any]]] = session.info.setdefault(
        _PENDING, []
    )
    for obj in session.dirty:
        if (type(obj) in ENTITIES or type(obj) in CHILDREN) and session.is_modified(obj):
            before, after = _changed(obj)
            if before or after:
                pending.append(("updated", obj, before, after))
    for obj in session.deleted:
        if type(obj) in ENTITIES or type(obj) in CHILDREN:
            pending.append(("deleted", obj, _columns(obj), {}))
    for obj in session.new:
        if type(obj) in ENTITIES or type(obj) in CHILDREN:
            pending.append(("created", obj, {}, {}))


def _summary(change: _Change) -> str:
    name = change.after.get("name") or change.before.get("name")
    name = name or change.after.get("source") or change.before.get("source")
    name = name or change.after.get("username") or change.before.get("username")
    name = name or change.after.get("reference") or change.before.get("reference")
    label = f"{change.entity} {change.ident}" + (f" ({name})" if name else "")
    if change.change != "updated":
        return f"{label} {change.change}"
    parts = [
        f"{key}: {change.before.get(key)!r} -> {change.after.get(key)!r}"
        for key in sorted(change.after)
    ]
    return f"{label} updated: " + "; ".join(parts)


def _organisation_id(change: _Change) -> int | None:
    obj = change.obj
    if isinstance(obj, Organisation):
        return obj.id
    for attribute in ("owner_id", "organisation_id"):
        value = getattr(obj, attribute, None)
        if isinstance(value, int):
            return value
    return None


def _write_after(session: Session, key: Callable[[], bytes]) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    changes: dict[tuple[str, Any], _Change] = {}
    order: list[tuple[str, Any]] = []

    def entry_for(entity: str, obj: Any, ident: Any, kind: str) -> _Change:
        found = changes.get((entity, ident))
        if found is None:
            found = _Change(entity, obj, kind, ident=ident)
            changes[(entity, ident)] = found
            order.append((entity, ident))
        return found

    for kind, obj, before, after in pending:
        if type(obj) in ENTITIES:
            entity = ENTITIES[type(obj)]
            ident = inspect(obj).mapper.primary_key_from_instance(obj)[0]
            change = entry_for(entity, obj, ident, kind)
            change.change = kind if change.change != "created" else "created"
            if kind == "created":
                change.after.update(_columns(obj))
            else:
                change.before.update(before)
                change.after.update(after)
            continue
        parent_type, parent_column, what = CHILDREN[type(obj)]
        values = _columns(obj) if kind != "deleted" else before
        parent_id = values.get(parent_column)
        if not isinstance(parent_id, int):
            continue
        parent = session.get(parent_type, parent_id)
        change = entry_for(ENTITIES[parent_type], parent, parent_id, "updated")
        shown = {k: v for k, v in values.items() if k not in ("id", parent_column)}
        if kind == "updated":
            shown = {"before": before, "after": after, "id": values.get("id")}
        label = {"created": "added", "deleted": "removed", "updated": "changed"}[kind]
        change.after.setdefault(f"{what} {label}", []).append(shown)

    rows = []
    actor = str(session.info.get(ACTOR_INFO) or default_actor())
    for entity_key in order:
        change = changes[entity_key]
        if change.change == "updated" and not change.after and not change.before:
            continue
        name = ""
        if isinstance(change.obj, Organisation):
            name = change.obj.name
        elif isinstance(change.obj, Dataset) and change.obj.owner is not None:
            name = change.obj.owner.name
        rows.append(
            entry_values(
                event=EVENT,
                actor=actor,
                organisation=name,
                organisation_id=_organisation_id(change),
                action=f"{change.change} {change.entity}",
                purpose="registry",
                datasets=[change.obj.source] if isinstance(change.obj, Dataset) else [],
                outcome="recorded",
                reason=_summary(change),
                detail={
                    "entity": change.entity,
                    "id": change.ident,
                    "change": change.change,
                    "before": change.before,
                    "after": change.after,
                },
            )
        )
    if rows:
        append_rows_in(session, rows, key())


def watch(factory: sessionmaker[Session], key: Callable[[], bytes]) -> None:
    """Audit every write made through sessions from `factory`."""

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        _note_before(session)

    def after_flush(session: Session, _context: Any) -> None:
        _write_after(session, key)

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "after_flush", after_flush)
    event.listen(factory, "after_soft_rollback", lambda s, _t: after_rollback(s))
