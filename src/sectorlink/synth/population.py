"""Households and the people in them: ages, sexes, names, identifiers, homes and moves.

The household plan (sizes, homes, moves) is drawn once for the whole region because the
addresses are shared; the people of a chunk of households are drawn when that chunk is
generated, so a million people never sit in memory at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sectorlink.synth.config import END, START, TIMELINE_DAYS, MessConfig
from sectorlink.synth.identifiers import (
    NI_PREFIXES,
    IdPermutation,
    landline_numbers,
    mobile_numbers,
    nhs_numbers,
    ni_numbers,
)
from sectorlink.synth.names import name_tables

# Household kinds: (probability, adults, min children, max children).
SINGLE, SINGLE_OLD, COUPLE, COUPLE_OLD, FAMILY, LONE_PARENT, SHARERS, MULTIGEN = range(8)
KIND_P = np.array([0.17, 0.13, 0.17, 0.10, 0.22, 0.09, 0.05, 0.07])
KIND_ADULTS_MIN = np.array([1, 1, 2, 2, 2, 1, 2, 3])
KIND_ADULTS_MAX = np.array([1, 1, 2, 2, 2, 1, 4, 3])
KIND_CHILDREN_MIN = np.array([0, 0, 0, 0, 1, 1, 0, 0])
KIND_CHILDREN_MAX = np.array([0, 0, 0, 0, 4, 3, 0, 2])
VACANT_SHARE = 0.03

HEAD, PARTNER, OTHER_ADULT, CHILD = range(4)


@dataclass(frozen=True)
class HouseholdPlan:
    """Region-wide household facts, indexed by household id."""

    kind: np.ndarray
    n_adults: np.ndarray
    n_children: np.ndarray
    home: np.ndarray
    """Address id at the start of the timeline."""
    moves_to: np.ndarray
    """Address id after the move, or -1 for households that stay."""
    move_date: np.ndarray
    """datetime64[D]; NaT for households that stay."""
    n_addresses: int

    @property
    def size(self) -> np.ndarray:
        return np.asarray(self.n_adults + self.n_children)

    def chunks(self, people_per_chunk: int) -> list[tuple[int, int]]:
        """Household ranges of about `people_per_chunk` people each."""
        ends = np.cumsum(self.size)
        cuts = np.searchsorted(
            ends, np.arange(people_per_chunk, int(ends[-1]), people_per_chunk), "left"
        )
        bounds = sorted({0, *(int(c) + 1 for c in cuts), len(self.kind)})
        return list(itertools.pairwise(bounds))


def plan_households(people: int, mess: MessConfig, rng: np.random.Generator) -> HouseholdPlan:
    """Household kinds and sizes summing to exactly `people`, homes and moves."""
    n = int(people / 2.2) + 16
    kind = rng.choice(len(KIND_P), size=n, p=KIND_P)
    # The hard preset's rates draw extra numbers only when set, so the default output
    # stays byte-identical for a seed.
    if mess.family_homes > 0:
        redraw = np.isin(kind, [SINGLE, SINGLE_OLD]) & (rng.random(n) < mess.family_homes)
        kind = np.where(redraw, rng.choice([FAMILY, MULTIGEN], size=n, p=[0.7, 0.3]), kind)
    adults = rng.integers(KIND_ADULTS_MIN[kind], KIND_ADULTS_MAX[kind] + 1)
    # Families have 1-2 children mostly: a geometric tail capped at the kind's maximum.
    extra = np.minimum(
        rng.geometric(0.55, n) - 1, KIND_CHILDREN_MAX[kind] - KIND_CHILDREN_MIN[kind]
    )
    children = np.where(KIND_CHILDREN_MAX[kind] > 0, KIND_CHILDREN_MIN[kind] + extra, 0)
    if mess.siblings > 0:
        children = children + ((children > 0) & (rng.random(n) < mess.siblings))
    size = adults + children
    ends = np.cumsum(size)
    while ends[-1] < people:  # rare: the draw came out small; add single adults
        kind = np.append(kind, SINGLE)
        adults = np.append(adults, 1)
        children = np.append(children, 0)
        ends = np.append(ends, ends[-1] + 1)
    last = int(np.searchsorted(ends, people))
    kind, adults, children = kind[: last + 1], adults[: last + 1], children[: last + 1]
    surplus = int(ends[last]) - people
    # Trim the last household to hit the exact count (children first, then adults).
    cut_children = min(surplus, int(children[-1]))
    children[-1] -= cut_children
    adults[-1] -= surplus - cut_children
    if adults[-1] < 1:
        adults[-1] = 1
        children[-1] = 0
    n_hh = len(kind)

    movers = rng.random(n_hh) < mess.movers
    n_movers = int(movers.sum())
    n_addresses = n_hh + n_movers + int(VACANT_SHARE * n_hh) + 1
    order = rng.permutation(n_addresses)
    home = order[:n_hh]
    moves_to = np.full(n_hh, -1, dtype=np.int64)
    moves_to[movers] = order[n_hh : n_hh + n_movers]
    move_date = np.full(n_hh, np.datetime64("NaT"), dtype="datetime64[D]")
    move_date[movers] = START + 60 + rng.integers(0, TIMELINE_DAYS - 120, n_movers)
    return HouseholdPlan(kind, adults, children, home, moves_to, move_date, n_addresses)


@dataclass(frozen=True)
class People:
    """The people of one chunk; arrays indexed by chunk-local position."""

    person_id: np.ndarray
    """Global person number (0-based)."""
    household: np.ndarray
    """Global household id."""
    role: np.ndarray
    sex: np.ndarray
    """'M' or 'F'."""
    dob: np.ndarray
    """datetime64[D]."""
    given: np.ndarray
    """Index into name_tables().given."""
    middle: np.ndarray
    """Index into name_tables().given, -1 for none."""
    family: np.ndarray
    """Index into name_tables().surnames: the surname now."""
    family2: np.ndarray
    """Second part of a double-barrelled surname, -1 for none."""
    birth_family: np.ndarray
    """Surname at birth (differs for women who took a spouse's name)."""
    nhs: np.ndarray
    ni: np.ndarray
    """'' for children under 16."""
    mobile: np.ndarray
    """'' for none."""
    landline: np.ndarray
    """The household landline, '' for none."""
    home: np.ndarray
    moves_to: np.ndarray
    move_date: np.ndarray
    vulnerability: np.ndarray
    """Latent need (mean about 1), raising every service's contact rate."""
    twin_of: np.ndarray
    """Global person id of the twin, -1 for none."""
    namesake_of: np.ndarray
    """Global person id of the father whose given name a son carries, -1 for none."""

    def __len__(self) -> int:
        return len(self.person_id)

    def age_at(self, dates: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Whole years of age on each date (datetime64[D]) for people `idx`."""
        dob = self.dob if idx is None else self.dob[idx]
        y_dob, y_at = _year(dob), _year(dates)
        before_birthday = _month_day(dates) < _month_day(dob)
        return np.asarray(y_at - y_dob - before_birthday)

    def address_on(self, idx: np.ndarray, dates: np.ndarray) -> np.ndarray:
        """Address id of people `idx` on `dates`."""
        moved = (self.moves_to[idx] >= 0) & (dates >= self.move_date[idx])
        return np.asarray(np.where(moved, self.moves_to[idx], self.home[idx]))

    def names_given(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray(name_tables().given[self.given[idx]])


def _year(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[Y]").astype(np.int64) + 1970


def _month_day(d: np.ndarray) -> np.ndarray:
    months = d.astype("datetime64[M]")
    day = (d - months.astype("datetime64[D]")).astype(np.int64)
    return np.asarray((months.astype(np.int64) % 12) * 100 + day)


def _draw_given(rng: np.random.Generator, sex: np.ndarray, common: np.ndarray) -> np.ndarray:
    t = name_tables()
    male = sex == "M"
    out = np.where(
        male,
        rng.choice(len(t.given), size=len(sex), p=t.male_p),
        rng.choice(len(t.given), size=len(sex), p=t.female_p),
    )
    top = np.where(
        male, t.top_male[rng.integers(0, 10, len(sex))], t.top_female[rng.integers(0, 10, len(sex))]
    )
    return np.where(common, top, out)


def _draw_surname(rng: np.random.Generator, n: int, common: np.ndarray) -> np.ndarray:
    t = name_tables()
    out = rng.choice(len(t.surnames), size=n, p=t.surname_p)
    return np.where(common, t.top_surnames[rng.integers(0, 10, n)], out)


def build_people(
    plan: HouseholdPlan,
    hh_range: tuple[int, int],
    person_offset: int,
    deprivation_of_address: np.ndarray,
    mess: MessConfig,
    rng: np.random.Generator,
    id_perms: tuple[IdPermutation, IdPermutation],
) -> People:
    """The people of households [h0, h1); person ids start at `person_offset`."""
    h0, h1 = hh_range
    hh = np.arange(h0, h1)
    kind = plan.kind[hh]
    n_adults, n_children = plan.n_adults[hh], plan.n_children[hh]
    size = n_adults + n_children
    n = int(size.sum())
    household = np.repeat(hh, size)
    local_hh = np.repeat(np.arange(len(hh)), size)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(n) - starts[local_hh]
    k = kind[local_hh]
    is_couple = np.isin(k, [COUPLE, COUPLE_OLD, FAMILY, MULTIGEN])
    role = np.where(
        pos >= n_adults[local_hh],
        CHILD,
        np.where(pos == 0, HEAD, np.where((pos == 1) & is_couple, PARTNER, OTHER_ADULT)),
    )

    # Sex: couples are mostly a man (head) and a woman; lone parents mostly women.
    u = rng.random(n)
    sex = np.where(u < 0.5, "M", "F")
    sex = np.where((role == HEAD) & is_couple, np.where(u < 0.96, "M", "F"), sex)
    sex = np.where((role == HEAD) & (k == LONE_PARENT), np.where(u < 0.12, "M", "F"), sex)
    head_sex = sex[starts[local_hh]]
    same_sex_couple = rng.random(n) < 0.03
    sex = np.where(
        role == PARTNER,
        np.where(same_sex_couple, head_sex, np.where(head_sex == "M", "F", "M")),
        sex,
    )

    # Ages at the end of the timeline. Children first; parents old enough for them.
    child_age = rng.integers(0, 18, n)
    if mess.adult_children > 0:
        grown = rng.random(n) < mess.adult_children
        child_age = np.where(grown, rng.integers(18, 31, n), child_age)
    age = np.zeros(n, dtype=np.int64)
    age[role == CHILD] = child_age[role == CHILD]
    # Twins: the first two children of a household with two or more share a birth date.
    hh_twins = (n_children >= 2) & (rng.random(len(hh)) < mess.twins)
    child_rank = pos - n_adults[local_hh]
    twin1 = (role == CHILD) & hh_twins[local_hh] & (child_rank == 0)
    twin2 = (role == CHILD) & hh_twins[local_hh] & (child_rank == 1)
    age[twin2] = age[np.flatnonzero(twin2) - 1]
    oldest_child = np.zeros(len(hh), dtype=np.int64)
    np.maximum.at(oldest_child, local_hh, np.where(role == CHILD, age, 0))
    oc = oldest_child[local_hh]
    base = np.select(
        [k == SINGLE, k == SINGLE_OLD, k == COUPLE, k == COUPLE_OLD, k == SHARERS],
        [
            rng.integers(18, 65, n),
            rng.integers(65, 96, n),
            rng.integers(20, 65, n),
            rng.integers(65, 93, n),
            rng.integers(18, 41, n),
        ],
        default=0,
    )
    parent_age = np.maximum(oc + rng.integers(20, 36, n), np.where(k == MULTIGEN, 45, 19))
    # parents of grown-up children at home are older than the default's 60 at most
    oldest_parent = 75 if mess.adult_children > 0 else 60
    parent_age = np.minimum(parent_age, np.where(k == MULTIGEN, 80, oldest_parent))
    head_age = np.where(np.isin(k, [FAMILY, LONE_PARENT, MULTIGEN]), parent_age, base)
    head_age_hh = head_age[starts[local_hh]]
    age = np.where(role == HEAD, head_age, age)
    gap = rng.integers(-6, 4, n)
    if mess.close_couple_ages > 0:
        close = rng.random(n) < mess.close_couple_ages
        gap = np.where(close, rng.integers(-1, 2, n), gap)
    partner_age = np.clip(head_age_hh + gap, np.maximum(18, oc + 17), 98)
    age = np.where(role == PARTNER, partner_age, age)
    other_age = np.where(
        k == MULTIGEN, np.clip(head_age_hh - rng.integers(20, 32, n), 18, 60), base
    )
    age = np.where(role == OTHER_ADULT, other_age, age)
    dob = END - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    dob = dob.astype("datetime64[D]")
    dob[twin2] = dob[np.flatnonzero(twin2) - 1]

    # Names. The household surname is the head's; a married partner took it.
    common = rng.random(n) < mess.common_name
    hh_surname = _draw_surname(rng, len(hh), rng.random(len(hh)) < mess.common_name)
    double_barrel = rng.random(len(hh)) < 0.02
    hh_surname2 = np.where(double_barrel, _draw_surname(rng, len(hh), np.zeros(len(hh), bool)), -1)
    own_surname = _draw_surname(rng, n, common)
    family = np.where(
        np.isin(role, [HEAD, CHILD]) | ((role == OTHER_ADULT) & (k == MULTIGEN)),
        hh_surname[local_hh],
        own_surname,
    )
    family2 = np.where(family == hh_surname[local_hh], hh_surname2[local_hh], -1)
    married = (role == PARTNER) & (rng.random(n) < 0.72) & (sex != head_sex)
    family = np.where(married, hh_surname[local_hh], family)
    family2 = np.where(married, hh_surname2[local_hh], family2)
    birth_family = np.where(married, own_surname, family)
    # Lone mothers often keep a former married name their children share.
    kept_married = (role == HEAD) & (k == LONE_PARENT) & (sex == "F") & (rng.random(n) < 0.4)
    birth_family = np.where(kept_married, own_surname, birth_family)

    given = _draw_given(rng, sex, common)
    has_middle = rng.random(n) < 0.7
    middle = np.where(has_middle, _draw_given(rng, sex, np.zeros(n, bool)), -1)
    middle = np.where(middle == given, -1, middle)
    # Twins get different given names.
    clash = twin2 & (given == given[np.maximum(np.arange(n) - 1, 0)])
    given[clash] = _draw_given(rng, sex[clash], np.zeros(int(clash.sum()), bool))
    twin_of = np.full(n, -1, dtype=np.int64)
    twin_of[twin2] = person_offset + np.flatnonzero(twin2) - 1
    twin_of[twin1 & np.roll(twin2, -1)] = (
        person_offset + np.flatnonzero(twin1 & np.roll(twin2, -1)) + 1
    )
    # A son named after his father (a "junior"): same given name, same address.
    father = (role == HEAD) & (sex == "M")
    hh_father = np.full(len(hh), -1, dtype=np.int64)
    hh_father[local_hh[father]] = np.flatnonzero(father)
    hh_namesake = rng.random(len(hh)) < mess.namesake_child
    son = (role == CHILD) & (sex == "M") & (child_rank == 0) & (hh_father[local_hh] >= 0)
    namesake = son & hh_namesake[local_hh]
    fathers = hh_father[local_hh[namesake]]
    given[namesake] = given[fathers]
    middle[namesake] = np.where(
        rng.random(int(namesake.sum())) < 0.5, middle[fathers], middle[namesake]
    )
    namesake_of = np.full(n, -1, dtype=np.int64)
    namesake_of[namesake] = person_offset + fathers
    if mess.namesake_daughter > 0:
        # the eldest daughter named after her mother (the first woman among the adults)
        mother = (role != CHILD) & (sex == "F")
        hh_mother = np.full(len(hh), -1, dtype=np.int64)
        hh_mother[local_hh[mother][::-1]] = np.flatnonzero(mother)[::-1]
        girl = (role == CHILD) & (sex == "F") & (hh_mother[local_hh] >= 0)
        first_girl = np.full(len(hh), n, dtype=np.int64)
        np.minimum.at(first_girl, local_hh[girl], np.flatnonzero(girl))
        girl_rank = np.where(girl & (first_girl[local_hh] == np.arange(n)), 0, 1)
        named = girl & (girl_rank == 0) & (rng.random(len(hh)) < mess.namesake_daughter)[local_hh]
        mothers = hh_mother[local_hh[named]]
        given[named] = given[mothers]
        middle[named] = np.where(middle[named] == given[named], -1, middle[named])
        namesake_of[named] = person_offset + mothers

    counter = person_offset + np.arange(n)
    nhs = nhs_numbers(counter, id_perms[0]).astype(str)
    ni = np.where(age >= 16, ni_numbers(counter, id_perms[1], rng), "")
    mobile = np.where((age >= 12) & (rng.random(n) < 0.92), mobile_numbers(rng, n), "")
    hh_landline = np.where(rng.random(len(hh)) < 0.45, landline_numbers(rng, len(hh)), "")
    landline = hh_landline[local_hh]

    home = plan.home[household]
    vulnerability = rng.lognormal(-0.32, 0.8, n) * (0.5 + deprivation_of_address[home])
    return People(
        person_id=counter,
        household=household,
        role=role,
        sex=sex,
        dob=dob,
        given=given,
        middle=middle,
        family=family,
        family2=family2,
        birth_family=birth_family,
        nhs=nhs,
        ni=ni,
        mobile=mobile,
        landline=landline,
        home=home,
        moves_to=plan.moves_to[household],
        move_date=plan.move_date[household],
        vulnerability=vulnerability,
        twin_of=twin_of,
        namesake_of=namesake_of,
    )


def ni_capacity() -> int:
    return len(NI_PREFIXES) * 10**6
