"""The layer rules of docs/architecture.md, checked over every module's imports (parsed, never run).

A module that imports against them fails here with the rule it breaks. The few modules that break a
rule today are listed in KNOWN, each with why; remove an entry when its module is fixed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
DOC = ROOT / "docs" / "architecture.md"

# layer -> the layers of ours it may import (its own always)
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "store": frozenset({"domain"}),
    "httpclient": frozenset(),
    "providers": frozenset({"domain", "httpclient"}),
    "hosts": frozenset({"domain", "httpclient"}),
    "security": frozenset({"domain"}),
    "services": frozenset({"domain", "store", "providers", "hosts", "security", "httpclient"}),
    "tasks": frozenset({"services", "domain"}),
    "web": frozenset({"services", "security", "domain"}),
    "cli": frozenset({"services", "security", "domain"}),
    "settings": frozenset({"security"}),
    "entry": frozenset({"wiring"}),
    "wiring": frozenset({"domain", "store", "providers", "hosts", "security", "services", "tasks", "web", "cli",
                         "settings", "httpclient"}),
}

HTTP = frozenset({"requests", "urllib3", "httpx"})
SQL = frozenset({"sqlalchemy", "alembic"})
WEB = frozenset({"flask", "werkzeug"})
# layer -> frameworks it must not import
FORBIDDEN: dict[str, frozenset[str]] = {
    "domain": HTTP | SQL | WEB | {"celery", "redis", "kombu"},
    "httpclient": SQL | WEB | {"celery"},
    "providers": SQL | WEB | {"celery"},
    "hosts": SQL | WEB | {"celery"},
    "security": HTTP | SQL | WEB | {"celery"},
    "store": HTTP | WEB | {"celery"},
    "services": WEB | HTTP,
    "tasks": HTTP | SQL,
    "web": HTTP | SQL,
    "cli": HTTP | SQL,
}

# (module, what it imports) -> why it is allowed for now. Each is a rule the code breaks today.
KNOWN: dict[tuple[str, str], str] = {
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if module == "app":
        return "wiring"
    if module in ("app.wsgi", "app.tasks.worker"):
        return "entry"
    if parts[1] == "cli":
        return "cli"
    if parts[1] in ("config", "logs"):
        return "settings"
    return parts[1]


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))
            if "migrations" not in path.relative_to(APP).parts}


def imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, absolute, with relative imports resolved (``from . import x`` gives
    ``pkg.x``); an imported name that is not a module resolves to the module holding it."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def ours(name: str, known: dict[str, Path]) -> str | None:
    """The module of ours ``name`` is (or is inside), or None for a third-party one."""
    while name.startswith("app"):
        if name in known:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def breaches(known: dict[str, Path] | None = None) -> dict[tuple[str, str], str]:
    known = modules() if known is None else known
    found = {}
    for module, path in known.items():
        layer = layer_of(module)
        for name in imports(path, module):
            target = ours(name, known)
            if target is not None:
                other = layer_of(target)
                if other != layer and other not in ALLOWED.get(layer, frozenset()):
                    found[(module, target)] = f"{layer} may not import {other}"
            elif name.split(".")[0] in FORBIDDEN.get(layer, frozenset()):
                found[(module, name.split(".")[0])] = f"{layer} may not import {name.split('.')[0]}"
    return found


def test_every_package_has_a_layer_in_the_rules() -> None:
    layers = {layer_of(module) for module in modules()}
    assert layers <= set(ALLOWED), f"packages with no rule in docs/architecture.md: {sorted(layers - set(ALLOWED))}"


def test_no_module_imports_against_the_layer_rules() -> None:
    found = {key: rule for key, rule in breaches().items() if key not in KNOWN}
    assert not found, "\n".join(f"{module} imports {target}: {rule}" for (module, target), rule in sorted(found.items()))


def test_nothing_imports_web_cli_or_tasks_but_the_wiring() -> None:
    known = modules()
    for module, path in known.items():
        for name in imports(path, module):
            target = ours(name, known)
            if target and layer_of(target) in ("web", "cli", "tasks") and layer_of(target) != layer_of(module):
                assert layer_of(module) == "wiring", f"{module} imports {target}"


def test_the_domain_reads_no_clock() -> None:
    """Time is passed in: no ``datetime.now()``, ``utcnow()``, ``date.today()`` or ``time.time()``."""
    reads = {"now", "utcnow", "today", "time", "monotonic"}
    for module, path in modules().items():
        if layer_of(module) != "domain":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in reads:
                owner = node.func.value
                assert not (isinstance(owner, ast.Name) and owner.id in {"datetime", "date", "time"}), \
                    f"{module} line {node.lineno} reads the clock"


def test_the_document_states_these_rules() -> None:
    text = DOC.read_text()
    for package in ("app/domain/", "app/store/", "app/providers/", "app/hosts/", "app/security/",
                    "app/services/", "app/tasks/", "app/web/", "app/cli/"):
        assert f"`{package}`" in text, package


@pytest.mark.parametrize("source, target, rule", [
    ("from ..store.models import Sender\n", "app.store.models", "domain may not import store"),
    ("import sqlalchemy\n", "sqlalchemy", "domain may not import sqlalchemy"),
    ("from ..web import ctx\n", "app.web", "services may not import web"),
    ("from app.store import Store\n", "app.store", "web may not import store"),
])
def test_a_breach_is_caught(tmp_path, source, target, rule) -> None:
    """The check itself can fail: a module importing against the rules is reported."""
    layer = rule.split()[0]
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert breaches({**modules(), f"app.{layer}.probe": probe})[(f"app.{layer}.probe", target)] == rule
