"""Name frequency lists and the nickname table, as numpy arrays to sample from.

Surnames are weighted by the ONS frequencies Faker's en_GB provider carries (Smith 1.15%,
Jones 0.94%, ...), so very common surnames are as common as in the UK. Faker's en_GB given
names are listed most common first but carry no weights, so they get Zipf weights by rank
(the top name about 3-4% of its sex, as David and Susan were for their generations).
Faker's weighted en_US lists and our own list of names of other heritages
(data/extra_names.csv) make up the rest. Faker is read once as data, never called per person.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
from faker.providers.person.en_GB import Provider as GBNames
from faker.providers.person.en_US import Provider as USNames

# Share of each source list in the mix of given names and surnames.
GB_SHARE, US_SHARE, EXTRA_SHARE = 0.80, 0.10, 0.10
SURNAME_GB_SHARE, SURNAME_US_SHARE, SURNAME_EXTRA_SHARE = 0.72, 0.22, 0.06
ZIPF_OFFSET = 8.0  # weight of rank r is 1 / (r + ZIPF_OFFSET)

TITLES_MALE = np.array(["Mr", "Mr", "Mr", "Mr", "Mr", "Mr", "Mr", "Mr", "Dr", "Rev"])
TITLES_FEMALE = np.array(["Mrs", "Mrs", "Mrs", "Ms", "Ms", "Miss", "Miss", "Mrs", "Dr", "Ms"])


@dataclass(frozen=True)
class NameTables:
    """Every given name and surname once, with sampling probabilities."""

    given: np.ndarray
    """All given names (str)."""
    male_p: np.ndarray
    female_p: np.ndarray
    surnames: np.ndarray
    surname_p: np.ndarray
    nick_start: np.ndarray
    """Nicknames of given name i are nick_values[nick_start[i]:nick_start[i + 1]]."""
    nick_values: np.ndarray
    top_male: np.ndarray
    """Indices of the ten most common male given names (for the common-name mess)."""
    top_female: np.ndarray
    top_surnames: np.ndarray

    def nickname_count(self, given_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.nick_start[given_ids + 1] - self.nick_start[given_ids])

    def pick_nicknames(self, given_ids: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One nickname per id (ids must have at least one), chosen by uniforms `u`."""
        count = self.nickname_count(given_ids)
        return np.asarray(
            self.nick_values[self.nick_start[given_ids] + (u * count).astype(np.int64)]
        )


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("sectorlink.synth.data").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def _normalise(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights / total if total > 0 else weights


def _mix(index: dict[str, int], parts: list[tuple[float, dict[str, float]]]) -> np.ndarray:
    """Probabilities over `index` mixing weighted lists with the given shares."""
    p = np.zeros(len(index))
    for share, weights in parts:
        names = list(weights)
        w = _normalise(np.array([weights[n] for n in names], dtype=float))
        np.add.at(p, np.array([index[n] for n in names]), share * w)
    return _normalise(p)


def _zipf(names: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for rank, name in enumerate(names, start=1):
        out[name] = out.get(name, 0.0) + 1.0 / (rank + ZIPF_OFFSET)
    return out


@functools.cache
def name_tables() -> NameTables:
    extra = _read_csv("extra_names.csv")
    extra_by_kind: dict[str, dict[str, float]] = {"male": {}, "female": {}, "surname": {}}
    for row in extra:
        extra_by_kind[row["kind"]][row["name"]] = float(row["weight"])

    male_gb = _zipf(tuple(GBNames.first_names_male))
    female_gb = _zipf(tuple(GBNames.first_names_female))
    male_us = {str(k): float(v) for k, v in USNames.first_names_male.items()}
    female_us = {str(k): float(v) for k, v in USNames.first_names_female.items()}
    given_order: list[str] = []
    for source in (
        male_gb,
        female_gb,
        male_us,
        female_us,
        extra_by_kind["male"],
        extra_by_kind["female"],
    ):
        given_order.extend(n for n in source if n not in given_order)
    given_index = {n: i for i, n in enumerate(given_order)}
    male_p = _mix(
        given_index,
        [(GB_SHARE, male_gb), (US_SHARE, male_us), (EXTRA_SHARE, extra_by_kind["male"])],
    )
    female_p = _mix(
        given_index,
        [(GB_SHARE, female_gb), (US_SHARE, female_us), (EXTRA_SHARE, extra_by_kind["female"])],
    )

    sur_gb = {str(k): float(v) for k, v in GBNames.last_names.items()}
    sur_us = {str(k): float(v) for k, v in USNames.last_names.items()}
    sur_order: list[str] = []
    seen: set[str] = set()
    for source in (sur_gb, sur_us, extra_by_kind["surname"]):
        for n in source:
            if n not in seen:
                seen.add(n)
                sur_order.append(n)
    sur_index = {n: i for i, n in enumerate(sur_order)}
    surname_p = _mix(
        sur_index,
        [
            (SURNAME_GB_SHARE, sur_gb),
            (SURNAME_US_SHARE, sur_us),
            (SURNAME_EXTRA_SHARE, extra_by_kind["surname"]),
        ],
    )

    nick_lists: list[list[str]] = [[] for _ in given_order]
    for row in _read_csv("nicknames.csv"):
        i = given_index.get(row["name"])
        if i is not None:
            nick_lists[i] = [n for n in row["nicknames"].split("|") if n]
    counts = np.array([len(n) for n in nick_lists], dtype=np.int64)
    nick_start = np.concatenate([[0], np.cumsum(counts)])
    nick_values = np.array([n for lst in nick_lists for n in lst])

    return NameTables(
        given=np.array(given_order),
        male_p=male_p,
        female_p=female_p,
        surnames=np.array(sur_order),
        surname_p=surname_p,
        nick_start=nick_start,
        nick_values=nick_values,
        top_male=np.argsort(-male_p, kind="stable")[:10],
        top_female=np.argsort(-female_p, kind="stable")[:10],
        top_surnames=np.argsort(-surname_p, kind="stable")[:10],
    )
