"""The providers' documented bodies (tests/data/providers/), loaded fresh for every use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "providers"


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")
