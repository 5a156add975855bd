"""Every /playground/… answer sends frame-ancestors 'self', like Herald's other pages."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("method, path, body", [
    ("get", "/playground/intercom", None),
    ("post", "/playground/intercom/relay/initialize", {"admin": {}}),
    ("post", "/playground/intercom/customer", {}),
    ("get", "/playground/hubspot", None),
    ("get", "/playground/hubspot/compose?contact=101", None),
])
def test_playground_answers_may_be_framed_by_herald_only(sqlite_app, method, path, body):
    response = getattr(sqlite_app.test_client(), method)(path, json=body)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'self'" in csp, (path, response.status_code)
    assert "script-src 'self'" in csp


def test_the_intercom_playground_page_runs_no_inline_script(sqlite_app):
    html = sqlite_app.test_client().get("/playground/intercom").get_data(as_text=True)
    inline = [m for m in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>", html)]
    assert inline and all('type="application/json"' in m.group(1) for m in inline)
