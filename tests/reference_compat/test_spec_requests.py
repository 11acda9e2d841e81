"""The reference spec's documented requests, written here as its README writes them, against this
project's pipeline (consumers and relays on the real broker): its clients work unchanged.

Both of the spec's base URLs (order service :4001, read model :4005) are served by this one host,
so each request is sent to the same in-process server with its scheme, host and port dropped."""
from __future__ import annotations

import json
import shlex
import uuid
from io import StringIO
from string import Template
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from rest_framework.test import APIClient

from ecom_project.messaging.consumers import consumer_spec
from tests.projections.test_views import SseClient
from tests.support import wait_until

pytestmark = pytest.mark.integration

# From the spec's README, verbatim ("Create an order", "Admin operations (JWT)").
SPEC_CURL = {
    "create": r"""curl -X POST http://localhost:4001/orders \
	-H 'Content-Type: application/json' \
	-d '{"items":[{"sku":"SKU-1","qty":2}],"total":20}'""",
    "retry payment": r"""curl -X POST "http://localhost:4005/admin/retry/$ORDER_ID" \
	-H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' \
	-d '{"step":"payment"}'""",
    "refund": r"""curl -X POST "http://localhost:4005/admin/compensate/$ORDER_ID" \
	-H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' \
	-d '{"action":"refundPayment"}'""",
}
# The spec's other documented request shapes: its endpoint list and its load generator's body.
SPEC_RELEASE_BODY = {"action": "releaseInventory"}  # `{ action: 'releaseInventory'|'refundPayment' }`
SPEC_LOADGEN_BODY = {"items": [{"sku": "SKU-2", "qty": 1}], "total": 10}  # plus a fresh `orderId` per order
ORDER_SERVICE, READ_MODEL = "http://localhost:4001", "http://localhost:4005"


def send_curl(api: APIClient, command: str, **variables: str):
    """Run a curl line of the spec (-X, -H, -d only) against the in-process server."""
    words = shlex.split(Template(command.replace("\\\n", " ")).substitute(variables))
    assert words[0] == "curl"
    method, headers, body, url = "GET", {}, "", None
    options = iter(words[1:])
    for word in options:
        if word == "-X":
            method = next(options)
        elif word == "-H":
            name, _, value = next(options).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(options)
        else:
            url = word
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items() if name != "Content-Type"}
    return api.generic(method, urlsplit(url).path, body, content_type=headers.get("Content-Type", ""), **extra)


def get(api: APIClient, url: str, **query):
    return api.get(urlsplit(url).path, query)


def post_json(api: APIClient, url: str, body: dict, token: str | None = None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return api.generic("POST", urlsplit(url).path, json.dumps(body), content_type="application/json", **extra)


def order_reaches(api: APIClient, order_id: str, wanted: str, *, timeout: float = 30) -> None:
    """Waits on the orders app's own status: the one operator requests are checked against (the read
    model, which GET /orders/{id} merges in, is another consumer and may be ahead or behind it)."""
    wait_until(lambda: api.get(f"/api/orders/{order_id}").json()["status"] == wanted, timeout=timeout,
               message=f"order {order_id} {wanted}")


def staff_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def token(db) -> str:
    out = StringIO()
    call_command("issue_token", username="spec-ops", stdout=out)  # the README's way to get a staff JWT
    return out.getvalue().strip().splitlines()[-1]


def test_the_spec_curl_calls_drive_an_order_through_retry_and_compensation(start_worker, token):
    """Payments and shipping are held back so the operator calls meet the states that allow them."""
    api = APIClient()
    call_command("seed_inventory", if_empty=True, stdout=StringIO())
    start_worker([consumer_spec(name) for name in ("orders", "inventory", "projections")])

    created = send_curl(api, SPEC_CURL["create"])
    assert created.status_code == 201 and set(created.json()) == {"orderId"}
    order_id = created.json()["orderId"]
    assert get(api, f"{ORDER_SERVICE}/orders/{order_id}").json()["items"] == [{"sku": "SKU-1", "qty": 2}]
    order_reaches(api, order_id, "INVENTORY_RESERVED")

    # Payments start now, at the end of their topics: they missed the first reservation (the order waits
    # at INVENTORY_RESERVED) and read the one the retry makes (started after the retry, they could miss it).
    start_worker([consumer_spec("payments")])
    retry = send_curl(api, SPEC_CURL["retry payment"], ORDER_ID=order_id, TOKEN=token)
    assert retry.status_code == 202 and set(retry.json()) == {"eventId"}
    order_reaches(api, order_id, "PAYMENT_AUTHORIZED")

    # Shipping is held back: its booking is in flight, so nothing is undone now (docs/operations.md,
    # "Compensations"); the spec's requests are understood and answered with the reason.
    refund = send_curl(api, SPEC_CURL["refund"], ORDER_ID=order_id, TOKEN=token)
    assert refund.status_code == 409 and "shipment is in flight" in refund.json()["error"]["fields"]["reason"]
    assert post_json(api, f"{READ_MODEL}/admin/compensate/{order_id}", SPEC_RELEASE_BODY, token).status_code == 409
    order = wait_until(lambda: (o := get(api, f"{READ_MODEL}/orders/{order_id}").json())
                       and "ops.RetryRequested" in {entry["type"] for entry in o["timeline"]}
                       and o["status"] == "PAYMENT_AUTHORIZED" and o, message="the retry in the timeline")
    assert order["orderId"] == order_id and order["total"] == "20.00"  # the order's fields, merged

    listed = get(staff_client(token), f"{READ_MODEL}/orders", status=order["status"]).json()  # lists are for staff
    assert [p["orderId"] for p in listed] == [order_id]

    async def stream_frames():
        client = SseClient(f"/orders/{order_id}/stream")
        assert (await client.open())["status"] == 200
        first = await client.next_projection()
        await client.disconnect()
        return first

    assert async_to_sync(stream_frames)()["status"] == order["status"]


def test_the_spec_load_generator_body_with_its_own_order_id_is_idempotent(start_worker, token):
    api = APIClient()
    call_command("seed_inventory", if_empty=True, stdout=StringIO())
    start_worker([consumer_spec(name) for name in ("orders", "inventory", "projections")])
    order_id = str(uuid.uuid4())
    body = {"orderId": order_id, **SPEC_LOADGEN_BODY}
    first, again = post_json(api, f"{ORDER_SERVICE}/orders", body), post_json(api, f"{ORDER_SERVICE}/orders", body)
    assert (first.status_code, first.json(), again.status_code, again.json()) == (201, {"orderId": order_id}, 200,
                                                                                   {"orderId": order_id})
    staff = staff_client(token)  # the list is for staff
    listed = wait_until(lambda: get(staff, f"{READ_MODEL}/orders").json(), message="the order in the read model")
    assert [p["orderId"] for p in listed] == [order_id]  # one order, not two


def test_health_and_metrics_answer_as_the_spec_lists_them():
    api = APIClient()
    for base in (ORDER_SERVICE, READ_MODEL):
        assert get(api, f"{base}/health").json()["ok"] is True
        metrics = get(api, f"{base}/metrics")
        assert metrics.status_code == 200 and b"# TYPE" in metrics.content
