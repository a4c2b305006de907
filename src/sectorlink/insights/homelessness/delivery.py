"""Delivering alerts: a signed webhook with retries, and a daily digest file.

The webhook POSTs one alert per request as JSON, signed with HMAC-SHA256 over
`<timestamp>.<body>` with the provider's shared secret (`X-Sectorlink-Signature:
sha256=<hex>`, `X-Sectorlink-Timestamp`), and names the alert in
`X-Sectorlink-Alert-Id` so a receiver can drop a repeat. A timeout, a refused connection
or a 5xx answer is retried with exponential back-off; a 4xx is not (the receiver will not
take it as it is). An alert is marked sent the moment its 2xx arrives, in its own
transaction, and is never sent again; one not sent stays pending for the next run (never
lost), and the first alert that cannot be sent stops the run so that alerts arrive in
order.

An alert was let out to its provider by `authorise` when it was raised, but the webhook
asks again before it sends (`export`, care-coordination, for the data sets its alerts
come from): an agreement revoked or ended since keeps those alerts at the hub, pending,
with the refusal as their webhook error (the refusal is in the audit log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import httpx
import pandas as pd

from sectorlink.governance import AccessDenied, append_audit_entry, authorise
from sectorlink.insights.homelessness import store
from sectorlink.insights.homelessness.agreements import PURPOSE
from sectorlink.insights.homelessness.status import AE_EVENT_TYPES, AMBULANCE_EVENT_TYPES
from sectorlink.model.sql import literal_list, table_exists
from sectorlink.registry.db import Registry

# What an alert says, and nothing more (the rest of the row is the hub's bookkeeping).
MESSAGE_FIELDS = (
    "alert_id",
    "kind",
    "provider_record_id",
    "hospital",
    "arrival_time",
    "category",
    "created_at",
    "withdrawn_at",
    "withdrawn_reason",
)


class WebhookError(ValueError):
    """A webhook that cannot be used as given (not http(s), no host, empty secret)."""


@dataclass(frozen=True)
class Webhook:
    """A provider's receiver.

    Attributes:
        url: http or https URL the alerts are POSTed to.
        secret: the shared HMAC key (bytes; at least 16).
        timeout: seconds to wait for an answer.
        attempts: tries per alert before leaving it pending.
        backoff: seconds before the first retry, doubled each time.
    """

    url: str
    secret: bytes
    timeout: float = 5.0
    attempts: int = 4
    backoff: float = 0.5

    def __post_init__(self) -> None:
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise WebhookError(f"webhook URL {self.url!r}: use http:// or https:// and a host")
        if len(self.secret) < 16:
            raise WebhookError("the webhook secret must be at least 16 bytes")
        if self.attempts < 1 or self.timeout <= 0 or self.backoff < 0:
            raise WebhookError("webhook attempts >= 1, timeout > 0 and backoff >= 0")


def message(row: dict[str, Any]) -> dict[str, Any]:
    """The alert as it leaves the hub: the provider's own id and the attendance's time,
    place and category."""
    out: dict[str, Any] = {}
    for name in MESSAGE_FIELDS:
        value = row.get(name)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out[name] = None
        elif isinstance(value, pd.Timestamp | dt.datetime):
            out[name] = value.isoformat(timespec="seconds")
        else:
            out[name] = str(value)
    out["client_id"] = out.pop("provider_record_id")
    return out


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver checks (constant-time)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass
class WebhookRun:
    """What a delivery did: the alerts sent, those left pending (`refused`: held back
    because `authorise` refused them at send time; `refusal` says why)."""

    sent: list[str] = field(default_factory=list)
    pending: int = 0
    error: str | None = None
    attempts: int = 0
    refused: int = 0
    refusal: str | None = None

    def lines(self) -> list[str]:
        out = [f"{len(self.sent)} alert(s) sent ({self.attempts} request(s))"]
        if self.refused:
            out.append(f"{self.refused} alert(s) not sent, kept at the hub: {self.refusal}")
        if self.pending - self.refused > 0 and self.error:
            out.append(
                f"{self.pending - self.refused} alert(s) pending, kept for the next run: "
                f"{self.error}"
            )
        return out


def _post(
    client: httpx.Client, hook: Webhook, body: bytes, alert: str, sleep: Callable[[float], None]
) -> tuple[bool, int, str | None]:
    """(sent, attempts, last error) for one alert."""
    error = None
    for attempt in range(1, hook.attempts + 1):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Sectorlink-Alert-Id": alert,
            "X-Sectorlink-Timestamp": stamp,
            "X-Sectorlink-Signature": sign(hook.secret, stamp, body),
        }
        try:
            answer = client.post(hook.url, content=body, headers=headers)
        except httpx.TimeoutException:
            error = f"no answer within {hook.timeout:g} s"
        except httpx.TransportError as failure:
            error = f"cannot reach {hook.url}: {failure}"
        else:
            if 200 <= answer.status_code < 300:
                return True, attempt, None
            error = f"answered {answer.status_code}"
            if answer.status_code < 500:
                return False, attempt, error + " (not retried: the receiver refuses it)"
        if attempt < hook.attempts:
            sleep(hook.backoff * 2 ** (attempt - 1))
    return False, hook.attempts, error


def deliver_webhook(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    hook: Webhook,
    *,
    actor: str = "sectorlink alerts deliver",
    sleep: Callable[[float], None] = time.sleep,
) -> WebhookRun:
    """Send `organisation`'s alerts not yet sent (and not withdrawn) to its webhook.

    Before anything is sent, `authorise` (`export`, care-coordination) is asked again for
    the data sets the alerts come from, as `list_for_provider` does: the alerts of a data
    set refused (its agreement revoked or ended since they were raised) are not sent and
    stay pending, the refusal as their `webhook_error` (neither delivered nor sent).

    Audited: the access decision(s), and one entry per run with the alerts sent (or the
    failure)."""
    run = WebhookRun()
    host = urlparse(hook.url).hostname
    with store.open_store(warehouse) as con:
        pending = store.alerts_for(con, organisation, include_withdrawn=False)
        pending = pending[pending["webhook_sent_at"].isna()]
        if pending.empty:
            return run
        allowed, refusal = _allowed_to_leave(
            registry,
            organisation,
            sorted(set(pending["source"])),
            actor=actor,
            detail={"via": "webhook", "host": host, "alerts": len(pending)},
        )
        held = pending[~pending["source"].isin(allowed)]
        if not held.empty and refusal is not None:
            run.refused, run.refusal = len(held), f"not sent: {refusal}"
            con.execute(
                f"UPDATE {store.ALERT_TABLE} SET webhook_error = ? "
                f"WHERE alert_id IN {literal_list(map(str, held['alert_id']))}",
                [run.refusal],
            ).fetchall()
        with httpx.Client(timeout=hook.timeout) as client:
            for row in pending[pending["source"].isin(allowed)].to_dict("records"):
                body = json.dumps(message(row), sort_keys=True).encode()
                sent, tries, error = _post(client, hook, body, str(row["alert_id"]), sleep)
                run.attempts += tries
                now = store.utc_now()
                con.execute(
                    f"""UPDATE {store.ALERT_TABLE} SET
                        webhook_attempts = webhook_attempts + ?, webhook_error = ?,
                        webhook_sent_at = CASE WHEN ? THEN ? ELSE webhook_sent_at END,
                        delivered_at = CASE WHEN ? THEN coalesce(delivered_at, ?)
                                       ELSE delivered_at END
                    WHERE alert_id = ?""",
                    [tries, error, sent, now, sent, now, row["alert_id"]],
                ).fetchall()
                if not sent:
                    run.error = error
                    break
                run.sent.append(str(row["alert_id"]))
        run.pending = len(pending) - len(run.sent)
    if not allowed:  # nothing could be sent: the refusal is the audit entry
        return run
    append_audit_entry(
        registry,
        actor=actor,
        organisation=organisation,
        action="export",
        purpose=PURPOSE,
        datasets=sorted(set(pending["source"])),
        outcome="recorded",
        reason=f"webhook: {len(run.sent)} alert(s) sent, {run.pending} pending"
        + (f" ({run.error})" if run.error else "")
        + (f"; {run.refused} refused" if run.refused else ""),
        detail={"alerts": run.sent, "host": host},
    )
    return run


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def write_digest(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    day: dt.date,
    out_dir: Path,
    *,
    actor: str = "sectorlink alerts digest",
) -> Path:
    """The day's digest for one provider: every alert raised or withdrawn that day (UTC),
    as CSV with the webhook's fields, written whole (a temporary file renamed).

    The file leaves the hub for the provider, so it passes `authorise` for the data sets
    its alerts come from (audited); a day without alerts still gets a file (header only),
    so the provider can tell "none" from "not sent".
    """
    with store.read_store(warehouse) as con:
        rows = (
            store.alerts_for(con, organisation, created_on=day)
            if con is not None
            else pd.DataFrame(columns=list(store.ALERT_COLUMNS))
        )
    sources = sorted(set(rows["source"]))
    if sources:
        authorise(
            registry,
            organisation=organisation,
            purpose=PURPOSE,
            datasets=sources,
            action="export",
            actor=actor,
            detail={"digest": day.isoformat(), "alerts": len(rows)},
        )
    messages = [message(r) for r in rows.to_dict("records")]
    frame = pd.DataFrame(
        messages, columns=[*(f for f in MESSAGE_FIELDS if f != "provider_record_id"), "client_id"]
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"alerts-{_slug(organisation)}-{day.isoformat()}.csv"
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}-", dir=out_dir)
    os.close(handle)
    try:
        frame.to_csv(temporary, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def list_for_provider(
    warehouse: Path,
    registry: Registry,
    organisation: str,
    *,
    actor: str,
    via: str,
    since: dt.date | None = None,
    include_withdrawn: bool = True,
) -> pd.DataFrame:
    """The provider's own alerts, marked delivered (`via`: "api", "web"). The caller has
    checked that `organisation` is the reader's own.

    The list leaves the hub, so it passes `authorise` (`export`, care-coordination) for
    the data sets its alerts come from (or, with none yet, those alerts come from: the
    warehouse's A&E and ambulance sources): all at once, else one at a time, leaving out
    the alerts of a data set refused. Every decision is audited.

    Raises:
        AccessDenied: no data set is allowed (nothing is marked delivered).
    """
    with store.open_store(warehouse) as con:
        rows = store.alerts_for(con, organisation, since=since, include_withdrawn=include_withdrawn)
        sources = sorted(set(rows["source"])) or _attendance_sources(con)
        if not sources:  # no attendance data at all: nothing could be listed
            return rows
        detail = {"via": via, "since": since.isoformat() if since else None}
        allowed, refusal = _allowed_to_leave(
            registry, organisation, sources, actor=actor, detail=detail
        )
        if refusal is not None and not allowed:
            raise refusal
        rows = rows[rows["source"].isin(allowed)].reset_index(drop=True)
        store.mark_delivered(con, list(rows["alert_id"]), store.utc_now())
    return rows


def _attendance_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The data sets alerts come from (A&E attendances, ambulance call-outs)."""
    if not table_exists(con, "event"):
        return []
    types = literal_list(AE_EVENT_TYPES + AMBULANCE_EVENT_TYPES)
    found = con.execute(
        f"SELECT DISTINCT source FROM event WHERE event_type IN {types} ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in found]


def _allowed_to_leave(
    registry: Registry,
    organisation: str,
    sources: list[str],
    *,
    actor: str,
    detail: dict[str, Any],
) -> tuple[set[str], AccessDenied | None]:
    """The `sources` whose alerts may go to `organisation`: one `authorise` for all, one
    per source when that is refused (a provider still gets what its agreements allow);
    and the last refusal, if any source was refused (every decision is audited)."""

    def ask(datasets: list[str]) -> None:
        authorise(
            registry,
            organisation=organisation,
            purpose=PURPOSE,
            datasets=datasets,
            action="export",
            actor=actor,
            detail=detail,
        )

    try:
        ask(sources)
        return set(sources), None
    except AccessDenied as refusal:
        if len(sources) == 1:
            return set(), refusal
        last = refusal
    allowed = set()
    for source in sources:
        try:
            ask([source])
        except AccessDenied as refusal:
            last = refusal
            continue
        allowed.add(source)
    return allowed, last
