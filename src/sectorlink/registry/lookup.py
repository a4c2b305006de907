"""Finding directory entries by the names people type, with helpful misses."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sectorlink.registry.errors import Duplicate, NotFound
from sectorlink.registry.models import Agreement, Dataset, Organisation, Project, User
from sectorlink.registry.vocab import name_key

T = TypeVar("T")


def _closest(session: Session, column: object, wanted: str) -> str:
    names = [str(n) for n in session.scalars(select(column)).all()]  # type: ignore[call-overload]
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _storable(text: str, what: str) -> None:
    # A name no registry could hold (PostgreSQL rejects NUL in any query) is simply unknown.
    if "\x00" in text:
        raise NotFound(f"unknown {what} {text!r}")


def organisation_by_name(session: Session, name: str) -> Organisation:
    _storable(name, "organisation")
    found = session.scalar(select(Organisation).where(Organisation.name_key == name_key(name)))
    if found is None:
        hint = _closest(session, Organisation.name, name)
        raise NotFound(f"unknown organisation {name!r}{hint}")
    return found


def organisation_by_reference(session: Session, reference: str) -> Organisation:
    """An organisation by its stable id written `#12` (which a rename does not change),
    or by its name."""
    text = reference.strip()
    if text.startswith("#") and text[1:].isdigit():
        found = session.get(Organisation, int(text[1:])) if int(text[1:]) < 2**31 else None
        if found is None:
            raise NotFound(f"no organisation with id {text[1:]}")
        return found
    return organisation_by_name(session, reference)


def project_by_name(session: Session, name: str) -> Project:
    _storable(name, "project")
    found = session.scalar(select(Project).where(Project.name_key == name_key(name)))
    if found is None:
        raise NotFound(f"unknown project {name!r}{_closest(session, Project.name, name)}")
    return found


def dataset_by_source(session: Session, source: str) -> Dataset:
    _storable(source, "data set")
    found = session.scalar(select(Dataset).where(Dataset.source == source.strip()))
    if found is None:
        hint = _closest(session, Dataset.source, source)
        raise NotFound(f"unknown data set {source!r}{hint}")
    return found


def agreement_by_reference(session: Session, reference: str) -> Agreement:
    _storable(reference, "agreement")
    found = session.scalar(select(Agreement).where(Agreement.reference_key == name_key(reference)))
    if found is None:
        hint = _closest(session, Agreement.reference, reference)
        raise NotFound(f"unknown agreement {reference!r}{hint}")
    return found


def user_by_name(session: Session, username: str) -> User:
    _storable(username, "user")
    found = session.scalar(select(User).where(User.username_key == name_key(username)))
    if found is None:
        raise NotFound(f"unknown user {username!r}")
    return found


def by_id(session: Session, model: type[T], ident: int, what: str) -> T:
    found = session.get(model, ident)
    if found is None:
        raise NotFound(f"no {what} with id {ident}")
    return found


def datasets_by_source(session: Session, sources: Sequence[str]) -> list[Dataset]:
    return [dataset_by_source(session, s) for s in sources]


def organisations_by_name(session: Session, names: Sequence[str]) -> list[Organisation]:
    return [organisation_by_name(session, n) for n in names]


def flush_unique(session: Session, message: str) -> None:
    """Flush, turning a unique-constraint failure into a `Duplicate` naming the clash.

    The library checks first for a clear message; the database constraint is what holds
    when two writers race.
    """
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise Duplicate(message) from error
