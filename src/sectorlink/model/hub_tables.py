"""The tables the hub writes for itself beside the common model: load bookkeeping
(warehouse), the person index and its history (linkage), the encodings (pprl), and the
standardised identifiers linkage reads (identity; built per run, never stored).

`model.catalogue` puts these with the common model's tables and the analyses' own; the
DDL, schemas, docs/data-model.md and the identifier lists are all derived from there.
"""

from __future__ import annotations

from sectorlink.model.types import ColumnPattern, Field, FieldType, Layer, Table


def _hub(
    name: str,
    layer: Layer,
    description: str,
    lifecycle: str,
    *fields: Field,
    key: tuple[str, ...] = (),
    declare_key: bool = False,
    patterns: tuple[ColumnPattern, ...] = (),
) -> Table:
    return Table(
        name=name,
        kind="hub",
        layer=layer,
        description=description,
        lifecycle=lifecycle,
        fields=fields,
        primary_key=key,
        declare_key=declare_key,
        column_patterns=patterns,
    )


def _f(
    name: str, type_: FieldType, description: str, *, null: bool = False, default: str | None = None
) -> Field:
    """A hub column; NOT NULL unless `null`."""
    return Field(name, type_, description, required=not null, default=default)


_LOAD_ID = _f("load_id", "string", "The load (see the `load` table).")
_SOURCE = _f("source", "string", "The partner source (data set).")
_FILE = _f("file_path", "string", "The partner's file, as given to ingest.")
_ROW = _f("source_row", "integer", "Row number in the file as a spreadsheet shows it.")
_RUN = _f("run_id", "string", "The linkage run (see `linkage_run`).")

# -- warehouse: what each load did ---------------------------------------------------------

LOAD = _hub(
    "load",
    "warehouse",
    "One row per file loaded (or encoded file): what it was, its hash, and what it wrote.",
    "appended by each load; a reload marks the earlier row superseded",
    _f("load_id", "string", "The load's id (`enc-...` for an encoded file)."),
    _f(
        "source",
        "string",
        "The partner source; the sources an encoded file holds, comma separated.",
    ),
    _f("spec_path", "string", "The mapping spec used (none for an encoded file).", null=True),
    _f("spec_sha256", "string", "SHA-256 of the spec (the encoding's fingerprint when encoded)."),
    _FILE,
    _f("file_sha256", "string", "SHA-256 of the file: the same content is not loaded twice."),
    _f("file_bytes", "integer", "Size of the file."),
    _f("rows_read", "integer", "Data rows read."),
    _f("rows_rejected", "integer", "Rows rejected (kept in `rejects`)."),
    _f("rows_replaced", "integer", "Rows of earlier loads this load replaced (same keys)."),
    _f("rows_written", "json", "Rows written per table, as a JSON object."),
    _f("started_at", "datetime", "When the load started (UTC)."),
    _f("finished_at", "datetime", "When the load committed (UTC)."),
    _f("superseded_by", "string", "The later load of the same file that replaced it.", null=True),
    key=("load_id",),
    declare_key=True,
)

REJECTS = _hub(
    "rejects",
    "warehouse",
    "A row that failed validation, kept whole with its reason: nothing is dropped.",
    "appended by each load",
    _LOAD_ID,
    _SOURCE,
    _FILE,
    _ROW,
    _f("target", "string", "The model field (table.field) the failing value was for."),
    _f("column_name", "string", "The partner's column that held it.", null=True),
    _f("reason", "string", "Why it was rejected, in words."),
    _f("raw", "json", "The row as read, every column as text."),
    _f("code", "string", "The kind of problem (a `ProblemCode`), for code to read.", null=True),
)

FIELD_ISSUES = _hub(
    "field_issues",
    "warehouse",
    "An invalid value in a field its row can do without: stored as empty, the row loaded.",
    "appended by each load",
    _LOAD_ID,
    _SOURCE,
    _FILE,
    _ROW,
    _f("column_name", "string", "The partner's column that held it.", null=True),
    _f("field", "string", "The model field (table.field) set empty."),
    _f("code", "string", "The kind of problem (a `ProblemCode`)."),
    _f("reason", "string", "What was wrong, in words."),
)

LOAD_QUALITY = _hub(
    "load_quality",
    "warehouse",
    "Completeness and validity of each mapped field in a load.",
    "appended by each load",
    _LOAD_ID,
    _f("table_name", "string", "The model table."),
    _f("field", "string", "The model field."),
    _f("rows", "integer", "Rows loaded."),
    _f("present", "integer", "Rows with a value."),
    _f("valid", "integer", "Rows whose value passed validation."),
    _f("rule", "string", "The validation rule applied, in words.", null=True),
)

UNMAPPED_CODE = _hub(
    "unmapped_code",
    "warehouse",
    "A local code found in neither the code set's crosswalk nor the spec's `codes:`.",
    "appended by each load",
    _LOAD_ID,
    _f("table_name", "string", "The model table."),
    _f("field", "string", "The coded field."),
    _f("column_name", "string", "The partner's column."),
    _f("local_value", "string", "The value as the partner wrote it."),
    _f("rows", "integer", "Rows holding it."),
    _f("first_row", "integer", "The first row holding it."),
)

LOAD_AUTHORITY = _hub(
    "load_authority",
    "warehouse",
    "Which organisation loaded each file, on what basis (a registry-backed ingest).",
    "one row per governed load; a reload replaces its row",
    _f("load_id", "string", "The load."),
    _f("organisation", "string", "The organisation that loaded it."),
    _f("basis", "string", "`owner`, or the reference of the agreement it receives it under."),
    _f("access_audit_entry", "integer", "The audit entry of the access check."),
    _f("load_audit_entry", "integer", "The audit entry of what the load did."),
    _f("actor", "string", "Who ran it (the OS user)."),
    _f("recorded_at", "datetime", "When (UTC)."),
    key=("load_id",),
    declare_key=True,
)

# -- linkage: the person index and its history -----------------------------------------------

PERSON_INDEX = _hub(
    "person_index",
    "linkage",
    "(source, record_id) -> person_key: the person index of the latest run.",
    "replaced by each run",
    _SOURCE,
    _f("record_id", "string", "The partner's record id."),
    _f("person_key", "string", "The person: stable across runs while the person's records are."),
    _f("cluster_size", "int32", "Records of this person."),
    _RUN,
    key=("source", "record_id"),
    declare_key=True,
)

LINKAGE_PAIRS = _hub(
    "linkage_pairs",
    "linkage",
    "Record pairs scored in the latest run (above a low floor), with match weights.",
    "replaced by each run",
    _RUN,
    _f("source_l", "string", "Left record's source."),
    _f("record_id_l", "string", "Left record's id."),
    _f("source_r", "string", "Right record's source."),
    _f("record_id_r", "string", "Right record's id."),
    _f("match_weight", "number", "Match weight (log2 Bayes factor plus the prior)."),
    _f("match_probability", "number", "Match probability."),
    _f("linked", "boolean", "The two records ended in one person."),
    _f("contradiction", "string", "The contradiction found between them, if any.", null=True),
)

IDENTIFIER_QUALITY = _hub(
    "linkage_identifier_quality",
    "linkage",
    "Per source and identifier: values nulled as invalid in the latest run.",
    "replaced by each run",
    _RUN,
    _SOURCE,
    _f("identifier", "string", "The identifier checked (see the linkage input's `checked`)."),
    _f("records", "integer", "Records of the source."),
    _f("invalid_nulled", "integer", "Values present but invalid, so not used."),
)

LINKAGE_RUN = _hub(
    "linkage_run",
    "linkage",
    "One row per run: engine, counts, training, model JSON, timings.",
    "appended by each run",
    _f("run_id", "string", "The run."),
    _f("started_at", "datetime", "When it started (UTC)."),
    _f("finished_at", "datetime", "When it was published (UTC)."),
    _f("engine", "string", "duckdb, spark or bloom."),
    _f("records", "integer", "Person records linked."),
    _f("sources", "int32", "Sources linked."),
    _f("pairs_kept", "integer", "Pairs kept in `linkage_pairs`."),
    _f("links", "integer", "Pairs at or above the threshold."),
    _f("persons", "integer", "Persons found."),
    _f("threshold_probability", "number", "Match probability linked at."),
    _f("training_mode", "string", "How the model was trained (or the defaults it used)."),
    _f("prior", "number", "Probability that two random records match."),
    _f("messages", "json", "Notes of the run."),
    _f("blocking", "json", "Blocking rules with their pre-filter counts."),
    _f("clustering", "json", "Clusters split and merged back."),
    _f("timings", "json", "Seconds per step."),
    _f("model", "json", "The trained model (Splink settings, or the Bloom engine's)."),
    _f("splink_version", "string", "Splink version."),
    key=("run_id",),
    declare_key=True,
)

PERSON_KEY_HISTORY = _hub(
    "person_key_history",
    "linkage",
    "Every person key created, kept, merged, split or retired, per run.",
    "appended by each run",
    _RUN,
    _f("event", "string", "created, split_from, merged_into or retired."),
    _f("person_key", "string", "The key."),
    _f("related_key", "string", "The key it was split from or merged into.", null=True),
    _f("records", "int32", "Records holding the key after the run."),
    _f("recorded_at", "datetime", "When (UTC)."),
)

# -- pprl: encodings loaded from partners ----------------------------------------------------

ENCODED_PERSON = _hub(
    "encoded_person",
    "pprl",
    "One row per encoded person record: keyed Bloom filters and keyed exact tokens, no "
    "identifier in the clear.",
    "a reload of a record replaces its row",
    _SOURCE,
    _f("record_id", "string", "The partner's record id (travels in the clear)."),
    _LOAD_ID,
    patterns=(
        ColumnPattern("bf_", "binary", "A keyed Bloom filter of one field (packed bits)."),
        ColumnPattern("tok_", "string", "A keyed exact token (32 hex digits)."),
    ),
)

ENCODING_FINGERPRINT = _hub(
    "encoding_fingerprint",
    "pprl",
    "The keyed fingerprint of the encoding (key and schema) every loaded file must share.",
    "one row, written by the first load",
    _f("fingerprint", "string", "The encoding's keyed fingerprint."),
    _f("fields", "json", "Bloom-filter field -> bits."),
    _f("first_loaded", "datetime", "When the first encoded file was loaded.", null=True),
)

# -- identity: the standardised identifiers linkage reads ------------------------------------

# Roles of the linkage input's columns: `standardised`, made by `identity.standardise`;
# `checked`, an identifier whose invalid values are nulled and counted; `model`, in the
# table Splink reads; `compared`, a field the linkage model may compare (profiled per
# source); `identifying`, identifies a person alone or with others, so a source with none
# cannot be linked (sex, postcode and birth year alone describe too many people).
STD, CHECKED, MODEL, COMPARED, IDENTIFYING = (
    "standardised",
    "checked",
    "model",
    "compared",
    "identifying",
)
ROLE_DOCS: dict[str, str] = {
    STD: "a column of `identity.standardise`",
    CHECKED: "an identifier whose invalid values are nulled and counted per source",
    MODEL: "in the table Splink reads",
    COMPARED: "a field the linkage model may compare (profiled per source)",
    IDENTIFYING: "identifies a person, so a source with none of these cannot be linked",
}


def _std(
    name: str, type_: FieldType, description: str, derived_from: tuple[str, ...], *roles: str
) -> Field:
    return Field(name, type_, description, derived_from=derived_from, roles=frozenset(roles))


_NAME = ("given_name", "middle_names", "family_name", "full_name")
_BIRTH = ("birth_date", "birth_year", "age_years", "age_at_date")

LINKAGE_INPUT = Table(
    name="linkage_input",
    kind="derived",
    layer="identity",
    description=(
        "The standardised identifiers of every person record, as linkage reads them: "
        "`identity.standardise` plus the source's own person identifier. Built for each "
        "run (a temporary table), never stored."
    ),
    lifecycle="built by each run",
    primary_key=("unique_id",),
    fields=(
        _std(
            "unique_id",
            "integer",
            "row number, stable for the same set of (source, record_id)",
            ("source", "record_id"),
            STD,
            MODEL,
        ),
        _std("source", "string", "the partner source", ("source",), STD, MODEL),
        _std("record_id", "string", "the partner's record id", ("record_id",), STD, MODEL),
        _std(
            "given_name",
            "string",
            "first given name, folded (lower case, no accents or punctuation, no title)",
            _NAME,
            STD,
            MODEL,
            COMPARED,
            IDENTIFYING,
        ),
        _std(
            "given_canonical",
            "string",
            "the given name with nicknames mapped to a canonical name (bob -> robert)",
            (*_NAME, "sex"),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "middle_names",
            "string",
            "other given names, folded, space separated",
            _NAME,
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "family_name",
            "string",
            "family name, folded; particles joined (van der berg -> vanderberg); "
            "parts of a double-barrelled name separated by one space",
            _NAME,
            STD,
            MODEL,
            COMPARED,
            IDENTIFYING,
        ),
        _std(
            "family_parts",
            "string_list",
            "the parts of the family name as a list (smith-jones -> [smith, jones])",
            _NAME,
            STD,
            MODEL,
        ),
        _std(
            "given_soundex",
            "string",
            "Soundex of the canonical given name",
            (*_NAME, "sex"),
            STD,
            MODEL,
            COMPARED,
        ),
        _std("family_soundex", "string", "Soundex of the family name", _NAME, STD, MODEL, COMPARED),
        _std(
            "alias_given",
            "string",
            "the first alias's given name (its first word), folded as given_name",
            ("alias",),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "alias_family",
            "string",
            "the first alias's family name (its last word, particles joined), folded",
            ("alias",),
            STD,
            MODEL,
            COMPARED,
        ),
        _std("sex", "string", "M, F or X; NULL when unknown", ("sex",), STD, MODEL, COMPARED),
        _std("birth_date", "date", "plausible full birth date", ("birth_date",), STD, CHECKED),
        _std(
            "birth_date_text",
            "string",
            "the birth date as YYYYMMDD",
            ("birth_date",),
            STD,
            MODEL,
            COMPARED,
            IDENTIFYING,
        ),
        _std(
            "birth_date_swapped",
            "string",
            "YYYYMMDD with day and month exchanged, when that is a date too",
            ("birth_date",),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "birth_year",
            "integer",
            "the birth year when known exactly (from a date or a year-only date)",
            ("birth_date", "birth_year"),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "birth_year_min",
            "integer",
            "earliest possible birth year (from the date, the year or an age)",
            _BIRTH,
            STD,
            MODEL,
            COMPARED,
        ),
        _std("birth_year_max", "integer", "latest possible birth year", _BIRTH, STD, MODEL),
        _std(
            "birth_precision",
            "string",
            "day, year or age: how much of the birth date is known",
            _BIRTH,
            STD,
            MODEL,
        ),
        _std(
            "postcode",
            "string",
            "UK postcode with one space (NG1 5AB), US ZIP-5, or other shapes compacted",
            ("postcode",),
            STD,
            CHECKED,
            MODEL,
            COMPARED,
        ),
        _std(
            "postcode_sector",
            "string",
            "UK postcode sector (NG1 5)",
            ("postcode",),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "postcode_district",
            "string",
            "UK outward code (NG1) or US three-digit ZIP prefix",
            ("postcode",),
            STD,
            MODEL,
            COMPARED,
        ),
        _std(
            "address",
            "string",
            "address words, abbreviations expanded, postcode removed, space separated",
            ("address", "postcode"),
            STD,
            MODEL,
            COMPARED,
            IDENTIFYING,
        ),
        _std(
            "address_tokens",
            "string_list",
            "the address words as a list",
            ("address", "postcode"),
            STD,
            MODEL,
        ),
        _std(
            "house_number",
            "string",
            "first house number in the address (12, 12a)",
            ("address", "postcode"),
            STD,
            MODEL,
            COMPARED,
        ),
        *(
            _std(name, "string", text, (name,), STD, CHECKED, MODEL, COMPARED, IDENTIFYING)
            for name, text in (
                ("nhs_number", "valid NHS number (10 digits)"),
                ("ni_number", "valid National Insurance number without its suffix"),
                ("ssn", "valid US Social Security number (9 digits)"),
                ("phone", "phone number digits in national form"),
                ("email", "email address, lower case, +tags removed"),
            )
        ),
        _std(
            "invalid_identifiers",
            "string_list",
            "identifier fields that were present but invalid, so nulled",
            ("nhs_number", "ni_number", "ssn", "birth_date", "postcode", "phone", "email"),
            STD,
        ),
        _std(
            "local_person_id",
            "string",
            "the source's own person identifier, upper case, letters and digits only "
            "(added by linkage beside the standardised columns)",
            ("local_person_id",),
            MODEL,
            COMPARED,
            IDENTIFYING,
        ),
    ),
)

WAREHOUSE_TABLES = (LOAD, REJECTS, FIELD_ISSUES, LOAD_QUALITY, UNMAPPED_CODE, LOAD_AUTHORITY)
LINKAGE_TABLES = (PERSON_INDEX, LINKAGE_PAIRS, IDENTIFIER_QUALITY, LINKAGE_RUN, PERSON_KEY_HISTORY)
PPRL_TABLES = (ENCODED_PERSON, ENCODING_FINGERPRINT)
DERIVED_TABLES = (LINKAGE_INPUT,)
