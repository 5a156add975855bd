"""The message canvases: home, compose, write, confirm and sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ....domain.purposes import MARKETING, SERVICE
from ....domain.refusals import Reason
from ..components import (
    MAX_OPTIONS,
    Component,
    button,
    canvas,
    clip,
    data_table,
    dropdown,
    input_,
    list_,
    list_item,
    plain,
    single_select,
    text,
    textarea,
)
from .common import CONSENT_REASONS, ECHO, KIND_LABELS, NO_PURPOSE, RECENT, back, moment, shown_number


# --------------------------------------------------------------------------- first canvas


@dataclass(frozen=True)
class HomeView:
    contact_name: str
    overview: Mapping[str, Any]  # services.panel.contact_overview
    stored: Mapping[str, Any]
    typed_number: str = ""  # what the agent typed when Intercom had no usable number
    intercom_number: str | None = None  # Intercom's number when it is not a phone number
    error: str = ""


def _recent_line(message: Mapping[str, Any]) -> str:
    """One sent message in at most two sidebar lines: channel, status, absolute date, the start of the text."""
    head = f"**{message['channel_label']}** · {message['status_label']} · {moment(message['created_at'])}"
    room = 84 - len(head) - 5
    words = clip(message.get("text") or "", room) if room > 8 else ""
    return f"{head} · “{plain(words)}”" if words else head


def home(view: HomeView) -> dict[str, Any]:
    """The first canvas: the number, what each channel allows now, recent sends, and one way on.

    Lines are text rather than a data-table: a table cuts long values, and the window's closing
    date is the part the agent needs.
    """
    overview = view.overview
    if overview.get("phone"):  # Intercom's sidebar already names the contact: the number heads the canvas
        components: list[Component] = [text(overview["phone_display"], "header")]
        channels = list(overview.get("channels", []))
        for index, channel in enumerate(channels):
            summary = channel["summary"][:1].lower() + channel["summary"][1:]
            components.append(text(f"**{channel['label']}**: {summary}", bottom_margin=index == len(channels) - 1))
    else:
        components = [text(plain(view.contact_name) or "This contact", "header")]
        if view.intercom_number:
            components.append(text(f"Intercom's number for this contact, “{plain(view.intercom_number)}”, is not "
                                   "a phone number Herald can use. Enter it with the country code.", "muted"))
        else:
            components.append(text("Intercom has no phone number for this contact. Enter one to send a "
                                   "message.", "muted"))
        components.append(input_("phone", "Phone number", view.typed_number, placeholder="+44 7700 900123",
                                 failed=bool(view.error), inline_submit=True))
    if view.error:
        components.append(text(plain(view.error), "error"))
    messages = list(overview.get("messages", []))[:RECENT]
    if messages:
        components.append(text("**Recent messages**", bottom_margin=False))
        for index, message in enumerate(messages):
            components.append(text(_recent_line(message), "muted", bottom_margin=index == len(messages) - 1))
    elif overview.get("phone"):
        components.append(text("Herald has not sent this contact anything yet.", "muted"))
    components.append(button("compose", "Write a message", "secondary"))
    components.append(button("consent", "Marketing consent", "link"))
    return canvas(components, dict(view.stored))


# --------------------------------------------------------------------------- compose


@dataclass(frozen=True)
class ComposeView:
    number: str
    channel: str
    channels: Sequence[tuple[str, str]]  # (id, label) the workspace sends on
    options: Mapping[str, Any]  # services.panel.compose_options for ``channel``
    stored: Mapping[str, Any]
    error: str = ""


def compose(view: ComposeView) -> dict[str, Any]:
    """Choose the channel, then free text or one of the approved templates usable now."""
    options = view.options
    components: list[Component] = [text("New message", "header"),
                                   text(f"To **{shown_number(view.number)}**")]
    if len(view.channels) >= 2:
        components.append(single_select("channel", "Channel", list(view.channels)[:MAX_OPTIONS], view.channel,
                                        submit_on_change=True))
    else:
        components.append(text(f"Channel: {options['label']}"))
    components.append(text(options["free_text_note"], "muted"))
    if view.error:
        components.append(text(plain(view.error), "error"))
    items: list[Component] = []
    if options["free_text_allowed"]:
        items.append(list_item("content:free", "Free text", "Write your own message"))
    for template in options["templates"]:
        items.append(list_item(f"content:tpl:{template['id']}", template["name"],
                               clip(template["body"] or template.get("header") or "", 80),
                               f"{template['language']} · {str(template['category']).capitalize()}"))
    if items:
        components.append(text("**Choose a message**", bottom_margin=False))
        components.append(list_(items))
    else:
        components.append(text(f"No approved {options['label']} template can be used in this workspace's "
                               "languages, and free text is not allowed now.", "muted"))
    components += back("home")
    return canvas(components, dict(view.stored))


# --------------------------------------------------------------------------- write and send


@dataclass(frozen=True)
class WriteView:
    """The form for one message: who to, from which sender, the content, why, and the preview."""

    channel_label: str
    window_note: str
    to: str
    senders: Sequence[tuple[str, str]]
    sender: str
    template: Mapping[str, Any] | None  # one of compose_options()["templates"], or None for free text
    params: Mapping[str, str]
    text_value: str
    purposes: Sequence[Mapping[str, str]]  # compose_options()["purposes"]
    purpose: str
    purpose_kind: str
    preview: str
    sms: Mapping[str, Any] | None
    stored: Mapping[str, Any]
    reasons: Sequence[Reason] = ()
    heading: str = ""  # a sentence above the reasons (e.g. that the policy refused)
    notice: str = ""


def _failed_fields(reasons: Sequence[Reason]) -> set[str]:
    marked = set()
    for reason in reasons:
        if reason.field in ("text", "content"):
            marked.add("message")
        elif reason.field:
            marked.add(reason.field)
    return marked


def purpose_fields(purposes: Sequence[Mapping[str, str]], value: str, kind: str, failed: bool) -> list[Component]:
    """A purpose dropdown; split by kind (service, marketing) when the list is longer than a select allows."""
    prompt = (NO_PURPOSE, "Choose a purpose…")
    if len(purposes) + 1 <= MAX_OPTIONS:
        return [dropdown("purpose", "Purpose", [prompt] + [(p["code"], p["label"]) for p in purposes],
                         value or NO_PURPOSE, failed=failed)]
    kinds = [k for k in (SERVICE, MARKETING) if any(p["kind"] == k for p in purposes)]
    kinds += sorted({p["kind"] for p in purposes} - set(kinds))
    kind = kind if kind in kinds else kinds[0]
    fields: list[Component] = []
    if len(kinds) >= 2:
        fields.append(single_select("purpose_kind", "Purpose", [(k, KIND_LABELS.get(k, k.capitalize()))
                                                                for k in kinds][:MAX_OPTIONS],
                                    kind, submit_on_change=True))
    same_kind = [(p["code"], p["label"]) for p in purposes if p["kind"] == kind][: MAX_OPTIONS - 1]
    label = f"{KIND_LABELS.get(kind, kind.capitalize())} purpose" if len(kinds) >= 2 else "Purpose"
    fields.append(dropdown("purpose", label, [prompt] + same_kind,
                           value if any(value == c for c, _ in same_kind) else NO_PURPOSE, failed=failed))
    return fields


def slot_label(body: str, slot: Mapping[str, str]) -> str:
    """A numbered placeholder says little alone: add the words just before it ("after “your order”")."""
    if not str(slot["id"]).isdigit():
        return slot["label"]
    found = re.search(r"([^{}]{0,60})\{\{\s*%s\s*\}\}" % re.escape(str(slot["id"])), body or "")
    words = found.group(1).replace("\n", " ").strip(" ,.;:!?").split()[-3:] if found else []
    return f"{slot['label']} · after “{' '.join(words)}”" if words else slot["label"]


def sms_line(sms: Mapping[str, Any]) -> str:
    segments = sms["segments"]
    line = (f"SMS: {sms['encoding']}, {sms['units']} characters, {segments} "
            f"segment{'s' if segments != 1 else ''}")
    odd = sms.get("non_gsm_characters") or []
    if odd:
        line += " (UCS-2 because of " + " ".join(f"“{plain(c)}”" for c in odd[:5]) + ")"
    return line


def write(view: WriteView) -> dict[str, Any]:
    marked = _failed_fields(view.reasons)
    template = view.template
    what = f"Template {template['name']} ({template['language']})" if template else view.window_note
    components: list[Component] = [text(f"{view.channel_label} message", "header"), text(plain(what), "muted")]
    if view.heading:
        components.append(text(plain(view.heading), "error"))
    components += [text(plain(r.message), "error") for r in view.reasons]
    if any(r.code in CONSENT_REASONS for r in view.reasons):  # the fix is one click away, values kept
        components.append(button("consent_for_send", f"Record marketing consent on {view.channel_label}",
                                 "secondary"))
    if view.notice:
        components.append(text(plain(view.notice), "muted"))
    components.append(input_("to", "To", view.to[:100], placeholder="+44 7700 900123", failed="to" in marked))
    if len(view.senders) >= 2:
        components.append(dropdown("sender", "From", list(view.senders)[:MAX_OPTIONS], view.sender,
                                   failed="sender" in marked))
    if template:
        components.append(text(plain(template["body"] or ""), "muted"))
        for slot in template["slots"]:
            components.append(input_(f"param:{slot['id']}", slot_label(template["body"] or "", slot),
                                     view.params.get(slot["id"], "")[:ECHO],
                                     failed=f"param:{slot['id']}" in marked or "params" in marked))
    else:
        components.append(textarea("message", "Message", view.text_value[:ECHO], placeholder="Type your message…",
                                   error="message" in marked))
    components += purpose_fields(view.purposes, view.purpose, view.purpose_kind, "purpose" in marked)
    if view.preview:
        components.append(textarea("preview_text", "Preview: exactly what will be sent", view.preview[:ECHO],
                                   disabled=True))
        if view.sms:
            components.append(text(sms_line(view.sms), "muted"))
    else:
        components.append(text("Fill in the message to see exactly what will be sent.", "muted"))
    components += [button("update_preview", "Preview", "secondary"), button("send", "Send", "primary"),
                   *back("back_compose")]
    return canvas(components, dict(view.stored))


@dataclass(frozen=True)
class ConfirmView:
    channel_label: str
    to: str
    preview: str
    reasons: Sequence[Reason]
    questions: Sequence[str]
    stored: Mapping[str, Any]
    error: str = ""


def confirm(view: ConfirmView) -> dict[str, Any]:
    """The policy wants a person to confirm: its reasons, its questions, and an explicit yes."""
    components: list[Component] = [
        text("⚠️ Confirm before sending", "header"),
        text(f"{view.channel_label} to **{shown_number(view.to)}**"),
    ]
    components += [text(plain(r.message), "muted") for r in view.reasons]
    questions = list(view.questions)
    for number, question in enumerate(questions, start=1):
        components.append(text(f"**{number}.** {plain(question)}"))
    components.append(textarea("preview_text", "The message", view.preview, disabled=True))
    answer = "Yes to both" if len(questions) == 2 else ("Yes" if len(questions) <= 1 else "Yes to all")
    components.append(single_select("confirm_answer", "Your answer", [("yes", answer), ("no", "No")],
                                    failed=bool(view.error)))
    if view.error:
        components.append(text(plain(view.error), "error"))
    components += [button("confirm_send", "Send", "primary"), *back("back_write")]
    return canvas(components, dict(view.stored))


@dataclass(frozen=True)
class SentView:
    message: Mapping[str, Any]  # services.send.message_view
    note: str | None  # services.intercom.note_state
    stored: Mapping[str, Any]
    replayed: bool = False
    completed: bool = True


NOTE_WORDS = {
    "done": "Added as a note to this conversation.",
    "pending": "Herald could not add the note to this conversation yet; it will try again.",
    "failed": "Herald could not add the note to this conversation.",
}


def sent(view: SentView) -> dict[str, Any]:
    """Success (✅, channel, number, provider status) — or, after a timeout, an honest "unknown"."""
    m = view.message
    unknown = m["status"] == "unknown"
    heading = (f"⚠️ {m['channel_label']} message: outcome unknown" if unknown
               else f"✅ {m['channel_label']} message sent")
    rows = [("Channel", m["channel_label"]), ("To", shown_number(m["to"]))]
    if m.get("from"):
        rows.append(("From", shown_number(m["from"])))
    rows.append(("Status", m["status_label"]))
    components: list[Component] = [text(heading, "header"), data_table(rows),
                                   text(f"Sent on {moment(m['created_at'])}.", "muted")]
    if unknown:
        components.append(text(plain(m.get("error_message") or "The provider did not answer in time.") +
                               " Herald will not send it twice; check its status before writing again.", "muted"))
    components.append(text(plain(m["text"] or ""), "muted"))
    if view.replayed:
        components.append(text("This message had already been sent; Herald did not send it twice.", "muted"))
    if view.note in NOTE_WORDS:
        components.append(text(NOTE_WORDS[view.note], "muted"))
    components += [button("refresh_status", "Refresh status", "secondary"), *back("home", "Back to start")]
    return canvas(components, dict(view.stored), completed=view.completed)
