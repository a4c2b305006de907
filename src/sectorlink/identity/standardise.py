"""One query that turns ``person_record`` rows into standardised identifiers.

The linkage engines and the privacy-preserving encoder both call :func:`standardise`,
so a name, date or postcode is normalised the same way whichever way it is linked.
"""

from __future__ import annotations

import duckdb

from sectorlink.identity import addresses, dates, names, national_ids, postcodes
from sectorlink.identity.reference import NICKNAMES, register_reference_tables
from sectorlink.model.catalogue import columns_with_role, standardise_reads
from sectorlink.model.hub_tables import LINKAGE_INPUT

# The columns are defined once, as the catalogue's linkage input (model.hub_tables).
# Identifier fields whose raw value may be present yet unusable; listed per record in
# `invalid_identifiers` and counted by `identifier_quality`.
CHECKED_IDENTIFIERS = columns_with_role("checked")

# Columns of the standardised relation, in order, with what each holds.
STANDARD_COLUMNS: dict[str, str] = {
    f.name: f.description for f in LINKAGE_INPUT.fields if "standardised" in f.roles
}

# The person_record columns the standardisation reads.
SOURCE_COLUMNS = standardise_reads()


def _name_ctes() -> str:
    title_suffix = ("title", "suffix")
    f_full = names.fold("full_name", keep_commas=True)
    comma_family = names.join_particles("trim(split_part(f_full, ',', 1))")
    plain = names.drop_words(names.tokens("replace(f_full, ',', ' ')"), title_suffix)
    family = names.drop_words(
        names.tokens(names.join_particles(names.fold("family_name"))), title_suffix
    )
    comma_rest = names.drop_words(names.tokens("trim(split_part(f_full, ',', 2))"), title_suffix)
    alias = names.drop_words(names.tokens(names.fold("split_part(alias, ';', 1)")), title_suffix)
    # the separate fields win; the full name fills in only when both are empty
    fields = "len(g_toks) + len(f_toks) > 0"
    given_all = names.parts(f"CASE WHEN {fields} THEN g_toks ELSE full_given END")
    middle_all = names.parts(
        f"CASE WHEN {fields} THEN m_toks WHEN full_comma THEN [] "
        "ELSE full_rest[1:len(full_rest) - 1] END"
    )
    family_all = names.parts(
        f"CASE WHEN {fields} THEN f_toks WHEN full_comma THEN full_rest ELSE full_rest[-1:] END"
    )
    return f"""
folded AS (
    SELECT *,
        {names.drop_words(names.tokens(names.fold("given_name")), title_suffix)} AS g_toks,
        {names.tokens(names.fold("middle_names"))} AS m_toks,
        {family} AS f_toks,
        {f_full} AS f_full,
        -- the first alias only ('Dave Smith; Davey Jones'): one more name per record
        {alias} AS al_toks
    FROM src
),
full_split AS (
    SELECT *,
        contains(coalesce(f_full, ''), ',') AS full_comma,
        {names.drop_words(names.tokens(comma_family), title_suffix)} AS fc_family,
        {comma_rest} AS fc_rest,
        {plain} AS fp_toks
    FROM folded
),
full_parts AS (
    SELECT *,
        CASE WHEN full_comma THEN fc_rest ELSE fp_toks[1:1] END AS full_given,
        CASE WHEN full_comma THEN fc_family
             ELSE {names.tokens(names.join_particles("array_to_string(fp_toks[2:], ' ')"))}
        END AS full_rest
    FROM full_split
),
name_parts AS (
    SELECT *,
        {given_all} AS given_all,
        {middle_all} AS middle_all,
        {family_all} AS family_all
    FROM full_parts
)"""


def standardised_sql(source: str = "person_record") -> str:
    """The SELECT that standardises ``source`` (a table, view or parenthesised query
    with the ``person_record`` columns). Needs :func:`register_reference_tables`."""
    pc = "pc_compact"
    # an alias's family name is its last word (particles joined), as for a full name
    alias_rest = names.tokens(names.join_particles("array_to_string(al_toks[2:], ' ')"))
    alias_family = names.parts(f"{alias_rest}[-1:]")
    by_min, by_max = dates.age_birth_years("age_years", "age_at_date")
    return f"""
WITH src AS (
    SELECT {", ".join(SOURCE_COLUMNS)},
        {dates.plausible_birth_date("birth_date")} AS bd,
        {dates.plausible_birth_year("birth_year")} AS by_field,
        {by_min} AS age_year_min, {by_max} AS age_year_max,
        {postcodes.compact("postcode")} AS {pc}
    FROM {source}
),
{_name_ctes()},
people AS (
    SELECT p.*,
        nullif(given_all[1], '') AS std_given,
        nullif(array_to_string(given_all[2:] || middle_all, ' '), '') AS std_middle,
        nullif(array_to_string(family_all, ' '), '') AS std_family,
        CASE upper(trim(p.sex)) WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' WHEN 'X' THEN 'X' END AS std_sex
    FROM name_parts p
),
canon AS (
    SELECT p.*,
        coalesce(CASE p.std_sex WHEN 'M' THEN n.canonical_m WHEN 'F' THEN n.canonical_f
                                ELSE n.canonical_any END, p.std_given) AS std_canonical,
        {addresses.tokens("p.address")} AS a_toks
    FROM people p LEFT JOIN {NICKNAMES} n ON n.nickname = p.std_given
)
SELECT
    row_number() OVER (ORDER BY source, record_id) AS unique_id,
    source,
    record_id,
    std_given AS given_name,
    std_canonical AS given_canonical,
    std_middle AS middle_names,
    std_family AS family_name,
    CASE WHEN std_family IS NOT NULL THEN family_all END AS family_parts,
    {names.soundex("std_canonical")} AS given_soundex,
    {names.soundex("replace(std_family, ' ', '')")} AS family_soundex,
    nullif(al_toks[1], '') AS alias_given,
    CASE WHEN len(al_toks) >= 2 THEN nullif(array_to_string({alias_family}, ' '), '') END
        AS alias_family,
    std_sex AS sex,
    bd AS birth_date,
    {dates.compact("bd")} AS birth_date_text,
    {dates.day_month_swapped("bd")} AS birth_date_swapped,
    coalesce(year(bd), by_field) AS birth_year,
    coalesce(year(bd), by_field, age_year_min) AS birth_year_min,
    coalesce(year(bd), by_field, age_year_max) AS birth_year_max,
    CASE WHEN bd IS NOT NULL THEN 'day' WHEN by_field IS NOT NULL THEN 'year'
         WHEN age_year_min IS NOT NULL THEN 'age' END AS birth_precision,
    {postcodes.normalised(pc)} AS postcode,
    {postcodes.sector(pc)} AS postcode_sector,
    {postcodes.district(pc)} AS postcode_district,
    nullif(array_to_string(a_clean, ' '), '') AS address,
    CASE WHEN len(a_clean) > 0 THEN a_clean END AS address_tokens,
    {addresses.house_number("a_clean")} AS house_number,
    {national_ids.nhs_number("nhs_number")} AS nhs_number,
    {national_ids.ni_number("ni_number")} AS ni_number,
    {national_ids.ssn("ssn")} AS ssn,
    {national_ids.phone("phone")} AS phone,
    {national_ids.email("email")} AS email,
    list_filter([
        {_invalid("nhs_number", national_ids.nhs_number("nhs_number"))},
        {_invalid("ni_number", national_ids.ni_number("ni_number"))},
        {_invalid("ssn", national_ids.ssn("ssn"))},
        CASE WHEN birth_date IS NOT NULL AND bd IS NULL THEN 'birth_date' END,
        CASE WHEN {pc} <> '' AND {postcodes.normalised(pc)} IS NULL THEN 'postcode' END,
        {_invalid("phone", national_ids.phone("phone"))},
        {_invalid("email", national_ids.email("email"))}
    ], lambda x: x IS NOT NULL) AS invalid_identifiers
FROM (
    SELECT *,
        -- the postcode's own words are not address evidence: the postcode compares apart
        list_filter(a_toks, lambda t: NOT list_contains(
            [lower({postcodes.district(pc)}), lower(right({pc}, 3)), lower({pc})], t)) AS a_clean
    FROM canon
)
"""


def _invalid(field: str, valid_expr: str) -> str:
    present = f"nullif(trim({field}), '') IS NOT NULL"
    return f"CASE WHEN {present} AND ({valid_expr}) IS NULL THEN '{field}' END"


def standardise(
    con: duckdb.DuckDBPyConnection, source: str = "person_record"
) -> duckdb.DuckDBPyRelation:
    """Standardised identifiers of every row of ``source``, as a lazy DuckDB relation.

    ``source`` is a table, view or parenthesised query with the ``person_record``
    columns; the relation has the columns of :data:`STANDARD_COLUMNS`, one row per
    source row. The reference tables are registered on ``con`` as temporary tables.

    Example:
        >>> con = sectorlink.warehouse.connect("hub.duckdb")  # doctest: +SKIP
        >>> standardise(con).filter("nhs_number IS NULL").count("*")  # doctest: +SKIP
        >>> standardise(con, "(SELECT * FROM person_record WHERE source = 'ae')")  # doctest: +SKIP
    """
    register_reference_tables(con)
    return con.sql(standardised_sql(source))


def identifier_quality(
    con: duckdb.DuckDBPyConnection, standardised: duckdb.DuckDBPyRelation | str
) -> duckdb.DuckDBPyRelation:
    """Per source and checked identifier: how many records had a value that was nulled
    as invalid. ``standardised`` is a relation or a table name."""
    name = standardised if isinstance(standardised, str) else "std_quality_input"
    if not isinstance(standardised, str):
        con.register(name, standardised)
    fields = ", ".join(f"('{f}')" for f in CHECKED_IDENTIFIERS)
    return con.sql(
        f"""
        WITH per_source AS (SELECT source, count(*) AS records FROM {name} GROUP BY source),
        nulled AS (
            SELECT source, unnest(invalid_identifiers) AS identifier FROM {name}
        )
        SELECT s.source, f.identifier, s.records,
               count(n.identifier) AS invalid_nulled
        FROM per_source s CROSS JOIN (VALUES {fields}) f(identifier)
        LEFT JOIN nulled n ON n.source = s.source AND n.identifier = f.identifier
        GROUP BY ALL ORDER BY s.source, f.identifier
        """
    )
