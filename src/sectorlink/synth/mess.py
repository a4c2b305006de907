"""Turn true people into the person records a partner holds: the mess, record by record.

Each record starts from the person's true identifiers on the record's date (their name,
their address then) and picks up, at the configured rates, the errors and variations
real records carry. Every applied mess is flagged, so the truth files can say which
record got which and tests can check the rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sectorlink.synth.config import MessConfig
from sectorlink.synth.geography import Region
from sectorlink.synth.names import TITLES_FEMALE, TITLES_MALE, name_tables
from sectorlink.synth.population import People
from sectorlink.synth.textops import TYPO_KINDS, delete_at, replace_at, swap_at, to_codes, typos

LOOKALIKE = np.array(list("OIZEASGTBP"))  # a letter keyed for each digit 0-9
NO_ADDRESS = -1
"""Address id of a record with no fixed abode."""

# Flags in the order they are applied; the truth files list them in this order.
MESS_FLAGS = (
    "maiden_name",
    "nickname",
    "middle_as_first",
    "name_swap",
    "typo_given",
    "typo_family",
    "missing_dob",
    "year_only_dob",
    "day_month_swap",
    "age_instead_of_dob",
    "sex_missing",
    "stale_address",
    "no_fixed_abode",
    "postcode_typo",
    "missing_nhs",
    "invalid_nhs",
    "missing_ni",
    "invalid_ni",
    "shared_phone",
    "duplicate_record",
    "new_local_id",
)


@dataclass(frozen=True)
class Habits:
    """What a partner collects and how carefully it keys it in."""

    nhs: bool = False
    ni: bool = False
    phone: bool = False
    dob: Literal["full", "year", "none"] = "full"
    """What the partner records of a birth date: all of it, the year, or nothing (age)."""
    age_column: bool = False
    """The layout has an age column, so `age_instead_of_dob` can apply."""
    typo_factor: float = 1.0
    """Multiplies the typo and postcode-typo rates (a crew at a roadside: more)."""


@dataclass
class Identities:
    """Person records as a partner holds them; arrays aligned with `person`."""

    person: np.ndarray
    """Chunk-local person index."""
    date: np.ndarray
    """The record's date (datetime64[D]): what address and age it reflects."""
    title: np.ndarray
    given: np.ndarray
    middle: np.ndarray
    family: np.ndarray
    dob: np.ndarray
    """Date of birth as recorded (NaT when not a full date)."""
    birth_year: np.ndarray
    """Year of birth when only the year was recorded, else -1."""
    age: np.ndarray
    """Age in years when recorded instead of a date of birth, else -1."""
    sex: np.ndarray
    """'M', 'F' or '' (not recorded)."""
    address: np.ndarray
    """Address id, or NO_ADDRESS."""
    postcode: np.ndarray
    nhs: np.ndarray
    ni: np.ndarray
    phone: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.person)

    def take(self, idx: np.ndarray) -> Identities:
        return Identities(
            **{k: getattr(self, k)[idx] for k in _ARRAY_FIELDS},
            flags={k: v[idx] for k, v in self.flags.items()},
        )

    def mess_labels(self) -> np.ndarray:
        """'|'-joined names of the mess applied to each record ('' for a clean record)."""
        out = np.full(len(self), "", dtype=object)
        for name in MESS_FLAGS:
            flag = self.flags.get(name)
            if flag is None or not flag.any():
                continue
            sep = np.where(out[flag] == "", "", "|")
            out[flag] = out[flag] + sep + name
        return out.astype(str)


_ARRAY_FIELDS = (
    "person",
    "date",
    "title",
    "given",
    "middle",
    "family",
    "dob",
    "birth_year",
    "age",
    "sex",
    "address",
    "postcode",
    "nhs",
    "ni",
    "phone",
)


def concat_identities(parts: list[Identities]) -> Identities:
    flags = {
        name: np.concatenate([p.flags.get(name, np.zeros(len(p), bool)) for p in parts])
        for name in MESS_FLAGS
    }
    return Identities(
        **{k: np.concatenate([getattr(p, k) for p in parts]) for k in _ARRAY_FIELDS}, flags=flags
    )


def surname_text(family: np.ndarray, family2: np.ndarray) -> np.ndarray:
    t = name_tables()
    base = t.surnames[family]
    second = t.surnames[np.maximum(family2, 0)]
    return np.where(family2 >= 0, np.char.add(np.char.add(base, "-"), second), base)


def make_identities(
    people: People,
    idx: np.ndarray,
    dates: np.ndarray,
    region: Region,
    habits: Habits,
    mess: MessConfig,
    rng: np.random.Generator,
    homeless: np.ndarray | None = None,
) -> Identities:
    """Records for people `idx` on `dates`; `homeless` marks records with no fixed abode."""
    n = len(idx)
    t = name_tables()
    flags: dict[str, np.ndarray] = {}

    def draw(rate: float, eligible: np.ndarray | bool = True) -> np.ndarray:
        return (rng.random(n) < rate) & eligible

    # Surname: a married woman may still be on file under her maiden name.
    family_id, family2 = people.family[idx].copy(), people.family2[idx].copy()
    birth = people.birth_family[idx]
    flags["maiden_name"] = draw(mess.maiden_name, birth != family_id)
    family_id[flags["maiden_name"]] = birth[flags["maiden_name"]]
    family2[flags["maiden_name"]] = -1
    family = surname_text(family_id, family2)

    given_id, middle_id = people.given[idx], people.middle[idx]
    given = t.given[given_id]
    middle = np.where(middle_id >= 0, t.given[np.maximum(middle_id, 0)], "")
    flags["nickname"] = draw(mess.nickname, t.nickname_count(given_id) > 0)
    nick = flags["nickname"]
    given = given.astype(object)
    given[nick] = t.pick_nicknames(given_id[nick], rng.random(int(nick.sum())))
    given = given.astype(str)

    flags["middle_as_first"] = draw(mess.middle_as_first, (middle != "") & ~nick)
    m = flags["middle_as_first"]
    given, middle = np.where(m, middle, given), np.where(m, "", middle)

    flags["name_swap"] = draw(mess.name_swap)
    m = flags["name_swap"]
    given, family = np.where(m, family, given), np.where(m, given, family)

    typo_rate = min(1.0, mess.typo * habits.typo_factor)
    for name, values in (("typo_given", "given"), ("typo_family", "family")):
        current = given if values == "given" else family
        flag = draw(typo_rate, np.char.str_len(current) >= 3)
        if flag.any():
            changed = typos(
                current[flag],
                rng.integers(0, len(TYPO_KINDS), int(flag.sum())),
                rng.random(int(flag.sum())),
            )
            current = current.astype(object)
            current[flag] = changed
            current = current.astype(str)
        flags[name] = flag
        if values == "given":
            given = current
        else:
            family = current

    sex = people.sex[idx]
    married_now = birth != people.family[idx]
    title_pick = rng.integers(0, len(TITLES_MALE), n)
    female_title = np.where(
        married_now,
        np.where(title_pick < 8, "Mrs", TITLES_FEMALE[title_pick]),
        np.where(title_pick < 5, "Ms", np.where(title_pick < 9, "Miss", "Dr")),
    )
    title = np.where(sex == "M", TITLES_MALE[title_pick], female_title)
    title = np.where(people.age_at(dates, idx) < 16, np.where(sex == "M", "Master", "Miss"), title)

    # Date of birth: at most one of these per record (the rates sum to at most 1).
    dob = people.dob[idx].copy()
    u = rng.random(n)
    # A partner that records only the year (or only an age) can lose it, not garble it.
    full = habits.dob == "full"
    c1 = mess.missing_dob
    c2 = c1 + (mess.year_only_dob if full else 0.0)
    c3 = c2 + (mess.day_month_swap if full else 0.0)
    c4 = c3 + (mess.age_instead_of_dob if full and habits.age_column else 0.0)
    flags["missing_dob"] = u < c1
    flags["year_only_dob"] = (u >= c1) & (u < c2)
    day = (dob - dob.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    month = dob.astype("datetime64[M]").astype(np.int64) % 12 + 1
    flags["day_month_swap"] = (u >= c2) & (u < c3) & (day <= 12) & (day != month)
    flags["age_instead_of_dob"] = (u >= c3) & (u < c4)
    year = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = np.where(flags["year_only_dob"], year, -1)
    age = np.where(flags["age_instead_of_dob"], people.age_at(dates, idx), -1)
    sw = flags["day_month_swap"]
    swapped = ((year[sw] - 1970) * 12 + (day[sw] - 1)).astype("datetime64[M]").astype(
        "datetime64[D]"
    ) + (month[sw] - 1)
    dob[sw] = swapped
    dob[flags["missing_dob"] | flags["year_only_dob"] | flags["age_instead_of_dob"]] = (
        np.datetime64("NaT")
    )

    flags["sex_missing"] = draw(mess.sex_missing)
    sex = np.where(flags["sex_missing"], "", sex)

    # Address on the record's date; a mover's new record may still carry the old one.
    address = people.address_on(idx, dates)
    moved = address != people.home[idx]
    flags["stale_address"] = draw(mess.stale_address, moved)
    address = np.where(flags["stale_address"], people.home[idx], address)
    flags["no_fixed_abode"] = np.zeros(n, bool) if homeless is None else homeless.copy()
    address = np.where(flags["no_fixed_abode"], NO_ADDRESS, address)
    postcode = np.where(address >= 0, region.postcode_of(np.maximum(address, 0)), "")
    flags["postcode_typo"] = draw(min(1.0, mess.postcode_typo * habits.typo_factor), address >= 0)
    postcode = _postcode_typos(postcode, flags["postcode_typo"], rng)

    nhs = people.nhs[idx]
    if habits.nhs:
        flags["missing_nhs"] = draw(mess.missing_nhs)
        flags["invalid_nhs"] = draw(mess.invalid_nhs, ~flags["missing_nhs"])
        nhs = _break_digit(nhs, flags["invalid_nhs"], rng)
        nhs = np.where(flags["missing_nhs"], "", nhs)
    else:
        nhs = np.full(n, "")
    ni = people.ni[idx]
    if habits.ni:
        flags["missing_ni"] = draw(mess.missing_ni, ni != "")
        flags["invalid_ni"] = draw(mess.invalid_ni, (ni != "") & ~flags["missing_ni"])
        ni = _malform_ni(ni, flags["invalid_ni"], rng)
        ni = np.where(flags["missing_ni"], "", ni)
    else:
        ni = np.full(n, "")
    if habits.phone:
        landline, mobile = people.landline[idx], people.mobile[idx]
        flags["shared_phone"] = (draw(mess.shared_phone) | (mobile == "")) & (landline != "")
        phone = np.where(flags["shared_phone"], landline, mobile)
    else:
        phone = np.full(n, "")

    return Identities(
        person=idx,
        date=dates,
        title=title,
        given=given,
        middle=middle,
        family=family,
        dob=dob,
        birth_year=birth_year,
        age=age,
        sex=sex,
        address=address,
        postcode=postcode,
        nhs=nhs,
        ni=ni,
        phone=phone,
        flags=flags,
    )


def _postcode_typos(postcode: np.ndarray, flag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lost space, swapped final letters, or a letter O keyed for a zero / I for a one."""
    if not flag.any():
        return postcode
    values = postcode[flag]
    kind = rng.integers(0, 3, len(values))
    length = np.char.str_len(values)
    space = np.char.find(values, " ")
    out = values.astype(object)
    m = kind == 0
    out[m] = delete_at(values[m], space[m])
    m = kind == 1
    out[m] = swap_at(values[m], length[m] - 2)
    m = kind == 2
    # The inward code's digit keyed as a look-alike letter (0 -> O, 1 -> I, 5 -> S...).
    codes = to_codes(values[m], extra=0)
    digit = codes[np.arange(len(codes)), space[m] + 1].astype(np.int64) - ord("0")
    out[m] = replace_at(values[m], space[m] + 1, LOOKALIKE[np.clip(digit, 0, 9)])
    result = postcode.astype(object)
    result[flag] = out
    return result.astype(str)


def _break_digit(numbers: np.ndarray, flag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change one of the first nine digits: the mod-11 check then always fails."""
    if not flag.any():
        return numbers
    values = numbers[flag]
    pos = rng.integers(0, 9, len(values))
    digits = np.ascontiguousarray(values.astype("<U10")).view(np.uint32).reshape(-1, 10) - ord("0")
    rows = np.arange(len(values))
    digits[rows, pos] = (digits[rows, pos] + rng.integers(1, 10, len(values))) % 10
    out = numbers.copy()
    out[flag] = np.ascontiguousarray(digits + ord("0")).view("<U10").ravel()
    return out


def _malform_ni(ni: np.ndarray, flag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A letter O for a zero among the digits, or the suffix letter left off."""
    if not flag.any():
        return ni
    values = ni[flag]
    zero_at = np.char.find(values, "0", 2)
    drop_suffix = (zero_at < 0) | (rng.random(len(values)) < 0.5)
    out = values.astype(object)
    out[drop_suffix] = values[drop_suffix].astype("<U8")
    m = ~drop_suffix
    out[m] = replace_at(values[m], zero_at[m], np.full(int(m.sum()), "O"))
    result = ni.copy().astype(object)
    result[flag] = out
    return result.astype(str)
