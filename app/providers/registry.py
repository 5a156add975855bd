"""Provider names as operators type them, and the adapter class behind each."""

from __future__ import annotations

from typing import Callable

from .base import Provider
from .sandbox import SandboxProvider
from .twilio import TwilioProvider
from .vonage import VonageProvider
from .whatsapp_cloud import WhatsAppCloudProvider

PROVIDERS: dict[str, type[Provider]] = {"sandbox": SandboxProvider, "whatsapp_cloud": WhatsAppCloudProvider,
                                        "twilio": TwilioProvider, "vonage": VonageProvider}
PROVIDER_NAMES = ("whatsapp_cloud", "twilio", "vonage", "sandbox")

# Which channels each provider can carry.
PROVIDER_CHANNELS = {
    "whatsapp_cloud": ("whatsapp",),
    "twilio": ("sms", "whatsapp"),
    "vonage": ("viber", "sms", "whatsapp"),
    "sandbox": ("whatsapp", "sms", "viber"),
}


def register(name: str, cls: type[Provider]) -> None:
    PROVIDERS[name] = cls


ProviderFactory = Callable[[str], Provider]
