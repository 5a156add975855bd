"""/api/v1: customers' own systems send through the same engine as the agent panels."""

from .routes import bp

__all__ = ["bp"]
