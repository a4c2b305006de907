"""The provider cohort (`sectorlink alerts cohort`) leaves only through the export door:
refused and audited outside an agreement, and the file that leaves audited with its
SHA-256 after the decision that allowed it. (The lead lists and the vulnerability cohort
have theirs beside their other tests.)"""

from __future__ import annotations

import hashlib

import pandas as pd
from typer.testing import CliRunner

from sectorlink.cli import app as cli
from sectorlink.governance import read_audit_log
from sectorlink.insights import run_analysis

from .conftest import Hub
from .test_homeless_alerts import PROVIDER, agreements


def test_the_provider_cohort_leaves_only_through_the_export_door(hub: Hub) -> None:
    registry = hub.registry()
    try:
        run_analysis("homeless-care", warehouse=hub.warehouse, registry=registry,
                     organisation=hub.organisation)  # fmt: skip
    finally:
        registry.close()
    out = hub.warehouse.parent / "cohort.csv"
    args = ["alerts", "cohort", "--warehouse", str(hub.warehouse), "--registry",
            hub.registry_url, "--organisation", PROVIDER, "--out", str(out),
            "--from", "2020-01-01", "--to", "2025-12-31", "--attendances", "2"]  # fmt: skip
    # no care-coordination agreement yet: the A&E data may not leave for the provider
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 3, refused.output
    assert not out.exists()
    registry = hub.registry()
    try:
        last = read_audit_log(registry, limit=100_000)[-1]
        assert (last.action, last.outcome, last.organisation) == ("export", "refused", PROVIDER)
        agreements(hub)
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
        decision, written = read_audit_log(registry, limit=100_000)[-2:]
    finally:
        registry.close()
    assert (decision.action, decision.outcome) == ("export", "allowed")
    assert (written.action, written.outcome) == ("alerts cohort", "recorded")
    assert written.detail["grant"] == [decision.seq] and written.datasets == decision.datasets
    assert written.detail["files"]["out"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert written.detail["rows"] == len(pd.read_csv(out)) > 0
