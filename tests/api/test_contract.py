"""schemathesis against the served OpenAPI description, in-process through WSGI: for every operation a
bounded number of generated requests (valid and invalid), a fixed seed, and every answer checked —
never a 5xx, and always a status, content type, headers and body the description documents."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.services.apikeys import create_key
from app.services.demo import DEMO
from app.web.api.spec import openapi

PUBLIC_BASE = "https://herald.test"  # PUBLIC_BASE_URL in tests/conftest.py

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 30  # per operation; derandomized, so every run sends the same requests


@pytest.fixture
def contract_app(app):
    """The demo app on every configured database, answering as served: an unexpected error is the
    JSON 500 (which the checks then report), not an exception in the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.fixture
def api_key(contract_app) -> str:
    return create_key(contract_app.extensions["herald"], DEMO, "contract tests")


SPEC = openapi(PUBLIC_BASE)
OPERATIONS = [(path, method.upper()) for path, item in SPEC["paths"].items() for method in item]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_answer_conforms_and_none_is_a_server_error(contract_app, api_key, path, method, mode):
    served = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", contract_app)  # the spec as served
    operation = served[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS)

    run()
