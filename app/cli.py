"""Operator commands: `flask --app app …`. Secrets go in as options and never come back out."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .domain.phone import display
from .domain.purposes import ORIGINS, PURPOSES
from .domain.refusals import Refused
from .domain.rules import CHANNEL_LABELS, CHANNELS
from .services import workspaces as ws
from .services.context import Context


def _ctx() -> Context:
    return current_app.extensions["herald"]


def _fail(refused: Refused) -> None:
    for reason in refused.reasons:
        click.echo(f"Error: {reason.message}", err=True)
    sys.exit(1)


def _pairs(values: Iterable[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=what)
        out[key.strip()] = val
    return out


workspace_cli = AppGroup("workspace", help="Create and list workspaces (tenants).")
sender_cli = AppGroup("sender", help="Numbers and sender ids Herald sends from.")
template_cli = AppGroup("template", help="Message templates.")
sandbox_cli = AppGroup("sandbox", help="Play the customer's side of the sandbox provider.")
db_cli = AppGroup("db", help="Database schema.")
keys_cli = AppGroup("keys", help="Keys for SECRET_KEY and ENCRYPTION_KEY.")
writeback_cli = AppGroup("writeback", help="Records of sends in Intercom and HubSpot.")
apikey_cli = AppGroup("apikey", help="Keys customers' systems use on /api/v1.")


@apikey_cli.command("create")
@click.argument("workspace")
@click.option("--name", required=True, help="Who uses the key, e.g. 'order system'.")
def apikey_create(workspace: str, name: str) -> None:
    """Create a key; it is printed once and never again."""
    from .services.apikeys import create_key

    try:
        key = create_key(_ctx(), workspace, name)
    except Refused as refused:
        _fail(refused)
    click.echo(key)
    click.echo("Store it now: Herald keeps only its hash.", err=True)


@apikey_cli.command("list")
@click.argument("workspace")
def apikey_list(workspace: str) -> None:
    """List keys by prefix (never the key itself)."""
    from .services.apikeys import PREFIX, list_keys

    try:
        keys = list_keys(_ctx(), workspace)
    except Refused as refused:
        _fail(refused)
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{PREFIX}{k.prefix}_…\t{k.name}\t{state}")


@apikey_cli.command("revoke")
@click.argument("workspace")
@click.argument("prefix")
def apikey_revoke(workspace: str, prefix: str) -> None:
    """Revoke a key by its prefix (the 8 characters after hk_)."""
    from .services.apikeys import revoke_key

    prefix = prefix.removeprefix("hk_").split("_")[0]
    try:
        done = revoke_key(_ctx(), workspace, prefix)
    except Refused as refused:
        _fail(refused)
    if not done:
        click.echo("Error: no active key with that prefix.", err=True)
        sys.exit(1)
    click.echo("Revoked.")


@workspace_cli.command("create")
@click.argument("name")
@click.option("--intercom-workspace-id", help="The Intercom workspace (app) id this workspace serves.")
@click.option("--hubspot-portal-id", help="The HubSpot portal (hub) id this workspace serves.")
def workspace_create(name: str, intercom_workspace_id: str | None, hubspot_portal_id: str | None) -> None:
    """Create a workspace."""
    try:
        workspace = ws.create_workspace(_ctx(), name, intercom_workspace_id, hubspot_portal_id)
    except Refused as refused:
        _fail(refused)
    click.echo(f"Created workspace {workspace.name} (id {workspace.id}).")


@workspace_cli.command("list")
def workspace_list() -> None:
    """List workspaces and what they are linked to."""
    rows = ws.list_workspaces(_ctx())
    if not rows:
        click.echo("No workspaces yet: create one with `flask --app app workspace create NAME`.")
    for w in rows:
        links = ", ".join(filter(None, [f"Intercom {w.intercom_workspace_id}" if w.intercom_workspace_id else "",
                                        f"HubSpot {w.hubspot_portal_id}" if w.hubspot_portal_id else ""]))
        click.echo(f"{w.name}\t{links or 'not linked'}")


def _settings_help() -> str:
    from .domain.settings import SETTINGS

    return "\n".join(f"  {s.key}: {s.wanted} (default {json.dumps(s.default)})" for s in SETTINGS.values())


@workspace_cli.command("set", epilog="\b\nSettings:\n" + _settings_help())
@click.argument("workspace")
@click.argument("settings", nargs=-1, required=True)
def workspace_set(workspace: str, settings: tuple[str, ...]) -> None:
    """Change workspace settings, e.g. max_sms_segments=6 quiet_start=22:00 daily_cap=null.

    Values are JSON where they parse as JSON (numbers, null, lists), text otherwise. An unknown
    key or a value of the wrong form is refused, and then nothing changes.
    """
    changes: dict[str, Any] = {}
    for key, value in _pairs(settings, "SETTINGS").items():
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    try:
        result = ws.update_settings(_ctx(), workspace, changes)
    except Refused as refused:
        _fail(refused)
    click.echo(json.dumps(result, sort_keys=True))


@workspace_cli.command("unset")
@click.argument("workspace")
@click.argument("keys", nargs=-1, required=True)
def workspace_unset(workspace: str, keys: tuple[str, ...]) -> None:
    """Return settings to their defaults, e.g. `workspace unset acme daily_cap`."""
    try:
        result = ws.unset_settings(_ctx(), workspace, keys)
    except Refused as refused:
        _fail(refused)
    click.echo(json.dumps(result, sort_keys=True))


@sender_cli.command("add")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--provider", type=click.Choice(ws.PROVIDER_NAMES), required=True)
@click.option("--from", "from_number", required=True, help="The number (E.164) or Viber sender id.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Provider settings and credentials; tokens, secrets and keys are stored encrypted.")
def sender_add(workspace: str, channel: str, provider: str, from_number: str, options: tuple[str, ...]) -> None:
    """Add a sender to a workspace."""
    try:
        view = ws.add_sender(_ctx(), workspace, channel, provider, from_number, _pairs(options, "--option"))
    except Refused as refused:
        _fail(refused)
    secret = f"; {len(view.secret_option_names)} secret(s) stored encrypted" if view.secret_option_names else ""
    click.echo(f"Added {CHANNEL_LABELS[channel]} sender {view.from_number} via {provider} (id {view.id}){secret}.")
    _echo_webhook(view)


def _echo_webhook(view: Any) -> None:
    """The sender's own webhook URL, to give the provider (its secret alone verifies what arrives there)."""
    from .services.webhooks import webhook_url

    url = webhook_url(_ctx().config.public_base_url, view.provider, view.id)
    if url:
        click.echo(f"  webhook URL: {url}")


@sender_cli.command("list")
@click.argument("workspace")
def sender_list(workspace: str) -> None:
    """List a workspace's senders (secrets are shown only by name)."""
    try:
        views = ws.list_senders(_ctx(), workspace)
    except Refused as refused:
        _fail(refused)
    if not views:
        click.echo("No senders yet.")
    for v in views:
        opts = " ".join(f"{k}={val}" for k, val in sorted(v.options.items()))
        secrets = " ".join(f"{k}=••••" for k in v.secret_option_names)
        click.echo(f"{v.id}\t{v.channel}\t{v.provider}\t{v.from_number}\t{' '.join(filter(None, [opts, secrets]))}")
        _echo_webhook(v)


@template_cli.command("add")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--name", required=True)
@click.option("--language", required=True, help="e.g. en_US, es, pt_BR")
@click.option("--category", required=True, help="UTILITY, MARKETING, AUTHENTICATION; Viber: TRANSACTIONAL, PROMOTIONAL")
@click.option("--body", required=True, help="Text with {{1}} or {{name}} placeholders.")
@click.option("--header", "header_text", default="", help="Header text (may hold one placeholder).")
@click.option("--footer", default="")
@click.option("--status", default="APPROVED", show_default=True)
def template_add(workspace: str, channel: str, name: str, language: str, category: str, body: str,
                 header_text: str, footer: str, status: str) -> None:
    """Record a template by hand (SMS snippets, Viber templates approved elsewhere)."""
    try:
        row = ws.add_template(_ctx(), workspace, channel, name, language, body, category, status,
                              header_text=header_text, footer=footer)
    except Refused as refused:
        _fail(refused)
    click.echo(f"Added template {row.name} ({row.language}, {row.category}, {row.status}).")


@template_cli.command("list")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS))
def template_list(workspace: str, channel: str | None) -> None:
    """List templates with their status; only APPROVED ones can be sent."""
    try:
        rows = ws.list_templates(_ctx(), workspace, channel)
    except Refused as refused:
        _fail(refused)
    if not rows:
        click.echo("No templates.")
    for t in rows:
        click.echo(f"{t.channel}\t{t.name}\t{t.language}\t{t.category}\t{t.status}")


@template_cli.command("sync")
@click.argument("workspace")
def template_sync(workspace: str) -> None:
    """Fetch the workspace's WhatsApp templates from Meta; only APPROVED ones can be sent."""
    from .services.template_sync import SyncProgress, sync_templates

    def show(step: SyncProgress) -> None:
        click.echo(f"  account {step.waba_id}: page {step.page} fetched, {step.fetched} template(s) so far")

    click.echo(f"Syncing WhatsApp templates for {workspace}…")
    try:
        report = sync_templates(_ctx(), workspace, progress=show)
    except Refused as refused:
        _fail(refused)
    click.echo(f"Synced {report.fetched} template(s): {len(report.created)} new, {len(report.updated)} updated, "
               f"{report.usable} approved.")
    for line in report.unusable:
        click.echo(f"  not usable: {line}")
    for line in report.vanished:
        click.echo(f"  no longer at Meta (marked VANISHED): {line}")


@click.command("send")
@with_appcontext
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--text", help="Free text.")
@click.option("--template", help="An approved template's name.")
@click.option("--language", help="The template's language, e.g. en_US.")
@click.option("--param", "params", multiple=True, help="A placeholder value, in order (or NAME=VALUE).")
@click.option("--purpose", type=click.Choice(sorted(PURPOSES)), help="Why this message is sent.")
@click.option("--origin", type=click.Choice(ORIGINS), default="agent", show_default=True)
@click.option("--sender", help="The number or sender id to send from, when the workspace has several.")
@click.option("--idempotency-key", help="Sending again with the same key never sends twice.")
@click.option("--confirm", "confirmed", is_flag=True, help="Confirm a send the policy wants confirmed.")
@click.option("--dry-run", is_flag=True, help="Decide and print, send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision and result as JSON.")
def send_command(workspace: str, channel: str, to: str, text: str | None, template: str | None,
                 language: str | None, params: tuple[str, ...], purpose: str | None, origin: str,
                 sender: str | None, idempotency_key: str | None, confirmed: bool, dry_run: bool,
                 as_json: bool) -> None:
    """Send one message (or, with --dry-run, say whether it could be sent)."""
    from .services.send import SendRequest, send

    if bool(text) == bool(template):
        raise click.UsageError("give exactly one of --text or --template")
    request = SendRequest(workspace=workspace, channel=channel, to=to, text=text, template=template,
                          language=language, params=list(params), purpose=purpose, origin=origin,
                          surface="cli", requested_by="cli", sender=sender, idempotency_key=idempotency_key,
                          dry_run=dry_run, confirmed=confirmed)
    try:
        result = send(_ctx(), request)
    except Refused as refused:
        if as_json:
            click.echo(json.dumps({"decision": {"outcome": "refused", "allowed": False,
                                                "reasons": [r.as_dict() for r in refused.reasons]},
                                   "message": None}, indent=2))
            sys.exit(1)
        _fail(refused)
    decision = result.decision
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        _print_human(result, dry_run)
    ok = decision.allowed and (result.message is None or result.message["status"] != "failed")
    sys.exit(0 if ok else 1)


def _print_human(result: Any, dry_run: bool) -> None:
    decision = result.decision
    label = CHANNEL_LABELS[decision.channel]
    words = {"allowed": "Allowed", "confirm": "Needs confirmation", "refused": "Refused"}[decision.outcome]
    click.echo(f"{words}: {label} to {display(decision.recipient)}")
    for reason in decision.reasons:
        click.echo(f"  - {reason.message}")
    if decision.purpose:
        click.echo(f"Purpose: {PURPOSES[decision.purpose].label if decision.purpose in PURPOSES else decision.purpose}")
    if decision.policy:
        _print_verdict(decision)
    if decision.text:
        click.echo("Text:")
        for line in decision.text.splitlines():
            click.echo(f"  {line}")
    if decision.sms:
        click.echo(f"SMS: {decision.sms.describe()}")
    if decision.window and decision.window.closes_at and decision.channel != "sms":
        state = "open until" if decision.window.open else "closed at"
        from .domain.window import format_moment
        click.echo(f"Window: {state} {format_moment(decision.window.closes_at)}")
    if decision.outcome == "confirm":
        for question in decision.policy.questions if decision.policy else ():
            click.echo(f"  ? {question}")
        click.echo("Run again with --confirm to send it.")
    if result.message:
        m = result.message
        again = " (replayed: this key was already used)" if result.replayed else ""
        click.echo(f"Message {m['id']}: {m['status_label']}{again}")
        if m["error_message"]:
            click.echo(f"  {m['error_message']}")
    elif dry_run and decision.allowed:
        click.echo("Dry run: nothing was sent.")


def _print_verdict(decision: Any) -> None:
    """The proactive policy's own verdict, beside the decision it led to."""
    verdict = decision.policy
    marketing = " (marketing)" if verdict.marketing else ""
    confirmed = " — confirmed with --confirm" if verdict.outcome == "confirm" and decision.allowed else ""
    click.echo(f"Policy verdict: {verdict.outcome}{marketing}{confirmed}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed the demo workspace the embedded default uses."""
    from .services.demo import DEMO, ensure_demo

    created = ensure_demo(_ctx())
    click.echo(f"Demo workspace “{DEMO}” {'created' if created else 'already exists'}.")


@sandbox_cli.command("reply")
@click.argument("workspace")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--from", "customer", required=True, help="The customer's number.")
@click.option("--text", required=True)
def sandbox_reply(workspace: str, channel: str, customer: str, text: str) -> None:
    """Play an inbound customer message: it opens the window (or says STOP/START on SMS)."""
    from .services.sandbox import play_reply

    try:
        number = play_reply(_ctx(), workspace, channel, customer, text)
    except Refused as refused:
        _fail(refused)
    click.echo(f"Recorded a {CHANNEL_LABELS[channel]} message from {display(number)}.")


@sandbox_cli.command("deliver")
@click.argument("message_id")
@click.option("--until", type=click.Choice(["sent", "delivered", "read"]), default="read", show_default=True)
def sandbox_deliver(message_id: str, until: str) -> None:
    """Play the delivery receipts of a sandbox message."""
    from .services.sandbox import play_statuses

    try:
        final = play_statuses(_ctx(), message_id, until)
    except Refused as refused:
        _fail(refused)
    click.echo(f"{message_id}: {final}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (the app also does this when it starts)."""
    _ctx().store.migrate()
    click.echo("Database is up to date.")


@keys_cli.command("generate")
def keys_generate() -> None:
    """Print a new ENCRYPTION_KEY (Fernet) for the environment."""
    from .security.sealing import new_key

    click.echo(new_key())


@writeback_cli.command("retry")
@click.option("--failed", "failed", is_flag=True, help="Put write-backs that gave up back in line (all, or --id).")
@click.option("--id", "ids", type=int, multiple=True, help="With --failed: only this write-back (repeatable).")
def writeback_retry(failed: bool, ids: tuple[int, ...]) -> None:
    """Retry write-backs to Intercom and HubSpot that are due now (the workers also do this every 30 s)."""
    from .services.writeback import requeue_failed, run_due

    if failed:
        chosen = requeue_failed(_ctx(), list(ids) or None)
        click.echo(f"Put {len(chosen)} failed write-back(s) back in line" + (f": {', '.join(map(str, chosen))}."
                                                                             if chosen else "."))
        return
    if ids:
        raise click.UsageError("--id goes with --failed")
    click.echo(f"Tried {run_due(_ctx())} write-back(s).")


@writeback_cli.command("list")
@click.option("--failed", "only_failed", is_flag=True, help="Only those that gave up after every attempt.")
@click.option("--status", type=click.Choice(["pending", "failed", "done"]), help="Only this status.")
@click.option("--json", "as_json", is_flag=True)
def writeback_list(only_failed: bool, status: str | None, as_json: bool) -> None:
    """Write-backs to Intercom and HubSpot, newest first, with their last error."""
    from .services.writeback import listing

    rows = listing(_ctx(), "failed" if only_failed else status)
    if as_json:
        click.echo(json.dumps([{**vars(r), "next_attempt_at": r.next_attempt_at.isoformat(),
                                "created_at": r.created_at.isoformat()} for r in rows], indent=2))
        return
    if not rows:
        click.echo("No write-backs" + (f" with status {('failed' if only_failed else status)}." if
                                        (only_failed or status) else "."))
        return
    for r in rows:
        line = f"{r.id:>6}  {r.host:<8} {r.message}  {r.status:<7} attempts {r.attempts}"
        if r.last_error and r.status != "done":
            line += f"  last error: {r.last_error[:160]}"
        click.echo(line)


consent_cli = AppGroup("consent", help="Customers' marketing consent, per channel, with who recorded it and when.")
report_cli = AppGroup("report", help="Reports on what a workspace sent.")


@consent_cli.command("record")
@click.argument("workspace")
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--channel", type=click.Choice(CHANNELS), required=True)
@click.option("--granted/--withdrawn", "granted", default=None, help="Consent given, or withdrawn.")
@click.option("--by", "recorded_by", required=True, help="Who records it (a name or an email address).")
@click.option("--source", default="cli", show_default=True,
              help="Where the consent came from, e.g. web_form, phone, email.")
@click.option("--note", default="", help="Anything worth keeping with it (e.g. the form's reference).")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def consent_record(workspace: str, to: str, channel: str, granted: bool | None, recorded_by: str, source: str,
                   note: str, as_json: bool) -> None:
    """Record a customer's marketing consent on one channel, or its withdrawal (the latest record wins)."""
    from .services.consent import record_consent

    if granted is None:
        raise click.UsageError("say --granted or --withdrawn")
    try:
        record = record_consent(_ctx(), workspace, to, channel, granted, source, recorded_by, note)
    except Refused as refused:
        _fail(refused)
    if as_json:
        click.echo(json.dumps(record.as_dict(), indent=2, ensure_ascii=False))
        return
    what = "consent to marketing" if granted else "withdrawal of marketing consent"
    click.echo(f"Recorded {what} on {CHANNEL_LABELS[channel]} for {display(record.recipient)}: {record.sentence()}")


@consent_cli.command("show")
@click.argument("workspace")
@click.option("--to", "to", required=True, help="The customer's number, ideally +CC…")
@click.option("--json", "as_json", is_flag=True, help="Print the state and history as JSON.")
def consent_show(workspace: str, to: str, as_json: bool) -> None:
    """Show a customer's marketing consent on every channel, and the records behind it."""
    from .services.consent import consent_state

    try:
        state = consent_state(_ctx(), workspace, to)
    except Refused as refused:
        _fail(refused)
    if as_json:
        click.echo(json.dumps(state.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"Marketing consent of {display(state.recipient)}:")
    for channel in state.channels:
        mark = "yes" if state.granted(channel) else "no "
        click.echo(f"  {CHANNEL_LABELS[channel]:<9}{mark}  {state.summary(channel)}")
    if state.history:
        click.echo("History (newest first):")
        for record in state.history:
            note = f" — {record.note}" if record.note else ""
            click.echo(f"  {CHANNEL_LABELS.get(record.channel, record.channel)}: {record.sentence()}{note}")


@report_cli.command("proactive")
@click.argument("workspace")
@click.option("--since", help="First day (YYYY-MM-DD, UTC) or moment (ISO); default 30 days before --until.")
@click.option("--until", help="Last day, included (YYYY-MM-DD, UTC) or moment (ISO, excluded); default now.")
@click.option("--json", "as_json", is_flag=True, help="Print counts and sends as JSON.")
def report_proactive(workspace: str, since: str | None, until: str | None, as_json: bool) -> None:
    """A workspace's sends in a period: counts per purpose and verdict, then each send; then what the rules
    stopped (refused, or waiting for confirmation), counted by reason, then each stopped attempt."""
    from datetime import timedelta

    from .services.reports import parse_moment, proactive_report

    ctx = _ctx()
    try:
        end = parse_moment(until, end_of_day=True, field="until") if until else ctx.now()
        start = parse_moment(since) if since else end - timedelta(days=30)
        report = proactive_report(ctx, workspace, start, end)
    except Refused as refused:
        _fail(refused)
    if as_json:
        # Streamed: the sends of a long period never sit in memory at once.
        header = json.dumps(report.header(), indent=2, ensure_ascii=False)
        click.echo(header[:-2] + ',\n  "sends": [', nl=False)
        for index, item in enumerate(report.sends()):
            click.echo(("," if index else "") + "\n    " + json.dumps(item.as_dict(), ensure_ascii=False), nl=False)
        click.echo('\n  ],\n  "stopped_sends": [', nl=False)
        for index, stopped in enumerate(report.stopped()):
            click.echo(("," if index else "") + "\n    " + json.dumps(stopped.as_dict(), ensure_ascii=False),
                       nl=False)
        click.echo("\n  ]\n}")
        return
    click.echo(f"Sends of {report.workspace} from {report.since:%Y-%m-%d %H:%M} UTC up to (not including) "
               f"{report.until:%Y-%m-%d %H:%M} UTC: {report.total}")
    verdicts = sorted({v for counts in report.counts.values() for v in counts})
    if verdicts:
        click.echo(f"  {'purpose':<22}" + "".join(f"{v:>9}" for v in verdicts) + f"{'total':>9}")
        for purpose, counts in report.counts.items():
            click.echo(f"  {purpose:<22}" + "".join(f"{counts.get(v, 0):>9}" for v in verdicts)
                       + f"{sum(counts.values()):>9}")
    for item in report.sends():
        confirmed = f"  confirmed by {item.confirmed_by}" if item.confirmed_by else ""
        reply = " (reply)" if item.reply else ""
        click.echo(f"{item.time:%Y-%m-%d %H:%M}  {item.channel:<8} {item.recipient:<16} {item.purpose:<20} "
                   f"{item.origin:<6} {item.verdict}{reply}{confirmed}  [{item.status}]")
        for reason in item.reasons:
            click.echo(f"    - {reason}")
    counts = report.stopped_counts
    click.echo(f"Stopped by the rules: {report.stopped_total} (refused {counts.get('refused', 0)}, waiting for an "
               f"agent's confirmation {counts.get('confirm', 0)})")
    if report.stopped_by_reason:
        click.echo(f"  {'reason':<30}{'refused':>9}{'confirm':>9}")
        for code, by_outcome in report.stopped_by_reason.items():
            click.echo(f"  {code:<30}{by_outcome.get('refused', 0):>9}{by_outcome.get('confirm', 0):>9}")
    for stopped in report.stopped():
        who = f" by {stopped.requested_by}" if stopped.requested_by else ""
        click.echo(f"{stopped.time:%Y-%m-%d %H:%M}  {stopped.channel:<8} {stopped.recipient:<16} "
                   f"{stopped.purpose:<20} {stopped.origin:<6} {stopped.outcome} via {stopped.surface}{who}")
        for reason in stopped.reasons:
            click.echo(f"    - {reason}")


def register_cli(app: Flask) -> None:
    for command in (workspace_cli, sender_cli, template_cli, sandbox_cli, db_cli, keys_cli, writeback_cli, apikey_cli,
                    send_command, demo_command, consent_cli, report_cli):
        app.cli.add_command(command)
    from .cli_webhooks import webhook_cli

    app.cli.add_command(webhook_cli)
