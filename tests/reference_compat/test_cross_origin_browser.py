"""A page of another origin (the reference dashboard's situation: its own dev server) reads the
spec's routes of a real all-in-one pipeline in Chromium: it places an order, reads the list and
follows the order's SSE stream. A page of an origin not in CORS_ALLOWED_ORIGINS cannot read."""
from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecom_project.supervision import free_port
from tests.support import CHROMIUM, CHROMIUM_ARGS, manage, requires_chromium, running_pipeline, wait_until

pytestmark = [requires_chromium, pytest.mark.browser]

# A stand-in for the reference dashboard: the spec's routes only, as a browser client calls them.
PAGE = """<!doctype html><meta charset="utf-8"><title>reference client</title>
<script>
async function placeOrder(api, body) {
  const response = await fetch(api + "/orders", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return {status: response.status, body: await response.json()};
}
async function listOrders(api, token) {
  const response = await fetch(api + "/orders", {headers: {Authorization: "Bearer " + token}});
  return {status: response.status, body: await response.json()};
}
function followOrder(api, orderId) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const source = new EventSource(api + "/orders/" + orderId + "/stream");
    const timer = setTimeout(() => { source.close(); reject(new Error("no final status in 30 s: " + seen)); }, 30000);
    source.addEventListener("projection", (message) => {
      const projection = JSON.parse(message.data);
      seen.push(projection.status);
      if (projection.terminal) { clearTimeout(timer); source.close(); resolve(seen); }
    });
    source.onerror = () => { clearTimeout(timer); source.close(); reject(new Error("stream failed after " + seen)); };
  });
}
</script>
"""


@contextmanager
def static_site(directory: Path) -> Iterator[str]:
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two static origins serving the client page: one allowed by the pipeline, one not."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE)
    with static_site(root) as allowed, static_site(root) as stranger:
        yield {"allowed": allowed, "stranger": stranger}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, site):
    """The pipeline allowing the first origin only, and a staff token for the list (the way a
    cross-origin client authenticates where the list needs staff: a bearer JWT, never a cookie)."""
    workdir = tmp_path_factory.mktemp("pipeline")
    env = {"SQLITE_PATH": str(workdir / "db.sqlite3"), "DATA_DIR": str(workdir / "data"),
           "CORS_ALLOWED_ORIGINS": site["allowed"]}
    assert manage("migrate", "--noinput", env=env).returncode == 0
    issued = manage("issue_token", "--username", "dashboard", env=env)
    assert issued.returncode == 0, issued.stderr
    with running_pipeline(workdir, env) as url:
        yield {"url": url, "token": issued.stdout.strip().splitlines()[-1]}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_a_page_of_an_allowed_origin_places_lists_and_follows_an_order(pipeline, site, page):
    api, token = pipeline["url"], pipeline["token"]
    page.goto(f"{site['allowed']}/index.html")
    order_id = str(uuid.uuid4())
    body = {"orderId": order_id, "items": [{"sku": "SKU-1", "qty": 2}], "total": 20}
    placed = page.evaluate("([api, body]) => placeOrder(api, body)", [api, body])  # a JSON POST: preflighted
    assert placed == {"status": 201, "body": {"orderId": order_id}}

    def listed():
        answer = page.evaluate("([api, token]) => listOrders(api, token)", [api, token])
        assert answer["status"] == 200 and isinstance(answer["body"], list), answer
        return order_id in {projection["orderId"] for projection in answer["body"]}

    wait_until(listed, timeout=30, interval=0.2, message="the order in the list read from the other origin")
    statuses = page.evaluate("([api, id]) => followOrder(api, id)", [api, order_id])
    assert statuses and statuses[-1] == "SHIPPED"


def test_a_page_of_another_origin_cannot_read(pipeline, site, page):
    page.goto(f"{site['stranger']}/index.html")
    failure = page.evaluate("""([api, token]) => listOrders(api, token).then(
        () => "read", (error) => error.name)""", [pipeline["url"], pipeline["token"]])
    assert failure == "TypeError"  # the browser withholds the answer: no Access-Control-Allow-Origin for it
