"""Where the proactive-message policy meets the store: gather what it judges, return the judge.

Everything is read inside the deciding transaction with indexed lookups, whatever the size of the
messages table:

* the person's messages in the workspace since the longer of 24 hours and the marketing-after-service
  wait — one range scan of ``ix_messages_recipient_created`` (workspace, recipient, created_at);
* whether Herald ever sent them a Viber message that did not fail — an EXISTS on
  ``ix_messages_recipient`` (workspace, recipient, id), only for Viber sends;
* their latest marketing consent on the channel — one row from ``ix_consents_lookup``;
* the workspace's template languages — from ``templates`` by workspace.

Which stored messages count: a failed send reached nobody and counts for nothing. A message whose
purpose is a service purpose, or that has no purpose (sent before purposes were recorded), is a
service message for the marketing wait. Toward the daily cap count the messages whose stored verdict
does not mark them as a reply inside the open window, leaving out security events and passcodes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain import status as st
from ..domain.decision import Policy, PolicyInput, PolicyVerdict
from ..domain.policy import REPLY, History, PolicySettings, judge
from ..domain.purposes import PURPOSES, URGENT
from ..store.models import Message
from .consent import current_consent
from .snapshots import WorkspaceSnapshot

DAY = timedelta(hours=24)

_MESSAGES = Message.__table__
# The person's recent messages: a range scan of ix_messages_recipient_created, built once.
_RECENT = (select(_MESSAGES.c.created_at, _MESSAGES.c.purpose, _MESSAGES.c.status, _MESSAGES.c.policy_reasons)
           .where(_MESSAGES.c.workspace_id == bindparam("workspace_id"),
                  _MESSAGES.c.recipient == bindparam("recipient"),
                  _MESSAGES.c.created_at >= bindparam("since", type_=Message.created_at.type)))


def policy_for(session: Session, workspace: WorkspaceSnapshot, sender: Any, recipient: str,
               now: datetime) -> Policy:
    """The policy that judges a send from ``sender`` to ``recipient`` at ``now``.

    Consent matters only to marketing, so it is read only when the first judgement finds the send
    is marketing; the judgement is then made again with it.
    """
    settings = PolicySettings.from_mapping(workspace.settings or {}, workspace.template_languages)
    history = load_history(session, workspace.id, sender.channel, recipient, now, settings, with_consent=False)

    def policy(inputs: PolicyInput) -> PolicyVerdict:
        verdict = judge(inputs, history, settings)
        if verdict.marketing:
            consent = current_consent(session, workspace.id, recipient, sender.channel)
            verdict = judge(inputs, replace(history, consent=consent), settings)
        return verdict
    return policy


def load_history(session: Session, workspace_id: int, channel: str, recipient: str, now: datetime,
                 settings: PolicySettings, with_consent: bool = True) -> History:
    """What the store knows of this person that the policy needs."""
    wait = timedelta(hours=settings.marketing_after_service_hours)
    since = now - max(DAY, wait)
    rows = session.connection().execute(_RECENT, {"workspace_id": workspace_id, "recipient": recipient,
                                                   "since": since}).all()
    last_service_at = None
    proactive: list[datetime] = []
    for created_at, purpose, status, reasons in rows:
        if status == st.FAILED:
            continue
        known = PURPOSES.get(purpose or "")
        if (known is None or not known.marketing) and now - created_at < wait:
            last_service_at = created_at if last_service_at is None else max(last_service_at, created_at)
        reply = any(isinstance(r, dict) and r.get("code") == REPLY for r in reasons or ())
        if now - created_at < DAY and purpose not in URGENT and not reply:
            proactive.append(created_at)
    first_on_viber = False
    if channel == "viber":
        first_on_viber = session.scalar(
            select(Message.id).where(Message.workspace_id == workspace_id, Message.recipient == recipient,
                                     Message.channel == "viber", Message.status != st.FAILED).limit(1)) is None
    return History(last_service_at=last_service_at, proactive_sent=tuple(sorted(proactive)),
                   consent=current_consent(session, workspace_id, recipient, channel) if with_consent else None,
                   first_on_viber=first_on_viber, time_zones=phone.time_zones(recipient))
