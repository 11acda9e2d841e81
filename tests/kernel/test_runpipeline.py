"""`runpipeline` as a user runs it: starts, answers, and stops everything it started on SIGTERM."""
from __future__ import annotations

import os
import signal
import re
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.conf import settings

from ecom_project.messaging.broker import free_port
from tests.support import wait_until

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as handle:
        return [int(p) for p in handle.read().split()]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


LOGIN_LINK = re.compile(r"operator login \(one-time.*?\): (http://\S+)")


def assert_login_link_opens_the_dashboard_once(url: str, port: int) -> None:
    """What a newcomer does after `make run`: open the printed link, land on the dashboard, logged in."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with browser.open(url, timeout=10) as landed:
        assert landed.status == 200 and landed.url == f"http://127.0.0.1:{port}/dashboard/"
        assert b'id="initial-data"' in landed.read()
    with urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar())).open(url, timeout=10) as again:
        assert again.url.startswith(f"http://127.0.0.1:{port}/ops/login/"), "a link works once"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_runpipeline_serves_and_stops_everything_it_started(tmp_path, signum):
    port = free_port()
    env = {**os.environ, "KAFKA_BROKERS": "", "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
    log_path = tmp_path / "runpipeline.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runpipeline", "--port", str(port)], cwd=settings.BASE_DIR, env=env,
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/ready"), timeout=90, interval=0.2, message="pipeline ready")
        link = wait_until(lambda: LOGIN_LINK.search(log_path.read_text()), timeout=30, message="login link printed")
        assert_login_link_opens_the_dashboard_once(link.group(1), port)
        broker_pids = children(process.pid)
        assert broker_pids, "the embedded broker runs as a child process"
        process.send_signal(signum)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = log_path.read_text()
    assert process.returncode == 0, output[-2000:]
    assert "pipeline stopped" in output
    for pid in broker_pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z", "orphan left"
