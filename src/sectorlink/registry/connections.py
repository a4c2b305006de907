"""Points of connection: for a project, the others a coordinator should know about.

Each candidate earns points for what it has in common with the project, and every point
comes with the reason shown to the coordinator:

| in common | points |
| --- | --- |
| each shared data set | 3 |
| each shared organisation (lead, partner or funder) | 2 |
| the same population (or mostly the same words) | up to 2 |
| the same geography / one geography inside the other | 1.5 / 1 |
| similar aims (TF-IDF cosine of the aims, at least 0.15) | up to 4 |
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sectorlink.registry.directory import list_projects
from sectorlink.registry.models import Project
from sectorlink.registry.text import content_words, jaccard, stems, tfidf_cosines
from sectorlink.registry.vocab import name_key

AIMS_THRESHOLD = 0.15


@dataclass(frozen=True)
class Connection:
    project_id: int
    project: str
    score: float
    reasons: tuple[str, ...]


def _names(items: set[str]) -> str:
    return ", ".join(sorted(items))


def find_connections(session: Session, project: Project, *, limit: int = 20) -> list[Connection]:
    """Other projects sharing data sets, partners, population, geography or aims; best first.

    Example:
        >>> for c in find_connections(session, project_by_name(session, "Safer Nights")):
        ...     print(c.project, c.score, "; ".join(c.reasons))
    """
    projects = list_projects(session)
    others = [p for p in projects if p.id != project.id]
    if not others:
        return []
    cosines = tfidf_cosines([project.aims] + [p.aims for p in others])[0]
    mine_ds = {link.dataset.source for link in project.dataset_links}
    mine_orgs = {m.organisation.name for m in project.members}
    mine_pop = content_words(project.population)
    result: list[Connection] = []
    for position, other in enumerate(others, start=1):
        score, reasons = 0.0, []
        shared_ds = mine_ds & {link.dataset.source for link in other.dataset_links}
        if shared_ds:
            score += 3 * len(shared_ds)
            reasons.append(f"shares data sets: {_names(shared_ds)}")
        shared_orgs = mine_orgs & {m.organisation.name for m in other.members}
        if shared_orgs:
            score += 2 * len(shared_orgs)
            reasons.append(f"shares organisations: {_names(shared_orgs)}")
        if project.population and other.population:
            if name_key(project.population) == name_key(other.population):
                score += 2
                reasons.append(f"same population: {other.population}")
            elif (overlap := jaccard(mine_pop, content_words(other.population))) >= 0.5:
                score += 2 * overlap
                reasons.append(f"similar population: {other.population}")
        if project.geography and other.geography:
            mine_geo, their_geo = name_key(project.geography), name_key(other.geography)
            if mine_geo == their_geo:
                score += 1.5
                reasons.append(f"same geography: {other.geography}")
            elif mine_geo in their_geo or their_geo in mine_geo:
                score += 1
                reasons.append(f"overlapping geography: {other.geography}")
        similarity = cosines[position]
        if similarity >= AIMS_THRESHOLD:
            common = sorted(set(stems(project.aims)) & set(stems(other.aims)))[:6]
            score += 4 * similarity
            reasons.append(f"similar aims ({similarity:.0%}; in common: {', '.join(common)})")
        if score > 0:
            result.append(Connection(other.id, other.name, round(score, 2), tuple(reasons)))
    result.sort(key=lambda c: (-c.score, name_key(c.project)))
    return result[:limit]
