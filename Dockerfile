# Herald's image: the web process by default; the same image runs the worker, beat and migrations
# (see compose.yaml). Build: docker build -t herald .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# A virtual environment that the runtime stage takes whole: no compiler, no source tree, no pip cache.
RUN python -m venv /opt/herald \
 && /opt/herald/bin/pip install --no-cache-dir '.[postgres]'

FROM python:3.11-slim
ENV PATH=/opt/herald/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000 \
    HERALD_INSTANCE_PATH=/var/lib/herald
RUN groupadd --system --gid 10001 herald \
 && useradd --system --uid 10001 --gid herald --home-dir /var/lib/herald --create-home --shell /usr/sbin/nologin herald
COPY --from=build /opt/herald /opt/herald
WORKDIR /srv/herald
COPY gunicorn.conf.py ./
USER herald
EXPOSE 8000
# urllib rather than curl: the slim image has no curl, and Python is already there. It asks $PORT:
# in a container change PORT, not HERALD_BIND.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:app"]
