"""The Intercom inbox app: Canvas Kit endpoints, install, and (in the demo) a page that plays Intercom."""

from .playground import bp as playground
from .routes import bp

__all__ = ["bp", "playground"]
