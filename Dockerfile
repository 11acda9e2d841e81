# One image for every process of the pipeline: web (default CMD), consume_<app>, create_topics, loadgen.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false \
    DEPLOYMENT=production \
    SQLITE_PATH=/app/var/db.sqlite3

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app

# Requirements first so a code change does not reinstall the (pinned) dependencies.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=app:app . .
RUN mkdir -p var && chown app:app var
USER app

EXPOSE 8000 9100
# Web answers /health on 8000; a consumer on METRICS_PORT (deploy/healthcheck.py picks the right one).
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 CMD ["python", "deploy/healthcheck.py"]
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "ecom_project.asgi:application"]
