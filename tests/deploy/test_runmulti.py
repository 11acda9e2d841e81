"""`runmulti` (make run-multi): end to end on its own local engines, and the one-line refusal to share them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from ecom_project.engines import state
from ecom_project.supervision import free_port
from tests.deploy.conftest import BASE_DIR
from tests.support import wait_until


def test_refuses_the_engines_of_another_running_pipeline_in_one_line(tmp_path):
    """Two runs never share one data directory's engines (Kafka would fail on its log's lock)."""
    state.write(tmp_path, {"owner": os.getppid(), "kafka": "127.0.0.1:1", "mongo": "mongodb://127.0.0.1:2/"})
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BROKERS", "MONGO_URL"}}
    env.update(DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "runmulti"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "already run" in result.stderr, result.stderr
    assert "KAFKA_BROKERS=127.0.0.1:1" in result.stderr


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


@pytest.mark.integration
@pytest.mark.timeout(400)
def test_multi_process_pipeline_ships_an_order_and_stops_cleanly(tmp_path):
    """`make run-multi` with no environment set: it starts its local engines, web and five consumer processes."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BROKERS", "MONGO_URL", "MONGO_DB", "REDIS_URL"}}
    env.update(PORT=str(port), SQLITE_PATH=str(tmp_path / "db.sqlite3"), DATA_DIR=str(tmp_path / "data"))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    supervisor = subprocess.Popen([sys.executable, "manage.py", "runmulti", "--metrics-base-port", str(free_port())],
                                  cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_json("GET", f"{base}/health")[0] == 200 or supervisor.poll() is not None, timeout=180)
        status, created = http_json("POST", f"{base}/api/orders", {"items": [{"sku": "SKU-1", "qty": 1}], "total": 10.00})
        assert status == 201, created
        order_url = f"{base}/api/orders/{created['orderId']}"
        wait_until(lambda: http_json("GET", order_url)[1].get("status") == "SHIPPED", timeout=90, message="order shipped")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        output = supervisor.communicate(timeout=60)[0]
    assert supervisor.returncode == 0, output[-3000:]
    assert output.rstrip().endswith("all processes stopped")
    assert not state.running(tmp_path / "data"), "the engines are stopped with the pipeline"
