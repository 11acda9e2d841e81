"""Container healthcheck: GET /health on this process's port, exit 0 when it answers 200.

A consumer serves /health on METRICS_PORT; the web process on PORT (8000). The Host header is
the first ALLOWED_HOSTS entry, so Django's host check accepts it whatever the deployment allows.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def health_port() -> int:
    metrics_port = os.environ.get("METRICS_PORT", "").strip()
    if metrics_port and metrics_port != "0":
        return int(metrics_port)
    return int(os.environ.get("PORT", "").strip() or 8000)


def host_header(port: int) -> str:
    allowed = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    name = allowed[0].lstrip(".") if allowed and allowed[0] != "*" else "localhost"
    return f"{name}:{port}"


def main() -> int:
    port = health_port()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"Host": host_header(port)})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: http://127.0.0.1:{port}/health: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
