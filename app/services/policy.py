"""Where the proactive-message policy meets the store: gather what it judges, return the judge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..domain.decision import Policy, no_policy
from ..store.models import Sender, Workspace


def policy_for(session: Session, workspace: Workspace, sender: Sender, recipient: str, now: datetime) -> Policy:
    """The policy that judges a send from ``sender`` to ``recipient`` at ``now``."""
    return no_policy
