"""Meta's error codes (providers.md §1.5) in one table, what happened and what to do next, and its
message statuses in Herald's words."""

from __future__ import annotations

import re

from ...domain import status as st
from ..base import ErrorInfo
from ..errors import (
    ACCOUNT,
    AUTH,
    CONFIG,
    CONTENT,
    MARKETING_LIMIT,
    OPTED_OUT,
    PROVIDER_UNAVAILABLE,
    RATE_LIMITED,
    RECIPIENT_INVALID,
    TEMPLATE,
    UNDELIVERABLE,
    WINDOW_CLOSED,
    ErrorRow,
)


LABEL = "WhatsApp"
DEFAULT_BASE = "https://graph.facebook.com/v23.0"
TEMPLATE_FIELDS = "id,name,language,status,category,components,parameter_format,quality_score,rejected_reason"

_TRY_LATER = "Wait a little and send it again."

# Meta's error codes (providers.md §1.5), in one table: what happened, and what to do next.
ERRORS: dict[str, ErrorInfo] = {
    "0": ErrorRow("Meta no longer accepts this sender's access token.",
                  "Reconnect WhatsApp: give the sender a new access token.", kind=AUTH),
    "3": ErrorRow("The Meta app behind this sender lacks the permission to send.",
                  "Check the app's WhatsApp permissions in Meta's developer settings.", kind=CONFIG),
    "4": ErrorRow("The Meta app made too many API calls.", _TRY_LATER, retryable=True, kind=RATE_LIMITED),
    "10": ErrorRow("Meta denied the permission this send needs.",
                   "Check the access token's permissions (whatsapp_business_messaging).", kind=CONFIG),
    "100": ErrorRow("Meta refused a parameter of the request.",
                    "Check the sender's settings and the message; sending it again will not help.", kind=CONFIG),
    "190": ErrorRow("The WhatsApp access token has expired.",
                    "Reconnect WhatsApp: give the sender a new access token (a system-user token does not "
                    "expire).", kind=AUTH),
    "368": ErrorRow("Meta has temporarily blocked this business from messaging for policy violations.",
                    "Stop sending and check the account's status in WhatsApp Manager.", kind=ACCOUNT),
    "80007": ErrorRow("The WhatsApp Business Account hit its rate limit.", _TRY_LATER, retryable=True,
                      kind=RATE_LIMITED),
    "130429": ErrorRow("This WhatsApp number is sending faster than Meta allows.",
                       "Retry later; Herald did not send it.", retryable=True, kind=RATE_LIMITED),
    "130472": ErrorRow("Meta held this message back because the customer is part of a marketing experiment.",
                       "Do not resend it; this is not a problem with the message.", kind=MARKETING_LIMIT),
    "130497": ErrorRow("This business may not message customers in the recipient's country.",
                       "Use another channel for this customer.", kind=ACCOUNT),
    "131000": ErrorRow("WhatsApp hit an internal error.", _TRY_LATER, retryable=True, kind=PROVIDER_UNAVAILABLE),
    "131005": ErrorRow("Meta denied access to this WhatsApp number.",
                       "Check the access token's permissions.", kind=CONFIG),
    "131008": ErrorRow("A required parameter was missing from the request.",
                       "Check the template's parameters.", kind=TEMPLATE),
    "131009": ErrorRow("A parameter value was not valid.", "Check the number and the template's parameters.",
                       kind=CONFIG),
    "131016": ErrorRow("WhatsApp is temporarily unavailable.", _TRY_LATER, retryable=True,
                       kind=PROVIDER_UNAVAILABLE),
    "131021": ErrorRow("The recipient is this sender's own number.", "Send to the customer's number instead.",
                       kind=RECIPIENT_INVALID),
    "131026": ErrorRow("WhatsApp could not deliver this message: the number may not use WhatsApp, may not "
                       "have accepted WhatsApp's terms, or may run an old version.",
                       "Reach the customer on SMS or Viber instead; do not resend on WhatsApp right away.",
                       kind=UNDELIVERABLE),
    "131030": ErrorRow("The recipient is not on this test number's allowed list.",
                       "Add the number in Meta's developer settings, or send from a production number.",
                       kind=CONFIG),
    "131031": ErrorRow("The WhatsApp Business Account is locked.", "Check the account in WhatsApp Manager.",
                       kind=ACCOUNT),
    "131042": ErrorRow("There is a payment problem on the WhatsApp Business Account.",
                       "Check the payment method in WhatsApp Manager.", kind=ACCOUNT),
    "131047": ErrorRow("More than 24 hours have passed since the customer last wrote, so WhatsApp only "
                       "accepts an approved template.", "Send an approved template instead.", kind=WINDOW_CLOSED),
    "131048": ErrorRow("Meta is limiting this number because of its quality rating (spam rate limit).",
                       "Send fewer messages and check the number's quality in WhatsApp Manager.",
                       retryable=True, kind=RATE_LIMITED),
    "131049": ErrorRow("Meta did not deliver this marketing message to keep the customer's engagement "
                       "healthy (per-customer marketing limit).",
                       "Wait at least 24 hours before trying again; do not resend in a loop.",
                       kind=MARKETING_LIMIT),
    "131050": ErrorRow("The customer has stopped marketing messages from this business.",
                       "Do not send marketing templates to this customer.", kind=OPTED_OUT),
    "131051": ErrorRow("WhatsApp does not support this message type.", "Send text or a template.", kind=CONTENT),
    "131052": ErrorRow("WhatsApp could not download the media.", "Check that the media link is public.",
                       kind=CONTENT),
    "131053": ErrorRow("WhatsApp could not process the media.", "Check the media file's type and size.",
                       kind=CONTENT),
    "131056": ErrorRow("Too many messages went to this customer in a short time.",
                       "Retry later, at least a minute from now.", retryable=True, kind=RATE_LIMITED),
    "131057": ErrorRow("The WhatsApp Business Account is in maintenance.", "Retry in a minute.",
                       retryable=True, kind=PROVIDER_UNAVAILABLE),
    "131063": ErrorRow("Marketing templates are disabled for the Cloud API on this account.",
                       "Send marketing through Meta's Marketing Messages API or choose a utility template.",
                       kind=ACCOUNT),
    "131064": ErrorRow("Meta limited this account's messaging because of template classification violations.",
                       "Review the account's templates in WhatsApp Manager.", kind=ACCOUNT),
    "132000": ErrorRow("The number of template parameters does not match the approved template.",
                       "Fill in exactly the template's placeholders; sync templates if it changed.", kind=TEMPLATE),
    "132001": ErrorRow("This template does not exist in that language, or is not approved.",
                       "Check the template's name and language, or sync templates.", kind=TEMPLATE),
    "132005": ErrorRow("The template is too long once its parameters are filled in.",
                       "Use shorter parameter values.", kind=TEMPLATE),
    "132007": ErrorRow("The template breaks WhatsApp's formatting rules.",
                       "Check the parameter values for forbidden characters.", kind=TEMPLATE),
    "132008": ErrorRow("A template parameter value is not valid.", "Check the parameter values.", kind=TEMPLATE),
    "132012": ErrorRow("A template parameter has the wrong format for the approved template.",
                       "Check which parameters are text, currency or date, and the header media type.",
                       kind=TEMPLATE),
    "132015": ErrorRow("The template is paused because of low quality.", "Choose another template.",
                       kind=TEMPLATE, template_status="PAUSED"),
    "132016": ErrorRow("The template is disabled because of low quality.", "Choose another template.",
                       kind=TEMPLATE, template_status="DISABLED"),
    "135000": ErrorRow("WhatsApp refused the message because of a user error.",
                       "Check the message and its parameters.", kind=CONTENT),
    "470": ErrorRow("More than 24 hours have passed since the customer last wrote, so WhatsApp only accepts "
                    "an approved template.", "Send an approved template instead.", kind=WINDOW_CLOSED),
}

STATUSES = {"sent": st.SENT, "delivered": st.DELIVERED, "read": st.READ, "played": st.READ, "failed": st.FAILED}

# Codes after which a NAMED template send is repeated once with currency and date_time values as text.
_TYPED_NAMED_REFUSALS = frozenset({"100", "131008", "131009", "132000", "132012"})
_URL = re.compile(r"https?://", re.IGNORECASE)
