"""The Intercom inbox app: Canvas Kit endpoints, install, and (in the demo) a page that plays Intercom."""

from .routes import bp
from .playground import bp as playground

__all__ = ["bp", "playground"]
