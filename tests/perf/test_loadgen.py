"""`loadgen` end to end against a real all-in-one pipeline (a few seconds, bounded); bad flags.

Figures are printed, never asserted: the machine is shared and timing is not what is tested."""
import contextlib
import json

import pytest
from django.core.management import call_command

from loadlab.perf.pipeline_process import PipelineProcess
from tests.support import manage

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():
    with PipelineProcess() as process:
        yield process


def test_smoke_run_follows_orders_to_their_end_over_the_websocket(pipeline, tmp_path, capsys):
    call_command(
        "loadgen", "--rate", "10", "--duration", "3", "--base-url", pipeline.base_url, "--out", str(tmp_path),
        "--mix", "happy=0.5,decline=0.2,shipfail=0.15,unknown=0.15", "--drain-timeout", "60", "--no-progress",
    )
    printed = capsys.readouterr().out
    assert "POST->terminal latency p50" in printed
    result = json.loads(next(tmp_path.glob("loadgen-*.json")).read_text())
    assert result["sent"] > 0 and result["accepted"] == result["sent"], result["errors"]
    assert result["terminal"] > 0 and result["feedMessages"] > 0
    assert set(result["outcomes"]) <= {"SHIPPED", "REJECTED", "CANCELLED"}
    assert result["unexpectedOutcomes"] == {}, "an order kind ended in a status its path does not lead to"
    assert result["latency"]["count"] == result["terminal"]
    page = next(tmp_path.glob("loadgen-*.html")).read_text()
    assert "<svg" in page


@pytest.mark.parametrize("argv, reason", [
    (["--rate", "0"], "--rate must be in"),
    (["--rate", "many"], "--rate must be a number"),
    (["--mix", "happy=1,fast=2"], "--mix part"),
    (["--base-url", "ftp://127.0.0.1:1"], "--base-url must look like"),
    (["--rate", "1", "--duration", "1", "--base-url", "http://127.0.0.1:9", "--no-progress"], "is not reachable"),
    (["--concurrency", "x"], "--concurrency must be a number"),
    (["--nonsense"], "unrecognized arguments"),
])
def test_bad_input_is_one_readable_line_and_a_non_zero_exit(argv, reason):
    done = manage("loadgen", *argv)
    assert done.returncode != 0
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_after_the_drain_orders_the_feed_missed_are_looked_up_once_in_the_store():
    """A stand-in order service answers POSTs but its feed shows nothing: the run must find in
    the read model which orders finished, and report the rest unfinished."""
    import asyncio

    from aiohttp import web

    from loadlab.perf.load_report import summarize
    from loadlab.perf.load_run import LoadPlan, LoadRun

    lookups: list[str] = []

    async def health(request):
        return web.Response(text="ok")

    orders = web.AppKey("orders", list)

    async def create(request):
        created = len(request.app[orders])
        order_id = f"ord-{created}"
        request.app[orders].append(order_id)
        return web.json_response({"orderId": order_id}, status=201)

    async def read(request):
        order_id = request.match_info["order_id"]
        lookups.append(order_id)
        return web.json_response({"orderId": order_id, "status": "SHIPPED" if order_id.endswith(("0", "2")) else "PENDING"})

    async def feed(request):
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for _ in socket:  # silent: pushes nothing
            pass
        return socket

    async def scenario() -> dict:
        app = web.Application()
        app[orders] = []
        app.router.add_get("/health", health)
        app.router.add_post("/api/orders", create)
        app.router.add_get("/api/read/orders/{order_id}", read)
        app.router.add_get("/ws/orders/", feed)
        async with serving(app) as base_url:
            plan = LoadPlan(rate=20, duration=0.5, base_url=base_url, drain_timeout=0.5)
            return summarize(await LoadRun(plan).run())

    result = asyncio.run(scenario())
    assert result["accepted"] == 10 and result["terminal"] == 0
    assert sorted(lookups) == [f"ord-{i}" for i in range(10)], "each missed order looked up once"
    assert (result["finishedUnseen"], result["unfinished"], result["unfinishedUnchecked"]) == (2, 8, 0)


def test_requests_the_service_sheds_are_counted_apart_and_not_offered_again():
    """A stand-in service that sheds every other order with 503 + Retry-After (a plain 503 is an error)."""
    import asyncio

    from aiohttp import web

    from loadlab.perf.load_report import report_lines, summarize
    from loadlab.perf.load_run import LoadPlan, LoadRun

    async def health(request):
        return web.Response(text="ok")

    posts = web.AppKey("posts", int)

    async def create(request):
        request.app[posts] += 1
        n = request.app[posts]
        if n % 2 == 0:
            return web.json_response({"error": {"code": "overloaded", "message": "behind", "fields": {}}}, status=503,
                                     headers={"Retry-After": "1"})
        if n == 3:
            return web.json_response({"error": {"code": "server_error"}}, status=503)
        return web.json_response({"orderId": f"ord-{n}"}, status=201)

    async def scenario() -> dict:
        app = web.Application()
        app[posts] = 0
        app.router.add_get("/health", health)
        app.router.add_post("/api/orders", create)
        async with serving(app) as base_url:
            plan = LoadPlan(rate=20, duration=0.5, base_url=base_url, follow=False, concurrency=1)
            result = summarize(await LoadRun(plan).run())
            assert result["sent"] == app[posts] >= 4, "a shed order is not offered again"
            return result

    result = asyncio.run(scenario())
    shed = result["sent"] // 2
    assert (result["shed"], result["errors"], result["accepted"]) == (shed, {"HTTP 503": 1}, result["sent"] - shed - 1)
    assert f"shed {shed} (503 + Retry-After)" in "\n".join(report_lines(result))


def test_a_client_that_honours_retry_after_sends_nothing_until_it_has_passed():
    """A stand-in service that sheds the first order with Retry-After: 1; the generator offers 20/s for 2 s."""
    import asyncio
    import time

    from aiohttp import web

    from loadlab.perf.load_report import summarize
    from loadlab.perf.load_run import LoadPlan, LoadRun

    async def health(request):
        return web.Response(text="ok")

    arrivals = web.AppKey("arrivals", list)

    async def create(request):
        request.app[arrivals].append(time.monotonic())
        if len(request.app[arrivals]) == 1:
            return web.json_response({"error": {"code": "overloaded", "message": "behind", "fields": {}}}, status=503,
                                     headers={"Retry-After": "1"})
        return web.json_response({"orderId": f"ord-{len(request.app[arrivals])}"}, status=201)

    async def scenario(honour: bool) -> tuple[dict, list[float]]:
        app = web.Application()
        app[arrivals] = []
        app.router.add_get("/health", health)
        app.router.add_post("/api/orders", create)
        async with serving(app) as base_url:
            plan = LoadPlan(rate=20, duration=2, base_url=base_url, follow=False, concurrency=1,
                            honour_retry_after=honour)
            return summarize(await LoadRun(plan).run()), app[arrivals]

    result, times = asyncio.run(scenario(True))
    assert result["shed"] == 1 and result["errors"] == {}
    assert times[1] - times[0] >= 0.95, "nothing sent while Retry-After runs"
    assert 10 <= len(times) <= 22, "after the wait it carries on at the plan's rate, no catch-up burst"
    result, times = asyncio.run(scenario(False))
    assert result["shed"] == 1 and times[1] - times[0] < 0.5 and len(times) >= 25, "by default the rate is kept"


@contextlib.asynccontextmanager
async def serving(app):
    """A stand-in order service on a free local port; yields its base URL."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()
