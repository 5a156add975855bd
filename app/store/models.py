"""The tables. Secrets live only in ``*_sealed`` columns, encrypted before they reach the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    """A tenant: one customer of Herald, linked to its Intercom workspace and/or HubSpot portal."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    intercom_workspace_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    hubspot_portal_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    senders: Mapped[list["Sender"]] = relationship(back_populates="workspace", order_by="Sender.id")


class Sender(Base):
    """A number or sender id Herald sends from, on one channel, through one provider."""

    __tablename__ = "senders"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "from_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    credentials_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    workspace: Mapped[Workspace] = relationship(back_populates="senders")


class Template(Base):
    """An approved (or not) message template, as the channel knows it."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "name", "language"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    parameter_format: Mapped[str] = mapped_column(String(16), default="POSITIONAL")
    body: Mapped[str] = mapped_column(Text, default="")
    header_format: Mapped[str] = mapped_column(String(16), default="")
    header_text: Mapped[str] = mapped_column(Text, default="")
    footer: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list] = mapped_column(JSON, default=list)
    components: Mapped[list] = mapped_column(JSON, default=list)
    provider_template_id: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecipientState(Base):
    """One customer on one sender: the window, Viber's in-a-row count and the SMS opt-out."""

    __tablename__ = "recipient_states"
    __table_args__ = (UniqueConstraint("sender_id", "recipient"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(32))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbound_since_inbound: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opt_keyword: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Consent(Base):
    """A recorded marketing consent (or its withdrawal) for one recipient on one channel."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_lookup", "workspace_id", "recipient", "channel", "recorded_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Message(Base):
    """Every outbound attempt Herald made, with what it said, why, who asked, and how it went."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_recipient", "workspace_id", "recipient", "id"),
        Index("ix_messages_contact", "workspace_id", "contact_ref", "id"),
        Index("ix_messages_provider_id", "provider_message_id"),
        Index("ix_messages_created", "workspace_id", "created_at"),
        Index("ix_messages_recipient_created", "workspace_id", "recipient", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    template_name: Mapped[str | None] = mapped_column(String(512))
    template_language: Mapped[str | None] = mapped_column(String(16))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    surface: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(255))
    contact_ref: Mapped[str | None] = mapped_column(String(64))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    sms_encoding: Mapped[str | None] = mapped_column(String(8))
    sms_segments: Mapped[int | None] = mapped_column(Integer)
    policy_verdict: Mapped[str | None] = mapped_column(String(16))
    policy_reasons: Mapped[list] = mapped_column(JSON, default=list)
    confirmed_by: Mapped[str | None] = mapped_column(String(255))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(160))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    events: Mapped[list["MessageEvent"]] = relationship(order_by="MessageEvent.id", back_populates="message")
    sender: Mapped[Sender] = relationship()


class PolicyDecision(Base):
    """A send the rules stopped — refused, or held for an agent's confirmation — from any surface.

    Nothing was sent, so there is no message row: this is what lets an operator see what the policy
    stopped, who asked, from where, for what purpose, and why (the reasons as the sender saw them).
    """

    __tablename__ = "policy_decisions"
    __table_args__ = (Index("ix_policy_decisions_created", "workspace_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # refused or confirm
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    template_name: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    surface: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(255))
    contact_ref: Mapped[str | None] = mapped_column(String(64))
    reason_codes: Mapped[list] = mapped_column(JSON, default=list)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    content: Mapped[dict | None] = mapped_column(JSON)


class MessageEvent(Base):
    """One step in a message's status history; ``dedupe_key`` makes a redelivered event count once."""

    __tablename__ = "message_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[Message] = relationship(back_populates="events")


class InboundMessage(Base):
    """A message a customer sent us: it opens the window and may carry STOP or START."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("sender_id", "provider_message_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("senders.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str] = mapped_column(String(160))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """A caller's key, claimed with the message it produced, so a retry never sends twice."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Installation(Base):
    """Herald installed in an Intercom workspace or a HubSpot portal, with its sealed tokens."""

    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("host", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    access_token_sealed: Mapped[str | None] = mapped_column(Text)
    refresh_token_sealed: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_base: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(Text, default="")
    installed_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Writeback(Base):
    """A record of a send still to be written to Intercom or HubSpot; retried until it lands."""

    __tablename__ = "writebacks"
    __table_args__ = (Index("ix_writebacks_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(16))
    target: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A key a customer's system uses on /api/v1; only its hash is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the minute, written lazily


class UsedToken(Base):
    """A one-time token already spent (compose links, OAuth states)."""

    __tablename__ = "used_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEvent(Base):
    """A provider webhook delivery as it arrived, verified and stored before the 200; applied by a worker.

    ``digest`` (provider, query and raw body) is unique, so a delivery the provider repeats byte for
    byte is stored, and applied, once.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    sender_ids: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    query: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventEndpoint(Base):
    """A URL a customer's system subscribed to Herald's events; its signing secret is sealed."""

    __tablename__ = "event_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list] = mapped_column(JSON, default=list)  # empty: every event type
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboundEvent(Base):
    """Something that happened that subscribers hear of: a status change, a customer's message."""

    __tablename__ = "outbound_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))  # the message it is about: deliveries keep its order
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventDelivery(Base):
    """One event on its way to one endpoint: retried with back-off for a day, in order per message."""

    __tablename__ = "event_deliveries"
    __table_args__ = (Index("ix_event_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_event_deliveries_order", "endpoint_id", "subject", "event_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbound_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
