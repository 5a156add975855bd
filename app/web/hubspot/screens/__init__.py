"""What the HubSpot surface renders, as pure builders beside its routes (as web/intercom/screens is for
Intercom's canvases): ``compose`` builds the compose page's context."""
