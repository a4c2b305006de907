"""Property-based run of every API operation against the OpenAPI spec (schemathesis).

Generated requests, valid ones and deliberately invalid ones, must never get a server
error, and responses must match the documented schemas and content types. It runs on
both databases (the `registry` fixture), bounded to ten examples per operation
and generation mode (valid, invalid) so the whole run stays within seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from sectorlink.registry import Registry, register_region
from sectorlink.web import Settings, create_app

from .conftest import SECRET, seed_users

EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_operation_fails_on_the_server(
    registry: Registry, sample_region: Path, mode: GenerationMode
) -> None:
    tokens = seed_users(registry)
    register_region(registry, sample_region)  # so generated ids and names sometimes hit
    app = create_app(Settings(environment="test", secret_key=SECRET), registry=registry)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    unsatisfiable: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing to send: an operation without parameters has no invalid form, and
            # now and then the generator cannot build a valid form that passes all
            # constraints at once. Neither is a server error.
            unsatisfiable.append(operation.label)
    # Most operations must have been exercised in either mode.
    assert len(unsatisfiable) <= len(operations) // 3, unsatisfiable
