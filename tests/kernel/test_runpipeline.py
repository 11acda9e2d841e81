"""`runpipeline` (make run) as a user runs it: it starts its local engines, answers, stops everything it
started, and finds its data again at the next start; commands run beside it see the same data."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pymongo
import pytest
from django.conf import settings

from ecom_project.engines import state
from ecom_project.messaging.producer import Publisher, make_producer
from ecom_project.supervision import free_port
from tests.support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
ORDER = {"items": [{"sku": "SKU-1", "qty": 2}], "total": 19.99, "shippingAddress": {"country": "US"}}


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError:
        return 0, {}


class Run:
    """One `manage.py runpipeline` on a data directory of the test's own, nothing else in its environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.data_dir = tmp_path / "data"
        self.env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BROKERS", "MONGO_URL", "MONGO_DB"}}
        self.env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), DATA_DIR=str(self.data_dir))
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "runpipeline.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Run":
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=self.env, check=True)
        with open(self.log_path, "w") as log:  # a file, not a pipe: the test reads it while the pipeline runs
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runpipeline", "--port", str(self.port)], cwd=settings.BASE_DIR,
                env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )
        wait_until(lambda: http("GET", f"{self.base}/ready")[0] == 200 or self.process.poll() is not None,
                   timeout=180, interval=0.2, message="pipeline ready")
        assert self.process.poll() is None, self.output()[-3000:]
        return self

    def output(self) -> str:
        return self.log_path.read_text()

    def stop(self, signum: int) -> str:
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=90)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        output = self.output()
        assert self.process.returncode == 0, output[-3000:]
        return output

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """A command beside the pipeline, as a user types it: no engine address in its environment."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def status(self, order_id: str) -> str | None:
        return http("GET", f"{self.base}/api/orders/{order_id}")[1].get("status")


LOGIN_LINK = re.compile(r"operator login \(one-time.*?\): (http://\S+)")


def assert_login_link_opens_the_dashboard_once(url: str, port: int) -> None:
    """What a newcomer does after `make run`: open the printed link, land on the dashboard, logged in."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with browser.open(url, timeout=10) as landed:
        assert landed.status == 200 and landed.url == f"http://127.0.0.1:{port}/dashboard/"
        assert b'id="initial-data"' in landed.read()
    with urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar())).open(url, timeout=10) as again:
        assert again.url.startswith(f"http://127.0.0.1:{port}/ops/login/"), "a link works once"


def test_runpipeline_keeps_its_data_across_a_restart_and_commands_beside_it_see_it(tmp_path):
    run = Run(tmp_path).start()
    try:
        engine_pids = [pid for pid in children(run.process.pid)
                       if b"kafka.Kafka" in command_line(pid) or b"ferretdb-local" in command_line(pid)]
        assert len(engine_pids) == 2, "Kafka and FerretDB run as children of the pipeline"
        found = state.running(run.data_dir)
        assert found["owner"] == run.process.pid and found["mongo"] and found["kafka"]
        link = wait_until(lambda: LOGIN_LINK.search(run.output()), timeout=30, message="login link printed")
        assert_login_link_opens_the_dashboard_once(link.group(1), run.port)

        status, created = http("POST", f"{run.base}/api/orders", ORDER)
        assert status == 201, created
        first = created["orderId"]
        wait_until(lambda: run.status(first) == "SHIPPED", timeout=60, message="order shipped")
        # Poison on a topic two consumers read: two dead letters in the pipeline's store, both refused (poison, issue 15).
        Publisher(make_producer(**{"bootstrap.servers": found["kafka"]})).publish(
            [("order.OrderCreated.v1", "poison-key", b"\xff not json")])
        wait_until(lambda: "0 dead letter(s) would be replayed, 2 refused" in run.manage("replay_dead_letters", "--all", "--dry-run").stdout,
                   timeout=60, message="a command beside the pipeline counts its dead letters")
    finally:
        output = run.stop(signal.SIGINT)
    assert "pipeline stopped" in output
    assert all(gone(pid) for pid in engine_pids), "an engine outlived the pipeline"
    assert not state.running(run.data_dir)

    run.start()  # the same data directory, a new process
    try:
        assert run.status(first) == "SHIPPED", "the order survived the restart"
        assert http("GET", f"{run.base}/api/read/orders/{first}")[1].get("status") == "SHIPPED", "and its projection"
        assert "0 dead letter(s) would be replayed, 2 refused" in run.manage("replay_dead_letters", "--all", "--dry-run").stdout, "the dead letters survived the restart"
        status, created = http("POST", f"{run.base}/api/orders", ORDER)
        assert status == 201
        wait_until(lambda: run.status(created["orderId"]) == "SHIPPED", timeout=60, message="the pipeline goes on")
        store = pymongo.MongoClient(state.running(run.data_dir)["mongo"])["ecom"]
        # SHIPPED is the orders app's word; inventory applies the same OrderShipped on its own consumer.
        stock = wait_until(lambda: (found := store["inventory_stock"].find_one({"_id": "SKU-1"}))["shipped"] >= 4 and found,
                           timeout=60, message="inventory saw both shipments")
        assert stock["shipped"] == 4 and stock["available"] == stock["stocked"] - 4, "each order applied once"
    finally:
        run.stop(signal.SIGTERM)
