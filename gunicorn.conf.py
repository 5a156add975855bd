"""gunicorn settings for Herald's web process: ``gunicorn -c gunicorn.conf.py app.wsgi:app``.

Herald's requests spend their time waiting on the provider and the hosts (Intercom, HubSpot), not
on the CPU, so each worker is a process with a pool of threads (``gthread``): a thread waiting on
Twilio costs a few kilobytes, a process tens of megabytes. Every setting can be changed from the
environment (below) or, as always with gunicorn, on the command line, which wins over this file.

| variable | meaning | default |
|---|---|---|
| ``PORT`` | the TCP port to listen on, on every interface | 8000 |
| ``HERALD_BIND`` | the full address instead (``127.0.0.1:8000``, ``unix:/run/herald.sock``; commas for several) | ``0.0.0.0:$PORT`` |
| ``WEB_CONCURRENCY`` | worker processes | 2 |
| ``HERALD_THREADS`` | threads per worker: requests one process serves at once | 8 |
| ``HERALD_KEEPALIVE`` | seconds an idle client connection stays open | 75 |
| ``HERALD_LOG_FORMAT`` | ``json`` (one event per line) or ``text``, as for the app's own log | json |
| ``PROMETHEUS_MULTIPROC_DIR`` | where the workers keep their metrics for ``/metrics`` | a fresh temporary directory |

Workers import the app after the fork (no ``preload_app``): the database pool, the provider
sessions and the metrics files then belong to one process each and are never shared by accident.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone

from gunicorn.glogging import Logger

# ---------------------------------------------------------------------------------------- metrics
# prometheus_client picks its multiprocess mode when it is first imported, so the directory must be
# in the environment before any worker imports the app; the master sets it here, and the workers
# inherit it. A directory given by the operator is emptied of a previous run's files at start-up,
# as prometheus_client requires; one made here is removed when gunicorn exits.
_METRICS_FILE = re.compile(r"^(counter|histogram|summary|gauge_[a-z]+)_\d+\.db$")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="herald-metrics-")
    os.environ["HERALD_METRICS_DIR_CREATED"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise SystemExit(f"gunicorn.conf.py: {name} must be at least {minimum}, not {number}.")
    return number


# ---------------------------------------------------------------------------------------- server
bind = [address.strip() for address in os.environ.get("HERALD_BIND", "").split(",") if address.strip()] \
    or [f"0.0.0.0:{_env_int('PORT', 8000)}"]
worker_class = "gthread"
workers = _env_int("WEB_CONCURRENCY", 2)
threads = _env_int("HERALD_THREADS", 8)
# The longest request makes a host call and a provider call: HubSpot's (3.05 s connect + 8 s read),
# a token refresh at worst, then the provider's (3.05 s + 10 s) — about 35 s. A worker is only
# declared stuck well after that, and a stopping worker may finish such a send rather than cut it
# off (a send cut off mid-call is left "unknown" until its delivery report arrives).
timeout = 60
graceful_timeout = 40
# Longer than the idle timeout of the load balancers in front (60 s on AWS ALB, Google's 600 s is
# the exception): the balancer, not Herald, should close an idle connection, or a request sent on
# it as Herald closes it is answered 502. Idle connections wait in the worker's poller, not in a
# thread.
keepalive = _env_int("HERALD_KEEPALIVE", 75)
# The heartbeat file on tmpfs: on a container's overlay filesystem a slow disk can stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
preload_app = False
proc_name = "herald-web"
# gunicorn's control socket (gunicornc, since 25.1) lives at one path per user: two servers on one
# machine would take it from each other. Herald is run by signals and by its orchestrator instead.
control_socket_disable = True
accesslog = "-"
errorlog = "-"


# ---------------------------------------------------------------------------------------- logging
class HeraldLogger(Logger):
    """gunicorn's logger with Herald's log shape: the request line as JSON, secrets redacted.

    An access line carries the fields of :class:`app.logs.JsonFormatter` (``time``, ``level``,
    ``logger``, ``message``, ``request_id``) and the request's method, path, status, size, duration
    and client. The request id is the one Herald echoed in ``X-Request-Id``, so this line matches
    the app's own lines for the same request. Query values that are secrets (``hub.verify_token``,
    OAuth ``code`` and ``state``, compose tokens) pass through
    :func:`app.security.redaction.redact_query` before anything is written.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self._json = os.environ.get("HERALD_LOG_FORMAT", "json").strip().lower() != "text"
        if self._json:
            from app.logs import JsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(self._access_line(resp, environ, request_time))
        except Exception:  # a log line must never fail a request
            self.exception("could not write the access log line")

    def _access_line(self, resp, environ, request_time) -> str:
        from app.security.redaction import redact_query

        status = str(resp.status).split(None, 1)[0] if resp.status else "-"
        method = environ.get("REQUEST_METHOD", "-")
        target = redact_query(environ.get("RAW_URI") or environ.get("PATH_INFO") or "-")
        protocol = environ.get("SERVER_PROTOCOL", "-")
        request_id = next((value for name, value in (resp.headers or ()) if name.lower() == "x-request-id"), None)
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        sent = getattr(resp, "sent", None)
        if not self._json:
            return f'{environ.get("REMOTE_ADDR", "-")} "{method} {target} {protocol}" {status} {sent or "-"} ' \
                   f'{duration_ms}ms' + (f" [request {request_id}]" if request_id else "")
        event = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "level": "info",
            "logger": "gunicorn.access",
            "message": f"{method} {target} {protocol} {status}",
        }
        if request_id:
            event["request_id"] = request_id
        event.update({
            "method": method, "path": target, "status": int(status) if status.isdigit() else status,
            "bytes": sent, "duration_ms": duration_ms, "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": redact_query(environ.get("HTTP_USER_AGENT", "")) or None,
            "referrer": redact_query(environ.get("HTTP_REFERER", "")) or None,
        })
        return json.dumps(event, ensure_ascii=False)


logger_class = HeraldLogger


# ---------------------------------------------------------------------------------------- hooks
def on_starting(server) -> None:
    """Empty a reused metrics directory of the previous run's files (and only of those)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if _METRICS_FILE.match(name):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker) -> None:
    """A worker is gone: its live gauges no longer count in ``/metrics``."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the metrics directory this file made (never one the operator gave)."""
    created = os.environ.get("HERALD_METRICS_DIR_CREATED")
    if created and created == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(created, ignore_errors=True)

