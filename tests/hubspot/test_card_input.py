"""A signed card request whose ids are not ids (NUL, far too long) is a 400, on every database."""

from __future__ import annotations

import pytest

from .common import signed_get


@pytest.mark.parametrize("query", ["portalId=%00&contactId=101", "portalId=900001&contactId=1%000",
                                   "portalId=900001&contactId=" + "9" * 300])
def test_ids_that_are_not_ids_are_400(client, clock, query):
    response = signed_get(client, f"/hubspot/card?{query}", clock)
    assert response.status_code == 400 and "is not an id" in response.get_json()["error"]
