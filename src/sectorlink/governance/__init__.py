"""Governance: the access check, the hash-chained audit log and the disclosure gate.

The public surface other code calls:

* `authorise(registry, organisation=..., purpose=..., datasets=[...], action=...)`
  before any read or export of person-level data; returns a `Grant` or raises
  `AccessDenied`, and writes the audit entry either way.
* `apply_disclosure_control(table, profile)` on every aggregate table leaving the hub,
  or `release_aggregate(...)`, which also checks access and audits the release.
* `verify_audit_log(registry)` to check the chain; `append_audit_entry` for other events.

See docs/governance.md.
"""

from sectorlink.governance.access import AccessDenied, Grant, authorise
from sectorlink.governance.audit import (
    AuditRecord,
    AuditVerification,
    append_audit_entry,
    read_audit_log,
    verify_audit_log,
)
from sectorlink.governance.disclosure import (
    DEFAULT_MINIMUM_COUNT,
    PROFILES,
    DisclosureProfile,
    DisclosureRefused,
    ProfileBelowMinimum,
    ProtectedTable,
    SuppressionNote,
    apply_disclosure_control,
    custom_profile,
    feasible_intervals,
    get_profile,
    suppression_log_frame,
)
from sectorlink.governance.release import release_aggregate

__all__ = [
    "DEFAULT_MINIMUM_COUNT",
    "PROFILES",
    "AccessDenied",
    "AuditRecord",
    "AuditVerification",
    "DisclosureProfile",
    "DisclosureRefused",
    "Grant",
    "ProfileBelowMinimum",
    "ProtectedTable",
    "SuppressionNote",
    "append_audit_entry",
    "apply_disclosure_control",
    "authorise",
    "custom_profile",
    "feasible_intervals",
    "get_profile",
    "read_audit_log",
    "release_aggregate",
    "suppression_log_frame",
    "verify_audit_log",
]
