"""Reading a JSON request body the one strict way every surface shares.

Python's parser recurses, so a body nested thousands of levels deep raises RecursionError rather
than a ValueError, and it accepts ``NaN`` and ``Infinity``, which are not JSON. Here both are a
:class:`BadJson` with a sentence for the caller, and so is a body nested deeper than any caller
needs: every value Herald reads sits a few levels down, and code that walks a value (validation,
serialisation) must never meet one that exhausts the stack.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class BadJson(ValueError):
    """The body is not JSON Herald will read; ``message`` says why in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Is ``value`` nested more than ``limit`` objects or arrays deep? Walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def read_json(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body, or :class:`BadJson` for anything that is not plain, reasonably shallow JSON."""
    if not raw or not raw.strip():
        raise BadJson("The body is empty; send a JSON object.")
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise BadJson(f"The JSON body is nested too deeply (at most {max_depth} levels).") from None
    except ValueError:  # includes a body that is not UTF-8
        raise BadJson("The body is not valid JSON.") from None
    if too_deep(value, max_depth):
        raise BadJson(f"The JSON body is nested too deeply (at most {max_depth} levels).")
    return value
