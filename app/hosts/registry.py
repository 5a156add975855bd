"""Which host client answers for what: the one place that knows the demo portal is played by the
demo host (as ``providers.registry`` knows the sandbox by name), so no other path asks.

One set of clients per configuration, each with its own connection pool.
"""

from __future__ import annotations

from typing import Any

from .demo import DEMO_HUBSPOT_PORTAL, DemoHubSpot
from .hubspot import HubSpotClient
from .intercom import IntercomClient


class HostClients:
    """The host clients one configuration uses, built once and shared by every request."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.hubspot = HubSpotClient(config.hubspot_api_base, config.hubspot_client_id,
                                     config.hubspot_client_secret)
        self.intercom = IntercomClient(config.intercom_api_base, config.intercom_client_id,
                                       config.intercom_client_secret)
        self.demo_hubspot = DemoHubSpot()

    def hubspot_for(self, portal_id: str) -> HubSpotClient | DemoHubSpot:
        """The client that answers for a portal: the demo host plays the embedded default's portal."""
        if bool(getattr(self.config, "demo", False)) and str(portal_id) == DEMO_HUBSPOT_PORTAL:
            return self.demo_hubspot
        return self.hubspot

    def close(self) -> None:
        self.hubspot.http.close()
        self.intercom.http.close()
