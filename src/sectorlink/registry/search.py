"""Full-text search over the directory: names, aims, populations and data sets.

Every word of the query must appear (as a word prefix) somewhere in an entry. The
database narrows the candidates with parameterised `LIKE` filters (wildcards in the
query are escaped, so `%` and `_` match themselves); ranking happens in Python, where a
match in a name counts more than one in a description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from sectorlink.registry.directory import project_datasets
from sectorlink.registry.models import Dataset, Organisation, Project
from sectorlink.registry.text import words
from sectorlink.registry.vocab import name_key, normalise_sector, normalise_status

KINDS = ("project", "organisation", "dataset")
_MAX_TERMS = 12


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: int
    name: str
    score: float
    matched: tuple[str, ...] = field(default=())
    summary: str = ""


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefilter(columns: Sequence[Any], terms: Sequence[str]) -> ColumnElement[bool]:
    return or_(*[c.ilike(f"%{_escape_like(t)}%", escape="\\") for c in columns for t in terms])


def _score(
    fields: dict[str, tuple[float, str]], terms: Sequence[str]
) -> tuple[float, tuple[str, ...]]:
    """Sum of field weights over terms; 0 unless every term matches somewhere."""
    total, matched = 0.0, list[str]()
    tokenised = {name: (weight, words(text)) for name, (weight, text) in fields.items()}
    for term in terms:
        hits = [
            (name, weight)
            for name, (weight, tokens) in tokenised.items()
            if any(token.startswith(term) for token in tokens)
        ]
        if not hits:
            return 0.0, ()
        total += sum(weight for _, weight in hits)
        matched.extend(name for name, _ in hits if name not in matched)
    return total, tuple(matched)


def _contains(haystack: str, needle: str | None) -> bool:
    return needle is None or name_key(needle) in name_key(haystack)


def search_directory(
    session: Session,
    text: str = "",
    *,
    sector: str | None = None,
    geography: str | None = None,
    population: str | None = None,
    status: str | None = None,
    kinds: Sequence[str] = KINDS,
    limit: int = 50,
) -> list[SearchHit]:
    """Search projects, organisations and data sets; best matches first.

    Args:
        text: words to find (all must match); empty lists everything the filters allow,
            text without any word (only punctuation) finds nothing.
        sector: entries in that sector (a project matches through its sectors or any
            member organisation's sector).
        geography: text the entry's geography (a data set's coverage) contains.
        population, status: project filters; giving either limits results to projects.

    Example:
        >>> search_directory(session, "violence", sector="police")
    """
    terms = list(dict.fromkeys(words(text)))[:_MAX_TERMS]
    if text.strip() and not terms:
        return []  # only punctuation: nothing can match (and it is not "list everything")
    wanted_sector = normalise_sector(sector) if sector else None
    wanted_status = normalise_status(status) if status else None
    chosen = [k for k in kinds if k in KINDS]
    if population or wanted_status:
        chosen = [k for k in chosen if k == "project"]
    hits: list[SearchHit] = []

    if "project" in chosen:
        query = select(Project)
        if terms:
            query = query.where(
                _prefilter([Project.name, Project.aims, Project.population], terms)
                | Project.dataset_links.any()
            )
        if wanted_status:
            query = query.where(Project.status == wanted_status)
        for project in session.scalars(query):
            datasets = project_datasets(project)
            sectors = set(project.sectors) | {m.organisation.sector for m in project.members}
            if wanted_sector and wanted_sector not in sectors:
                continue
            if not (
                _contains(project.geography, geography)
                and _contains(project.population, population)
            ):
                continue
            fields = {
                "name": (3.0, project.name),
                "aims": (1.0, project.aims),
                "population": (2.0, project.population),
                "datasets": (2.0, " ".join(f"{d.source} {d.title}" for d in datasets)),
                "partners": (1.0, " ".join(m.organisation.name for m in project.members)),
                "outcomes": (1.0, " ".join(project.outcomes)),
            }
            score, matched = _score(fields, terms) if terms else (1.0, ())
            if score:
                hits.append(
                    SearchHit(
                        "project", project.id, project.name, score, matched, project.aims[:200]
                    )
                )

    if "organisation" in chosen:
        query_o = select(Organisation)
        if terms:
            query_o = query_o.where(
                _prefilter([Organisation.name, Organisation.description], terms)
            )
        if wanted_sector:
            query_o = query_o.where(Organisation.sector == wanted_sector)
        for org in session.scalars(query_o):
            if not _contains(org.geography, geography):
                continue
            fields = {"name": (3.0, org.name), "description": (1.0, org.description)}
            score, matched = _score(fields, terms) if terms else (1.0, ())
            if score:
                hits.append(SearchHit("organisation", org.id, org.name, score, matched, org.sector))

    if "dataset" in chosen:
        query_d = select(Dataset)
        if terms:
            query_d = query_d.where(
                _prefilter([Dataset.source, Dataset.title, Dataset.description], terms)
            )
        if wanted_sector:
            query_d = query_d.where(Dataset.sector == wanted_sector)
        for dataset in session.scalars(query_d):
            if not _contains(dataset.coverage, geography):
                continue
            fields = {
                "name": (3.0, f"{dataset.source} {dataset.title}"),
                "description": (1.0, dataset.description),
            }
            score, matched = _score(fields, terms) if terms else (1.0, ())
            if score:
                hits.append(
                    SearchHit("dataset", dataset.id, dataset.source, score, matched, dataset.title)
                )

    hits.sort(key=lambda h: (-h.score, h.kind, name_key(h.name)))
    return hits[: max(0, limit)]
