"""Websocket hygiene on a real daphne (what WebsocketCommunicator cannot show: daphne hands close
codes to autobahn, which used to refuse 1003/1007/1009 and end the socket with 1011 and an ERROR)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ecom_project.supervision import free_port
from tests.support import wait_until


def listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "KAFKA_BROKERS"}}
    env.update(DJANGO_SETTINGS_MODULE="ecom_project.settings", LOG_LEVEL="INFO")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ecom_project.asgi:application"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: listening(port) or process.poll() is not None, timeout=30, message="daphne listening")
        assert process.poll() is None, log_path.read_text()
        yield port, log_path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def order_id(client):
    """An order the orders app accepted (daphne reads the same store), not projected: its socket stays
    open, waiting for the read model (an id nobody knows would be closed with 4404 at once)."""
    response = client.post("/api/orders", {"items": [{"sku": "SKU-1", "qty": 1}], "total": 5},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["orderId"]


@pytest.mark.parametrize("frame, code", [("garbage{", 1007), (b"\x00\x01", 1003), ("x" * 1_000_000, 1009),
                                         ('{"subscribe": "a b"}', 1003)])
def test_bad_frames_close_with_their_code_and_no_error(daphne, order_id, frame, code):
    port, log_path = daphne
    with connect(f"ws://127.0.0.1:{port}/ws/orders/{order_id}/", origin=f"http://127.0.0.1:{port}", max_size=None,
                 open_timeout=10) as socket:
        socket.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    log = log_path.read_text()
    assert '"level": "ERROR"' not in log and "Traceback" not in log, log[-2000:]


@pytest.mark.parametrize("origin", ["http://evil.example", None])
def test_a_foreign_origin_gets_403_from_daphne(daphne, origin):
    port, _ = daphne
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{port}/ws/orders/abc/", origin=origin, open_timeout=10)
    assert refused.value.response.status_code == 403
