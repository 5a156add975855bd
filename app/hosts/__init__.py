"""One module per host API (Intercom, HubSpot) and a demo host for the embedded default.

Same shape as ``providers/``: build the request, call it through :mod:`app.httpclient`, map the
answer to Herald's terms. Hosts import only the domain and the HTTP client; nothing of panels,
services or the store.
"""
