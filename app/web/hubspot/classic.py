"""The classic CRM card answer (``results``), for portals still on a legacy card or HubSpot's converter.

Pure: the card data in, the documented ``results`` JSON out (reference/hubspot.md §1.3–1.5). The
compose page is the card's primary IFRAME action; its URI carries a fresh compose token because
HubSpot sends no signature when it opens an iframe.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Mapping

MAX_RESULTS = 5  # "up to five" objects
CHANNEL_OPTION = {"free_text": "SUCCESS", "template_only": "WARNING", "opted_out": "DANGER",
                  "unavailable": "DEFAULT"}
STATUS_OPTION = {"delivered": "SUCCESS", "read": "SUCCESS", "queued": "INFO", "accepted": "INFO", "sent": "INFO",
                 "failed": "DANGER", "unknown": "WARNING"}
MODAL = {"width": 640, "height": 720}


def object_id(public_id: str) -> int:
    """A stable number for a message (``objectId`` must be a number; 48 bits stay exact in JavaScript)."""
    digits = public_id[4:16] if public_id.startswith("msg_") else ""
    try:
        return int(digits, 16)
    except ValueError:
        return int(hashlib.sha256(public_id.encode()).hexdigest()[:12], 16)


def epoch_ms(iso: str) -> str:
    return str(int(datetime.fromisoformat(iso).timestamp() * 1000))


def _channels_item(channels: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {"objectId": 1, "title": "What can be sent now", "link": None,
            "properties": [{"label": c["label"], "dataType": "STATUS", "value": c["summary"],
                            "optionType": CHANNEL_OPTION.get(c["state"], "DEFAULT")} for c in channels]}


def _message_item(message: Mapping[str, Any]) -> dict[str, Any]:
    return {"objectId": object_id(message["id"]), "title": f"{message['channel_label']} message", "link": None,
            "properties": [
                {"label": "Status", "dataType": "STATUS", "value": message["status_label"],
                 "optionType": STATUS_OPTION.get(message["status"], "DEFAULT")},
                {"label": "Message", "dataType": "STRING", "value": message["text"]},
                {"label": "Sent", "dataType": "DATETIME", "value": epoch_ms(message["created_at"])},
            ]}


def classic_card(card: Mapping[str, Any], compose_uri: str | None) -> dict[str, Any]:
    """The card data as a classic ``results`` answer; the compose page is the primary action."""
    if card["setup"]["needed"]:
        return {"results": [{"objectId": 1, "title": "Herald needs setting up", "link": None,
                             "properties": [{"label": "What to do", "dataType": "STRING",
                                             "value": card["setup"]["message"]}]}]}
    results = [_channels_item(card["channels"])] if card["channels"] else []
    results += [_message_item(m) for m in card["messages"]]
    answer: dict[str, Any] = {"results": results[:MAX_RESULTS]}
    if compose_uri and card["contact"]["phone"]:
        answer["primaryAction"] = {"type": "IFRAME", **MODAL, "uri": compose_uri, "label": "Send message"}
    return answer
