"""The alert webhook against a receiver on 127.0.0.1: signed, retried with back-off on a
timeout or a 5xx, never lost when the receiver is down, never sent twice, and not sent at
all once the provider's agreement no longer lets the alerts out."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sectorlink.governance import read_audit_log
from sectorlink.governance.doors import audit_head_seq
from sectorlink.insights.homelessness import store
from sectorlink.insights.homelessness.delivery import (
    Webhook,
    WebhookError,
    deliver_webhook,
    verify,
)
from sectorlink.registry import (
    Registry,
    agreement_by_reference,
    create_agreement,
    create_dataset,
    create_organisation,
    open_registry,
    update_agreement,
)

PROVIDER = "Northshire Homelessness Partnership"
HOSPITAL = "Northgate Hospital NHS Trust"
HUB = "Regional Analytics Hub"
AGREEMENT = "DSA-CC-NORTHGATE-NORTHSHIRE"
KEY = b"a-shared-secret-of-32-bytes-long"


class Receiver:
    """Answers each request with the next scripted behaviour (an HTTP status, or
    'slow': answer after the client gave up), then 200; keeps what it received."""

    def __init__(self, script: list[int | str]) -> None:
        self.script = list(script)
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                action = receiver.script.pop(0) if receiver.script else 200
                if action == "slow":
                    time.sleep(0.6)
                    action = 200
                else:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(int(action))
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made: list[Receiver] = []

    def make(script: list[int | str]) -> Receiver:
        made.append(Receiver(script))
        return made[-1]

    yield make  # type: ignore[misc]
    for one in made:
        one.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "hub.duckdb"
    rows = pd.DataFrame(
        {
            "alert_id": [store.alert_id(PROVIDER, "ae", f"NGH{i}") for i in range(3)],
            "organisation": PROVIDER,
            "kind": "ae",
            "source": "ae_northgate",
            "event_id": [f"NGH{i}" for i in range(3)],
            "provider_source": "hmis_northshire",
            "provider_record_id": ["1000001", "1000002", "1000003"],
            "hospital": "Northgate Hospital NHS Trust",
            "arrival_time": pd.to_datetime(
                ["2025-01-01 10:00", "2025-01-02 10:00", "2025-01-03 10:00"]
            ),
            "category": "Injury",
            "created_at": pd.Timestamp("2025-01-03 12:00"),
            "webhook_attempts": 0,
        }
    )
    with store.open_store(path) as con:
        assert store.insert(con, rows) == 3
        assert store.insert(con, rows) == 0  # the same alerts again: nothing new
    return path


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """The hospital's A&E data set shared with the provider for care-coordination (what
    `register_care_coordination` records for a region)."""
    opened = open_registry(f"sqlite:///{tmp_path / 'registry.db'}")
    with opened.session() as session:
        create_organisation(session, name=HOSPITAL, sector="health care")
        create_organisation(session, name=PROVIDER, sector="housing/homelessness")
        create_organisation(session, name=HUB, sector="research and analytics")
        create_dataset(session, source="ae_northgate", owner=HOSPITAL)
        create_agreement(
            session,
            reference=AGREEMENT,
            parties={HOSPITAL: "provider", PROVIDER: "recipient", HUB: "processor"},
            datasets=["ae_northgate"],
            purposes=["care-coordination"],
            valid_from=dt.date.today() - dt.timedelta(days=365),
            valid_to=dt.date.today() + dt.timedelta(days=365),
        )
    yield opened
    opened.close()


def sent(path: Path) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM alert ORDER BY arrival_time").df()
    finally:
        con.close()


def test_signed_retried_on_5xx_and_timeout_and_never_sent_twice(
    receiver, warehouse: Path, registry: Registry
) -> None:  # type: ignore[no-untyped-def]
    target = receiver([503, "slow", 200])
    waits: list[float] = []
    hook = Webhook(target.url, KEY, timeout=0.3, attempts=4, backoff=0.5)
    run = deliver_webhook(warehouse, registry, PROVIDER, hook, sleep=waits.append)
    assert len(run.sent) == 3 and run.pending == 0
    assert waits == [0.5, 1.0]  # back-off doubles: after the 503, after the timeout
    assert run.attempts == 5  # 503, timeout, 200 for the first; 200, 200
    # what arrived: the 503'd attempt and the three accepted (the timed-out one never answered)
    accepted = target.received[1:]
    assert [json.loads(b)["client_id"] for _, b in accepted] == ["1000001", "1000002", "1000003"]
    for headers, body in target.received:
        assert verify(
            KEY, headers["X-Sectorlink-Timestamp"], body, headers["X-Sectorlink-Signature"]
        )
        assert not verify(b"another-secret-entirely!", headers["X-Sectorlink-Timestamp"], body,
                          headers["X-Sectorlink-Signature"])  # fmt: skip
    assert set(json.loads(accepted[0][1])) == {
        "alert_id", "kind", "client_id", "hospital", "arrival_time", "category",
        "created_at", "withdrawn_at", "withdrawn_reason",
    }  # fmt: skip
    table = sent(warehouse)
    assert table["webhook_sent_at"].notna().all() and table["delivered_at"].notna().all()
    before = len(target.received)
    again = deliver_webhook(warehouse, registry, PROVIDER, hook, sleep=waits.append)
    assert again.sent == [] and len(target.received) == before
    assert any(e.reason.startswith("webhook: 3 alert(s) sent") for e in read_audit_log(registry))


def test_an_unreachable_webhook_loses_nothing(
    receiver, warehouse: Path, registry: Registry
) -> None:  # type: ignore[no-untyped-def]
    down = receiver([])
    url = down.url
    down.close()  # nothing listens there any more
    waits: list[float] = []
    run = deliver_webhook(
        warehouse,
        registry,
        PROVIDER,
        Webhook(url, KEY, attempts=3, backoff=0.1),
        sleep=waits.append,
    )
    assert run.sent == [] and run.pending == 3
    assert "cannot reach" in (run.error or "")
    assert waits == [0.1, 0.2]  # stopped after the first alert failed three times
    table = sent(warehouse)
    assert table["webhook_sent_at"].isna().all()
    assert list(table["webhook_attempts"]) == [3, 0, 0]
    up = receiver([])
    later = deliver_webhook(warehouse, registry, PROVIDER, Webhook(up.url, KEY), sleep=waits.append)
    assert len(later.sent) == 3 and len(up.received) == 3


def test_a_4xx_is_not_retried_and_the_alert_stays_pending(
    receiver, warehouse: Path, registry: Registry
) -> None:  # type: ignore[no-untyped-def]
    target = receiver([400])
    waits: list[float] = []
    run = deliver_webhook(
        warehouse, registry, PROVIDER, Webhook(target.url, KEY), sleep=waits.append
    )
    assert run.pending == 3 and waits == [] and "400" in (run.error or "")


def test_withdrawn_alerts_are_not_sent(receiver, warehouse: Path, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    with store.open_store(warehouse) as con:
        first = store.alerts_for(con, PROVIDER)["alert_id"].iloc[0]
        store.set_withdrawn(con, [first], reason="split", at=dt.datetime(2025, 2, 1))
    target = receiver([])
    run = deliver_webhook(
        warehouse, registry, PROVIDER, Webhook(target.url, KEY), sleep=lambda s: None
    )
    assert first not in run.sent and len(run.sent) == 2


@pytest.mark.parametrize(("how", "why"), [("revoked", "revoked"), ("ended", "expired")])
def test_an_agreement_revoked_after_the_alerts_were_raised_stops_the_webhook(
    receiver, warehouse: Path, registry: Registry, how: str, why: str
) -> None:  # type: ignore[no-untyped-def]
    # The alerts were raised (and let out) while the agreement held; it goes before delivery.
    yesterday = dt.date.today() - dt.timedelta(days=1)
    ended = {"valid_from": yesterday - dt.timedelta(days=30), "valid_to": yesterday}
    with registry.session() as session:
        agreement = agreement_by_reference(session, AGREEMENT)
        update_agreement(session, agreement, {"revoked": True} if how == "revoked" else ended)
    since = audit_head_seq(registry)
    target = receiver([])
    run = deliver_webhook(
        warehouse, registry, PROVIDER, Webhook(target.url, KEY), sleep=lambda s: None
    )
    assert target.received == []  # nothing reached the receiver
    assert run.sent == [] and run.attempts == 0
    assert run.pending == 3 and run.refused == 3
    assert "access refused" in (run.refusal or "")
    table = sent(warehouse)
    assert table["webhook_sent_at"].isna().all() and table["delivered_at"].isna().all()
    assert table["withdrawn_at"].isna().all() and list(table["webhook_attempts"]) == [0, 0, 0]
    assert table["webhook_error"].str.startswith("not sent: access refused").all()
    assert table["webhook_error"].str.contains(why).all()
    log = read_audit_log(registry, after_seq=since, limit=100_000)
    refused = [e for e in log if e.outcome == "refused"]
    assert [(e.organisation, e.action, e.purpose, e.datasets) for e in refused] == [
        (PROVIDER, "export", "care-coordination", ("ae_northgate",))
    ]
    assert refused[0].detail["via"] == "webhook"
    assert f"audit entry {refused[0].seq}" in (run.refusal or "")
    assert not [e for e in log if e.outcome != "refused"]  # no "sent" entry: nothing went
    # Restored, the same alerts go on the next run: kept, not lost.
    with registry.session() as session:
        update_agreement(
            session,
            agreement_by_reference(session, AGREEMENT),
            {"revoked": False, "valid_from": dt.date.today() - dt.timedelta(days=365),
             "valid_to": dt.date.today() + dt.timedelta(days=365)},
        )  # fmt: skip
    later = deliver_webhook(
        warehouse, registry, PROVIDER, Webhook(target.url, KEY), sleep=lambda s: None
    )
    assert len(later.sent) == 3 and later.refused == 0 and len(target.received) == 3
    assert sent(warehouse)["webhook_error"].isna().all()


@pytest.mark.parametrize(
    ("url", "secret"),
    [("ftp://127.0.0.1/x", KEY), ("http:///nohost", KEY), ("http://127.0.0.1/x", b"short")],
)
def test_a_webhook_that_cannot_be_used_is_refused(url: str, secret: bytes) -> None:
    with pytest.raises(WebhookError):
        Webhook(url, secret)
