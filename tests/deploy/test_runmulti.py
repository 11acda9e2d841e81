"""`runmulti` (make run-multi): refuses the per-process store; end to end on a real MongoDB."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from ecom_project.messaging.broker import free_port
from ecom_project.mongo import is_shared_store
from tests.deploy.conftest import BASE_DIR
from tests.support import wait_until

needs_mongodb = pytest.mark.skipif(
    not is_shared_store(), reason="needs a real MongoDB: set MONGO_URL=mongodb://... (the in-process store is per process)"
)


def test_refuses_the_in_process_store_in_one_line():
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"}
    result = subprocess.run([sys.executable, "manage.py", "runmulti"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "MONGO_URL=mongodb://" in result.stderr


def http_json(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError:
        return 0, {}


@needs_mongodb
@pytest.mark.integration
def test_multi_process_pipeline_ships_an_order_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BROKERS"}}
    env.update(MONGO_DB=settings.MONGO_DB, PORT=str(port), SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    supervisor = subprocess.Popen([sys.executable, "manage.py", "runmulti", "--metrics-base-port", str(free_port())],
                                  cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_json("GET", f"{base}/health")[0] == 200 or supervisor.poll() is not None, timeout=60)
        status, created = http_json("POST", f"{base}/api/orders", {"items": [{"sku": "SKU-1", "qty": 1}], "total": "10.00"})
        assert status == 201, created
        order_url = f"{base}/api/orders/{created['orderId']}"
        wait_until(lambda: http_json("GET", order_url)[1].get("status") == "SHIPPED", timeout=90, message="order shipped")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        output = supervisor.communicate(timeout=60)[0]
    assert supervisor.returncode == 0, output[-3000:]
    assert output.rstrip().endswith("all processes stopped")
