"""The Dockerfile and compose.yaml, read as Docker and Compose read them, name only what exists.

No Docker engine runs here, so the files are checked against the project instead: every program
they start is installed by the project, every module path imports and is the right kind of app,
every option they pass is one the program has, the health check asks a real route (and works
against a served Herald), the extras exist, the user is not root, nothing secret is in the files,
and every variable compose sets is one Herald reads — so neither file can rot unnoticed.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import from_env, problems
from tests.conftest import TEST_ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parents[1]
HERALD_SERVICES = ("migrate", "web", "worker", "beat")


# --------------------------------------------------------------------------- reading the Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON-array form of CMD/RUN/HEALTHCHECK CMD arguments, or None for the shell form."""
        return exec_form(self.arguments)


def exec_form(text: str) -> list[str] | None:
    text = text.strip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def read_dockerfile(path: Path = ROOT / "Dockerfile") -> list[Instruction]:
    """Instructions as the builder sees them: comments dropped, ``\\`` continuations joined, stages numbered."""
    instructions: list[Instruction] = []
    pending, stage = "", -1
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comment lines are dropped even inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, arguments.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def options_and_rest(arguments: str) -> tuple[dict[str, str], str]:
    """``--from=build a b`` -> ({"from": "build"}, "a b")."""
    options: dict[str, str] = {}
    rest = arguments
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        name, _, value = option[2:].partition("=")
        options[name] = value
        rest = rest.strip()
    return options, rest


def _pattern(glob: str) -> re.Pattern:
    """A .dockerignore pattern as Docker matches it: ``*`` and ``?`` within one folder, ``**`` across."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out)


def dockerignore_excludes(relative: str) -> bool:
    """Whether .dockerignore keeps ``relative`` from the builder: the last pattern matching the path or
    one of its parent folders decides, ``!`` re-including."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")]
    parts = Path(relative).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


# --------------------------------------------------------------------------- reading compose.yaml


def read_compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


_INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                            r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: Any, given: dict[str, str]) -> str:
    """Compose's variable substitution: ``${X}``, ``${X:-default}``, ``${X:?error}``, ``$$``."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        present = name in given and (given[name] != "" or not (op or "").startswith(":"))
        if present:
            return given[name]
        if op and op.endswith("?"):
            raise LookupError(f"{name}: {arg}")
        return arg if op else ""

    return _INTERPOLATION.sub(one, str(value))


def interpolated_names(text: str) -> dict[str, str]:
    """Every variable the operator may give, with the operator it is used with (``:?``, ``:-``, or "")."""
    found: dict[str, str] = {}
    for match in _INTERPOLATION.finditer(text):
        name = match.group("name") or match.group("bare")
        if name:
            found.setdefault(name, match.group("op") or "")
    return found


def operator_values() -> dict[str, str]:
    """What an operator's .env would hold: a value for every variable compose asks for."""
    values = {name: f"operator-{name.lower()}" for name in interpolated_names((ROOT / "compose.yaml").read_text())}
    values.update(ENCRYPTION_KEY=TEST_ENCRYPTION_KEY, PUBLIC_BASE_URL="https://herald.example.com",
                  SECRET_KEY="s" * 48)
    for name in ("HERALD_HOSTS", "WEB_CONCURRENCY", "HERALD_THREADS"):  # defaults in the file
        values.pop(name, None)
    return values


def service_environment(service: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(value, given) for name, value in environment.items()}


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in final_stage(read_dockerfile()):
        if instruction.keyword == "ENV":
            for item in shlex.split(instruction.arguments):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def image_command() -> list[str]:
    cmd = [i for i in final_stage(read_dockerfile()) if i.keyword == "CMD"]
    assert len(cmd) == 1 and cmd[0].exec_form, "the Dockerfile needs one CMD in exec (JSON) form"
    return cmd[0].exec_form


def service_command(name: str, service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return image_command()
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def env_names_read(path: Path) -> set[str]:
    """Environment variable names a module reads: string constants passed to a getter or used as
    ``os.environ[...]`` keys (``get("DATABASE_URL", …)``, ``_env_int("PORT", 8000)``)."""
    names: set[str] = set()
    is_name = re.compile(r"^[A-Z][A-Z0-9_]+$").match
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and is_name(node.args[0].value):
            names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str) and is_name(node.slice.value) \
                and "environ" in ast.unparse(node.value):
            names.add(node.slice.value)
    return names


# --------------------------------------------------------------------------- the project's side


def console_scripts() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group="console_scripts")}


def declared_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[\[<>=!~ ;]", dependency, maxsplit=1)[0].lower() for dependency in project["dependencies"]}


_PROBE = r'''
import importlib, json, sys
checks, out = json.loads(sys.argv[1]), {}
for kind, target in checks:
    try:
        if kind == "wsgi":
            module, _, attribute = target.partition(":")
            app = getattr(importlib.import_module(module), attribute or "application")
            import flask
            out[target] = {"flask": isinstance(app, flask.Flask),
                           "routes": sorted({(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods})}
        elif kind == "celery":
            import celery
            module = importlib.import_module(target.partition(":")[0])
            found = [getattr(module, a) for a in ("app", "celery") if isinstance(getattr(module, a, None), celery.Celery)]
            out[target] = {"celery": bool(found), "tasks": sorted(found[0].tasks) if found else []}
        elif kind == "flask":
            from flask.cli import FlaskGroup
            from click.testing import CliRunner
            result = CliRunner().invoke(FlaskGroup(), target, catch_exceptions=False)
            out[" ".join(target)] = {"exit": result.exit_code, "output": result.output[-2000:]}
    except BaseException as error:
        out[target if isinstance(target, str) else " ".join(target)] = {"error": repr(error)}
print(json.dumps(out))
'''


def probe(checks: list[tuple[str, Any]], env: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    """Import the module paths (and run the flask commands) in a fresh interpreter with ``env``."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")}
    clean.update(env)
    clean.update(HERALD_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(checks)], cwd=str(ROOT), env=clean,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return read_compose()


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return read_dockerfile()


# --------------------------------------------------------------------------- the Dockerfile


def test_every_stage_is_python_311_slim(dockerfile):
    bases = [i.arguments.split()[0] for i in dockerfile if i.keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)


def test_the_process_runs_as_a_user_the_image_creates_and_not_as_root(dockerfile):
    stage = final_stage(dockerfile)
    users = [i for i in stage if i.keyword == "USER"]
    assert users, "the final stage has no USER: the web process would run as root"
    user = users[-1].arguments.split(":")[0]
    assert user not in ("root", "0")
    created_before = stage[:stage.index(users[-1])]
    assert any(i.keyword == "RUN" and re.search(r"\b(useradd|adduser)\b[^&]*\s%s(\s|$)" % re.escape(user), i.arguments)
               for i in created_before), f"no RUN creates the user {user!r} before USER"
    assert not any(i.keyword == "USER" for i in stage[stage.index(users[-1]) + 1:])


def test_the_app_is_installed_with_extras_the_project_declares(dockerfile):
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    installs = [i for i in dockerfile if i.keyword == "RUN" and "pip install" in i.arguments]
    named = {extra for i in installs for group in re.findall(r"\.\[([A-Za-z0-9_,-]+)\]", i.arguments)
             for extra in group.split(",")}
    assert "postgres" in named and named <= set(extras), (named, sorted(extras))
    assert any("psycopg" in requirement for requirement in extras["postgres"])


def test_what_the_image_copies_exists_and_reaches_the_builder(dockerfile):
    copies = [i for i in dockerfile if i.keyword in ("COPY", "ADD")]
    local = [options_and_rest(i.arguments) for i in copies]
    sources = [s for options, rest in local if "from" not in options for s in (exec_form(rest) or rest.split())[:-1]]
    assert {"pyproject.toml", "README.md", "app", "gunicorn.conf.py"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the project"
        assert not dockerignore_excludes(source), f"COPY {source}: .dockerignore keeps it from the builder"
    assert not dockerignore_excludes("app/store/migrations/env.py")  # package data goes with the package
    # the stages the image copies from are stages of this file
    names = {i.arguments.split()[-1] for i in dockerfile if i.keyword == "FROM" and " AS " in i.arguments.upper()}
    assert {options["from"] for options, _ in local if "from" in options} <= names


@pytest.mark.parametrize("path", ["instance/secret_key", "instance/encryption_key", "instance/herald.db", ".git/config",
                                  ".venv/bin/python", "tests/conftest.py", "app/__pycache__/config.cpython-311.pyc",
                                  "manifests/hubspot/node_modules/x.js"])
def test_local_state_and_secrets_never_reach_the_builder(path):
    assert dockerignore_excludes(path)


def test_the_default_command_is_gunicorn_with_the_projects_config(dockerfile, tmp_path):
    command = image_command()
    assert command[0] == "gunicorn" and command[0] in console_scripts() and "gunicorn" in declared_dependencies()
    config = command[command.index("--config") + 1] if "--config" in command else command[command.index("-c") + 1]
    assert config == "gunicorn.conf.py" and (ROOT / config).is_file()
    stage = final_stage(dockerfile)
    workdir = [i.arguments for i in stage if i.keyword == "WORKDIR"][-1]
    copied = [options_and_rest(i.arguments)[1].split() for i in stage if i.keyword == "COPY"]
    assert any(parts[0] == config and parts[-1] in ("./", ".", f"{workdir}/", f"{workdir}/{config}")
               for parts in copied), f"{config} is not copied into the working directory {workdir}"
    wsgi = command[-1]
    assert re.fullmatch(r"[\w.]+:\w+", wsgi)
    found = probe([("wsgi", wsgi)], {}, tmp_path)[wsgi]
    assert found.get("flask") is True, found


def test_the_healthcheck_uses_python_on_a_real_route_and_works_against_herald(dockerfile, live_server, tmp_path):
    checks = [i for i in final_stage(dockerfile) if i.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, rest = options_and_rest(checks[0].arguments)
    assert {"interval", "timeout", "start-period", "retries"} <= set(options)
    assert rest.startswith("CMD ")
    command = exec_form(rest[4:])
    assert command and command[0] == "python" and "curl" not in rest and "wget" not in rest
    path = re.search(r"127\.0\.0\.1:%s(/[\w/]*)", command[-1]).group(1)
    routes = {tuple(r) for r in probe([("wsgi", "app.wsgi:app")], {}, tmp_path)["app.wsgi:app"]["routes"]}
    assert (path, "GET") in routes, f"the health check asks {path}, which Herald does not serve"
    port = str(live_server.server_port)
    env = {**os.environ, **dockerfile_env(), "PORT": port, "PATH": os.environ["PATH"]}
    python = [sys.executable, *command[1:]]
    assert subprocess.run(python, env=env, capture_output=True, timeout=30).returncode == 0
    with socket.socket() as probe_socket:  # a port nothing listens on: the check fails
        probe_socket.bind(("127.0.0.1", 0))
        closed = str(probe_socket.getsockname()[1])
    assert subprocess.run(python, env={**env, "PORT": closed}, capture_output=True, timeout=30).returncode != 0


def test_the_images_environment_is_read_by_herald(dockerfile):
    read = env_names_read(ROOT / "app" / "config.py") | env_names_read(ROOT / "gunicorn.conf.py")
    ours = {name for name in dockerfile_env() if not name.startswith(("PYTHON", "PIP_")) and name != "PATH"}
    assert ours and ours <= read, ours - read


# --------------------------------------------------------------------------- compose.yaml


def test_compose_runs_the_release_step_before_web_and_worker(compose):
    services = compose["services"]
    assert set(HERALD_SERVICES) | {"postgres", "redis"} <= set(services)
    assert service_command("migrate", services["migrate"]) == ["flask", "--app", "app", "db", "upgrade"]
    assert services["migrate"].get("restart") == "no"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "healthcheck" not in services["web"]  # the image's HEALTHCHECK on /healthz applies
    assert services["beat"]["healthcheck"] == {"disable": True}  # serves nothing to ask
    assert services["migrate"]["healthcheck"] == {"disable": True}  # one-shot


def test_one_beat_only(compose):
    beat = compose["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1 and beat.get("scale", 1) == 1


def test_every_herald_service_runs_the_image_this_project_builds(compose):
    for name in HERALD_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "." and (ROOT / "Dockerfile").is_file(), name


def test_every_command_compose_names_exists_in_the_project(compose, tmp_path):
    from celery.app.control import Inspect
    from celery.bin.celery import celery as celery_cli
    from flask.cli import FlaskGroup
    from gunicorn.config import Config as GunicornConfig

    scripts = console_scripts()
    services = compose["services"]
    checks: list[tuple[str, Any]] = []
    commands = {name: service_command(name, services[name]) for name in HERALD_SERVICES}
    for service in ("worker", "beat"):
        healthcheck = services[service].get("healthcheck", {}).get("test")
        if healthcheck:
            commands[f"{service} healthcheck"] = shlex.split(interpolate(healthcheck[-1], {}))
    for name, command in commands.items():
        program = command[0]
        assert program in scripts and program in declared_dependencies(), f"{name}: {program} is not installed"
        if program == "gunicorn":
            known = {o for setting in GunicornConfig().settings.values() for o in (setting.cli or ())}
            assert {part for part in command if part.startswith("-")} <= known, name
            checks.append(("wsgi", command[-1]))
        elif program == "celery":
            target = command[command.index("-A") + 1]
            subcommand = command[command.index("-A") + 2]
            assert subcommand in celery_cli.commands, f"{name}: celery has no {subcommand} command"
            options = {o for p in celery_cli.commands[subcommand].params for o in p.opts}
            given = {part for part in command[command.index("-A") + 3:] if part.startswith("-")}
            assert given <= options, f"{name}: celery {subcommand} has no {given - options}"
            if subcommand == "inspect":
                assert callable(getattr(Inspect, command[command.index("inspect") + 1], None))
            checks.append(("celery", target))
        elif program == "flask":
            assert command[1:3] == ["--app", "app"]
            assert "--app" in {o for p in FlaskGroup().params for o in p.opts}
            checks.append(("flask", [*command[1:], "--help"]))
    env = service_environment(services["worker"], operator_values())
    found = probe(checks, env, tmp_path)
    for kind, target in checks:
        result = found[target if isinstance(target, str) else " ".join(target)]
        assert "error" not in result, (target, result)
        if kind == "wsgi":
            assert result["flask"] is True
        elif kind == "celery":
            assert result["celery"] is True and any(t.startswith("herald.") for t in result["tasks"]), result
        else:
            assert result["exit"] == 0 and "Usage:" in result["output"], result


def test_every_variable_compose_sets_for_herald_is_one_herald_reads(compose):
    read = env_names_read(ROOT / "app" / "config.py") | env_names_read(ROOT / "gunicorn.conf.py")
    for name in HERALD_SERVICES:
        environment = compose["services"][name].get("environment") or {}
        unknown = set(environment) - read
        assert not unknown, f"{name} sets {sorted(unknown)}, which neither app/config.py nor gunicorn.conf.py reads"


def test_the_configuration_compose_gives_is_complete_for_production(compose):
    services = compose["services"]
    environments = [service_environment(services[name], operator_values()) for name in HERALD_SERVICES]
    for environment in environments:
        settings = from_env(environment)
        assert not settings.embedded and settings.tasks == "celery" and settings.log_format == "json"
        assert problems(settings) == [], problems(settings)
        assert settings.database_url.startswith("postgresql+psycopg://herald:")
        assert settings.broker_url.startswith("redis://redis:")
    shared = {k: v for k, v in environments[0].items() if k not in ("PORT", "WEB_CONCURRENCY", "HERALD_THREADS")}
    for environment in environments[1:]:  # every process of one deployment gets the same keys
        assert {k: environment.get(k) for k in shared} == shared


def test_no_secret_is_written_in_compose(compose):
    text = (ROOT / "compose.yaml").read_text()
    operators = interpolated_names(text)
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "POSTGRES_PASSWORD", "PUBLIC_BASE_URL"):
        assert operators.get(name) == ":?", f"{name} must come from the operator (${{{name}:?…}})"
    secret = re.compile(r"(SECRET|PASSWORD|KEY|TOKEN)")
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if secret.search(name):
                assert str(value).startswith("${") and str(value).endswith("}"), f"{name} is written in the file"
    database = compose["services"]["web"]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in database
    with pytest.raises(LookupError, match="SECRET_KEY"):  # without the operator's value there is no start
        service_environment(compose["services"]["web"], {k: v for k, v in operator_values().items()
                                                         if k != "SECRET_KEY"})


def test_web_gets_time_to_finish_a_send_before_it_is_killed(compose, monkeypatch, tmp_path):
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"), run_name="gunicorn_conf")
    grace = compose["services"]["web"]["stop_grace_period"]
    seconds = int(re.fullmatch(r"(\d+)s", grace).group(1))
    assert seconds > conf["graceful_timeout"]
    environment = compose["services"]["web"]["environment"]
    port = interpolate(environment["PORT"], {})
    assert compose["services"]["web"]["ports"] == [f"{port}:{port}"]
    assert f"EXPOSE {port}" in (ROOT / "Dockerfile").read_text()


def test_the_operations_guide_names_the_commands_the_files_run(compose):
    """docs/operations.md's table of processes says what compose and the image actually run."""
    table = dict(re.findall(r"^\| (\w+) \| `([^`]+)` \|", (ROOT / "docs" / "operations.md").read_text(), re.M))
    assert set(table) == {"web", "worker", "beat", "release"}
    runs = {name: service_command(name, compose["services"][name]) for name in ("web", "worker", "beat")}
    runs["release"] = service_command("migrate", compose["services"]["migrate"])
    for name, documented in table.items():
        words = shlex.split(documented)
        assert runs[name][:len(words)] == words, \
            f"docs/operations.md says {name} runs {documented!r}; compose runs {' '.join(runs[name])!r}"
