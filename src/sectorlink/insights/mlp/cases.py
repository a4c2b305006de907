"""One row per MLP screening, with what came of it: the table every measure counts from.

A screening (`mlp_screening`) and its legal referral (`legal_referral`) are two events of
the same partner record (the law centre sends one row per screening), so the referral is
found by the record id, not by the shape of its event id.
"""

from __future__ import annotations

from sectorlink.insights.context import InsightContext

# The I-HELP domains, in the order the screening asks them.
DOMAINS = ("income", "housing", "education", "legal_status", "literacy", "personal_safety")

CASE_TABLE = "mlp_case"


def build_cases(ctx: InsightContext) -> int:
    """Create the temp table `mlp_case` (screenings dated in the run's period) and return
    how many screenings it holds.

    Columns: `screening_id, record_id, person_key, screen_date`, one flag per domain,
    `need` (any domain positive), `referred, referral_date, domain, legal_intake,
    intake_date, outcome, outcome_date, financial_benefit`, and the person's `sex,
    birth_year, neighbourhood` (NULL ones as 'unknown'), `month` and `quarter` of the
    screening.
    """
    flags = ",\n".join(f"coalesce(s.{d}, false) AS {d}" for d in DOMAINS)
    need = " OR ".join(f"coalesce(s.{d}, false)" for d in DOMAINS)
    ctx.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {CASE_TABLE} AS
        WITH referral AS (
            SELECT re.source, re.record_id, lr.referral_date::DATE AS referral_date,
                   lr.domain, lr.intake_date::DATE AS intake_date, lr.outcome,
                   lr.outcome_date::DATE AS outcome_date, lr.financial_benefit
            FROM legal_referral lr
            JOIN event re ON re.source = lr.source AND re.event_id = lr.event_id
            -- one referral per screening record: the first one made
            QUALIFY row_number() OVER (PARTITION BY re.source, re.record_id
                                       ORDER BY lr.referral_date NULLS LAST, lr.event_id) = 1
        ), screening AS (
            SELECT s.event_id AS screening_id, e.source, e.record_id, e.person_key,
                   coalesce(s.screen_date, e.start_time)::DATE AS screen_date,
                   {flags},
                   ({need}) AS need
            FROM mlp_screening s
            JOIN event e ON e.source = s.source AND e.event_id = s.event_id
        )
        SELECT s.*,
               r.record_id IS NOT NULL AS referred, r.referral_date, r.domain,
               r.intake_date IS NOT NULL AS legal_intake, r.intake_date, r.outcome,
               r.outcome_date, r.financial_benefit,
               coalesce(p.sex, 'unknown') AS sex, p.birth_year,
               coalesce(p.home_neighbourhood, 'unknown') AS neighbourhood,
               strftime(s.screen_date, '%Y-%m') AS month,
               CAST(year(s.screen_date) AS VARCHAR) || '-Q'
                   || CAST(quarter(s.screen_date) AS VARCHAR) AS quarter
        FROM screening s
        LEFT JOIN referral r ON r.source = s.source AND r.record_id = s.record_id
        LEFT JOIN person p ON p.person_key = s.person_key
        WHERE {ctx.period_sql("s.screen_date")}"""
    )
    row = ctx.con.execute(f"SELECT count(*) FROM {CASE_TABLE}").fetchall()[0]
    return int(row[0]) if row else 0
