"""The OpenAPI description: generated from the validating schemas, served, and readable by people offline."""

from __future__ import annotations

import re

from app.web.api.schemas import SendBody


def test_the_description_is_openapi_31_from_the_schemas(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    body = spec["components"]["schemas"]["SendBody"]
    assert set(body["properties"]) == {f.data_key or name for name, f in SendBody().fields.items()}
    assert body["additionalProperties"] is False and body["required"] == ["channel", "to"]
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "hk_…",
        "description": "An API key created with `flask --app app apikey create`."}
    send = spec["paths"]["/api/v1/messages"]["post"]
    assert set(send["responses"]) == {"200", "201", "202", "400", "401", "409", "413", "415", "422", "500",
                                      "502", "503"}
    assert send["parameters"] == [{"$ref": "#/components/parameters/IdempotencyKey"}]
    header = spec["components"]["parameters"]["IdempotencyKey"]
    assert header["schema"]["maxLength"] == 255 and header["in"] == "header"
    assert set(spec["paths"]["/api/v1/templates"]["get"]["responses"]) == {"200", "400", "401", "500"}
    assert "unknown" in send["responses"]["202"]["description"]
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["error"]


def test_the_docs_page_is_plain_html_with_nothing_from_elsewhere(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "POST /api/v1/messages" in html and "Idempotency-Key" in html and "202" in html
    assert "CurrencyParam" in html and "amount_1000" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must not load anything from elsewhere"
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
