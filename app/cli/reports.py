"""Reports on what a workspace sent and what the rules stopped."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..domain.refusals import Refused
from .common import context, fail

report_cli = AppGroup("report", help="Reports on what a workspace sent.")


@report_cli.command("proactive")
@click.argument("workspace")
@click.option("--since", help="First day (YYYY-MM-DD, UTC) or moment (ISO); default 30 days before --until.")
@click.option("--until", help="Last day, included (YYYY-MM-DD, UTC) or moment (ISO, excluded); default now.")
@click.option("--json", "as_json", is_flag=True, help="Print counts and sends as JSON.")
def report_proactive(workspace: str, since: str | None, until: str | None, as_json: bool) -> None:
    """A workspace's sends in a period: counts per purpose and verdict, then each send; then what the rules
    stopped (refused, or waiting for confirmation), counted by reason, then each stopped attempt."""
    from datetime import timedelta

    from ..services.reports import parse_moment, proactive_report

    ctx = context()
    try:
        end = parse_moment(until, end_of_day=True, field="until") if until else ctx.now()
        start = parse_moment(since) if since else end - timedelta(days=30)
        report = proactive_report(ctx, workspace, start, end)
    except Refused as refused:
        fail(refused)
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
