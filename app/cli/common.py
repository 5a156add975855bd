"""What every command shares: the app's context, refusals printed as words, and KEY=VALUE options."""

from __future__ import annotations

import sys
from typing import Iterable, NoReturn

import click
from flask import current_app

from ..domain.refusals import Refused
from ..services.context import Context


def context() -> Context:
    return current_app.extensions["herald"]


def fail(refused: Refused) -> NoReturn:
    """Print each reason as ``Error: …`` and exit with status 1."""
    for reason in refused.reasons:
        click.echo(f"Error: {reason.message}", err=True)
    sys.exit(1)


def pairs(values: Iterable[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=what)
        out[key.strip()] = val
    return out
