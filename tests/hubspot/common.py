"""What the HubSpot surface tests share: signatures computed here with hmac directly (not with
Herald's verifier), compose pages reached the way the card reaches them, and HubSpot's answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import quote

import responses

from app.services import hubspot as hs
from app.services import installs
from app.services.workspaces import add_sender, add_template, create_workspace

SECRET = "demo-hubspot-secret"  # the embedded default HUBSPOT_CLIENT_SECRET
BASE = "https://herald.test"  # PUBLIC_BASE_URL in the test settings
API = "https://api.hubapi.com"
DEMO_PORTAL = "900001"
ACME_PORTAL = "123"
ACME_ACCESS = "acme-access-token-1"
ACME_REFRESH = "acme-refresh-token-1"


def v3_signature(method: str, uri: str, body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """HubSpot's v3 recipe, written out independently of Herald's verifier."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def v2_signature(method: str, uri: str, body: bytes, secret: str = SECRET) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def millis(clock) -> str:
    return str(int(clock().timestamp() * 1000))


def signed_get(client, path: str, clock, signed_uri: str | None = None, body: bytes = b"",
               sent_body: bytes | None = None, **kwargs: Any):
    """GET ``path`` with a v3 signature over ``signed_uri`` (default: the public URL of ``path``)."""
    timestamp = millis(clock)
    uri = signed_uri if signed_uri is not None else BASE + path
    headers = {"X-HubSpot-Signature-v3": v3_signature("GET", uri, body, timestamp),
               "X-HubSpot-Request-Timestamp": timestamp, **kwargs.pop("headers", {})}
    return client.get(path, headers=headers, data=sent_body if sent_body is not None else body, **kwargs)


def card(client, clock, portal: str = DEMO_PORTAL, contact: str = "101", extra: str = ""):
    return signed_get(client, f"/hubspot/card?portalId={portal}&contactId={contact}{extra}", clock)


def compose_path(client, clock, portal: str = DEMO_PORTAL, contact: str = "101", user_id: str = "77",
                 user_email: str = "agent@acme.example") -> str:
    """A compose page path as the card gets it (the public origin removed for the test client)."""
    query = f"/hubspot/card?portalId={portal}&contactId={contact}&action=compose_link&userId={user_id}"
    sent = query + "&userEmail=" + quote(user_email, safe="")
    response = signed_get(client, sent, clock, signed_uri=BASE + query + "&userEmail=" + user_email)
    assert response.status_code == 200, response.get_json()
    url = response.get_json()["compose_url"]
    assert url.startswith(BASE + "/hubspot/compose?token=")
    return url[len(BASE):]


def form_fields(html: str) -> dict[str, str]:
    """The hidden token and CSRF value the compose page put in its send form."""
    fields = {}
    for name in ("token", "csrf"):
        match = re.search(r'<form class="compose".*?name="%s" value="([^"]+)"' % name, html, re.S)
        assert match, f"no {name} field in the compose form"
        fields[name] = match.group(1)
    return fields


def consent_form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's consent form: the token, the CSRF value, and where the agent was."""
    match = re.search(r'<form class="consent-form".*?</form>', html, re.S)
    assert match, "no consent form on the page"
    return {name: value for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(0))}


def contact_answer(contact_id: str, firstname: str = "Grace", lastname: str = "Hopper",
                   mobilephone: str | None = "+1 201-555-0177", phone: str | None = None,
                   email: str = "grace@example.com") -> dict[str, Any]:
    """A CRM contact as HubSpot's GET /crm/v3/objects/contacts/{id} answers it."""
    properties = {"createdate": "2026-01-05T09:00:00.000Z", "email": email, "firstname": firstname,
                  "hs_object_id": contact_id, "lastmodifieddate": "2026-11-20T10:00:00.000Z",
                  "lastname": lastname, "mobilephone": mobilephone, "phone": phone}
    return {"id": contact_id, "properties": properties, "createdAt": "2026-01-05T09:00:00.000Z",
            "updatedAt": "2026-11-20T10:00:00.000Z", "archived": False}


def expect_contact(mock, contact_id: str = "201", status: int = 200, **fields: Any):
    return mock.add(responses.GET, re.compile(rf"{re.escape(API)}/crm/v3/objects/contacts/{contact_id}(\?.*)?$"),
                    json=contact_answer(contact_id, **fields) if status == 200 else
                    {"status": "error", "message": "Object not found.", "category": "OBJECT_NOT_FOUND"},
                    status=status)


def setup_acme(ctx) -> None:
    """A customer's own portal (not the demo): sandbox senders, templates and installed tokens."""
    create_workspace(ctx, "acme", hubspot_portal_id=ACME_PORTAL)
    add_sender(ctx, "acme", "whatsapp", "sandbox", "+12015550100")
    add_sender(ctx, "acme", "sms", "sandbox", "+12015550100")
    add_sender(ctx, "acme", "viber", "sandbox", "AcmeViber")
    add_template(ctx, "acme", "whatsapp", "order_shipped", "en_US",
                 "Hi {{1}}, your order {{2}} has shipped.", "UTILITY")
    add_template(ctx, "acme", "viber", "delivery_notice", "en",
                 "Hello {{name}}, your parcel {{tracking}} arrives today.", "TRANSACTIONAL")
    installs.save_hubspot_tokens(ctx, ACME_PORTAL, hs.TokenSet(ACME_ACCESS, ACME_REFRESH, 1800, ACME_PORTAL, None,
                                                       "oauth crm.objects.contacts.read"))
