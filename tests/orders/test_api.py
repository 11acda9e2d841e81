"""POST /api/orders and GET /api/orders/{id} through DRF's test client."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from orders import repository
from tests.orders.conftest import GOOD_BODY, stored_orders


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


def test_valid_order_is_created_pending_with_its_event_in_the_outbox(post_order):
    body = {
        "items": [{"sku": "SKU-1", "qty": 2}, {"sku": "a.b_c-9", "qty": 1}], "total": 1234.5, "currency": "EUR",
        "shippingAddress": {"country": "DE", "name": "Ada Lovelace", "street": "Main 1"},
    }
    response = post_order(body)
    assert response.status_code == 201
    order_id = response.json()["orderId"]
    assert len(order_id) == 32 and int(order_id, 16) >= 0
    [doc] = repository.orders().find()
    assert doc["_id"] == order_id and doc["status"] == "PENDING" and doc["total"] == "1234.50"
    assert doc["shippingAddress"]["name"] == "Ada Lovelace"
    [entry] = doc["outbox"]
    assert entry["topic"] == "order.OrderCreated.v1" and entry["key"] == order_id
    assert '"shippingCountry":"DE"' in entry["value"]
    assert "Ada" not in entry["value"] and "Main" not in entry["value"]  # no PII in events


def test_defaults_and_repeated_skus_merged(post_order):
    response = post_order({"items": [{"sku": "S", "qty": 4000}, {"sku": "T", "qty": 1}, {"sku": "S", "qty": 6000}], "total": 0})
    assert response.status_code == 201
    [doc] = stored_orders()
    assert doc["items"] == [{"sku": "S", "qty": 10000}, {"sku": "T", "qty": 1}]
    assert doc["currency"] == "USD" and doc["shippingAddress"] is None and doc["total"] == "0.00"


def line(**overrides):
    return {**GOOD_BODY, **overrides}


BAD_BODIES = {
    "no items": {"total": 1},
    "empty items": line(items=[]),
    "101 lines": line(items=[{"sku": f"S{i}", "qty": 1} for i in range(101)]),
    "items not a list": line(items={"sku": "S", "qty": 1}),
    "line not an object": line(items=["SKU-1"]),
    "sku empty": line(items=[{"sku": "", "qty": 1}]),
    "sku 65 chars": line(items=[{"sku": "S" * 65, "qty": 1}]),
    "sku bad chars": line(items=[{"sku": "SKU 1", "qty": 1}]),
    "sku number": line(items=[{"sku": 123, "qty": 1}]),
    "qty zero": line(items=[{"sku": "S", "qty": 0}]),
    "qty too big": line(items=[{"sku": "S", "qty": 10001}]),
    "qty bool": line(items=[{"sku": "S", "qty": True}]),
    "qty float": line(items=[{"sku": "S", "qty": 1.5}]),
    "qty integral float": line(items=[{"sku": "S", "qty": 2.0}]),
    "qty string": line(items=[{"sku": "S", "qty": "2"}]),
    "merged qty too big": line(items=[{"sku": "S", "qty": 6000}, {"sku": "S", "qty": 5000}]),
    "unknown line key": line(items=[{"sku": "S", "qty": 1, "price": 3}]),
    "no total": {"items": GOOD_BODY["items"]},
    "total negative": line(total=-1),
    "total 3 decimals": line(total=1.005),
    "total too big": line(total=1_000_000_000.01),
    "total string": line(total="10.00"),
    "total bool": line(total=True),
    "total null": line(total=None),
    "currency lower": line(currency="usd"),
    "currency 4 letters": line(currency="USDT"),
    "currency number": line(currency=840),
    "address not object": line(shippingAddress="Main St"),
    "address without country": line(shippingAddress={"street": "x"}),
    "address country lower": line(shippingAddress={"country": "us"}),
    "address country 3 letters": line(shippingAddress={"country": "USA"}),
    "address nested value": line(shippingAddress={"country": "US", "geo": {"lat": 1}}),
    "unknown top-level key": line(coupon="FREE"),
    "dollar key top level": line(**{"$where": "1"}),
    "dollar key nested": line(shippingAddress={"country": "US", "$set": "x"}),
    "dotted key nested": line(items=[{"sku": "S", "qty": 1, "a.b": 1}]),
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_bad_body_is_400_and_stores_nothing(post_order, name):
    error = assert_error(post_order(BAD_BODIES[name]), 400)
    assert error["fields"] or error["code"] != "invalid", error
    assert stored_orders() == []


RAW_BAD = {
    "not json": b"{items:",
    "json array": b"[1, 2]",
    "json string": b'"order"',
    "empty body": b"",
    "infinite total": b'{"items":[{"sku":"S","qty":1}],"total":1e309}',
    "NaN total": b'{"items":[{"sku":"S","qty":1}],"total":NaN}',
    "Infinity total": b'{"items":[{"sku":"S","qty":1}],"total":Infinity}',
    "duplicate key": b'{"items":[{"sku":"S","qty":1}],"total":1,"total":2}',
    "not utf-8": b'{"items":[{"sku":"\xff","qty":1}],"total":1}',
    "deeply nested": b"[" * 50_000 + b"]" * 10_000,
}


@pytest.mark.parametrize("name", RAW_BAD)
def test_unparseable_body_is_400_and_stores_nothing(post_order, name):
    assert_error(post_order(RAW_BAD[name]), 400)
    assert stored_orders() == []


def test_body_over_64_kib_is_413_json_error(post_order):
    big = {**GOOD_BODY, "shippingAddress": {"country": "US", "note": "x" * 70_000}}
    error = assert_error(post_order(big), 413)
    assert error["code"] == "payload_too_large"
    assert stored_orders() == []


def test_idempotency_key_repeat_returns_same_order_and_creates_nothing(post_order):
    first = post_order(GOOD_BODY, key="k-1")
    again = post_order({"total": 19.99, "items": [{"qty": 2, "sku": "SKU-1"}]}, key="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(stored_orders()) == 1 and len(stored_orders()[0]["outbox"]) == 1


def test_idempotency_key_with_other_body_is_422(post_order):
    assert post_order(GOOD_BODY, key="k-2").status_code == 201
    assert assert_error(post_order({**GOOD_BODY, "total": 20}, key="k-2"), 422)["code"] == "idempotency_key_mismatch"
    assert len(stored_orders()) == 1


def test_other_keys_make_other_orders(post_order):
    ids = {post_order(GOOD_BODY, key=key).json()["orderId"] for key in ("a", "b")}
    assert len(ids) == 2 and len(stored_orders()) == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\tkey", "é"])
def test_bad_idempotency_key_is_400(post_order, key):
    assert_error(post_order(GOOD_BODY, key=key), 400)
    assert stored_orders() == []


def test_get_returns_the_order_document(api, post_order):
    order_id = post_order({**GOOD_BODY, "shippingAddress": {"country": "US"}}).json()["orderId"]
    response = api.get(f"/api/orders/{order_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"orderId", "status", "items", "total", "currency", "shippingAddress", "createdAt",
                         "updatedAt", "statusHistory"}
    assert body["orderId"] == order_id and body["status"] == "PENDING" and body["total"] == "19.99"
    assert body["shippingAddress"] == {"country": "US"}
    [history] = body["statusHistory"]
    assert history["status"] == "PENDING" and history["eventId"] and history["at"].endswith("Z")


@pytest.mark.parametrize("order_id", ["0" * 32, "not-an-id", "$where", "A" * 32, "0" * 33])
def test_get_unknown_or_malformed_id_is_404(api, order_id):
    assert_error(api.get(f"/api/orders/{order_id}"), 404)


CLIENT_ID = "3f2b8c1e-5a4d-4e7b-9c2a-1d0e6f7a8b9c"


def test_client_chosen_order_id_names_the_order_and_its_events(api, post_order):
    response = post_order({**GOOD_BODY, "orderId": CLIENT_ID.upper()})
    assert response.status_code == 201, response.content
    assert response.json() == {"orderId": CLIENT_ID}  # one spelling per UUID: canonical lowercase
    [doc] = stored_orders()
    assert doc["_id"] == CLIENT_ID and doc["outbox"][0]["key"] == CLIENT_ID
    assert api.get(f"/api/orders/{CLIENT_ID}").json()["orderId"] == CLIENT_ID


def test_client_order_id_repeat_with_the_same_body_is_200_and_creates_nothing(post_order):
    first = post_order({**GOOD_BODY, "orderId": CLIENT_ID})
    again = post_order({"orderId": CLIENT_ID, "total": 19.990, "items": [{"qty": 2, "sku": "SKU-1"}]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"orderId": CLIENT_ID}
    assert len(stored_orders()) == 1 and len(stored_orders()[0]["outbox"]) == 1


def test_client_order_id_with_another_body_is_409_with_the_reason(post_order):
    assert post_order({**GOOD_BODY, "orderId": CLIENT_ID}).status_code == 201
    error = assert_error(post_order({**GOOD_BODY, "total": 20, "orderId": CLIENT_ID}), 409)
    assert error["fields"] == {"orderId": "already used with a different body"}
    [doc] = stored_orders()
    assert doc["total"] == "19.99"


@pytest.mark.parametrize("order_id", [
    "not-a-uuid", "", 42, None, "3f2b8c1e5a4d4e7b9c2a1d0e6f7a8b9c", "{3f2b8c1e-5a4d-4e7b-9c2a-1d0e6f7a8b9c}",
    "urn:uuid:3f2b8c1e-5a4d-4e7b-9c2a-1d0e6f7a8b9c", "3f2b8c1e-5a4d-4e7b-9c2a-1d0e6f7a8b9g",
])
def test_client_order_id_that_is_not_a_uuid_is_400_with_the_field(post_order, order_id):
    error = assert_error(post_order({**GOOD_BODY, "orderId": order_id}), 400)
    assert set(error["fields"]) == {"orderId"}
    assert stored_orders() == []


def test_client_order_id_with_an_idempotency_key_must_agree_with_it(post_order):
    assert post_order({**GOOD_BODY, "orderId": CLIENT_ID}, key="k-3").status_code == 201
    assert post_order({**GOOD_BODY, "orderId": CLIENT_ID}, key="k-3").json() == {"orderId": CLIENT_ID}
    other = "0b5e8a52-6f0c-4d3e-8b1a-2c4d6e8f0a1b"
    error = assert_error(post_order({**GOOD_BODY, "orderId": other}, key="k-3"), 422)
    assert error["fields"] == {"Idempotency-Key": f"already used for order {CLIENT_ID}"}
    assert [doc["_id"] for doc in stored_orders()] == [CLIENT_ID]


def test_a_header_key_spelling_a_uuid_is_not_that_orders_claim(post_order):
    by_header = post_order(GOOD_BODY, key=CLIENT_ID).json()["orderId"]
    assert post_order({**GOOD_BODY, "orderId": CLIENT_ID}).status_code == 201
    assert {doc["_id"] for doc in stored_orders()} == {by_header, CLIENT_ID}


def test_only_staff_see_more_of_the_address_than_its_country(api, post_order, django_user_model):
    address = {"country": "DE", "name": "Ada Lovelace", "street": "Main 1", "phone": "+49 30 1234"}
    order_id = post_order({**GOOD_BODY, "shippingAddress": address}).json()["orderId"]
    anonymous = api.get(f"/api/orders/{order_id}").json()
    assert anonymous["shippingAddress"] == {"country": "DE"}
    assert not any(word in str(anonymous) for word in ("Ada", "Main", "+49")), anonymous
    staff = APIClient()
    staff.force_login(django_user_model.objects.create_user(username="ops", is_staff=True))
    assert staff.get(f"/api/orders/{order_id}").json()["shippingAddress"] == address


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "", "application/jsonx", "text/json"])
def test_a_body_not_declared_json_is_415_and_stores_nothing(post_order, content_type):
    """What a cross-site form can send without a preflight must not place an order."""
    response = assert_error(post_order(GOOD_BODY, content_type=content_type), 415)
    assert response["code"] == "unsupported_media_type"
    assert stored_orders() == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON", "application/merge+json"])
def test_json_media_types_are_accepted(post_order, content_type):
    assert post_order(GOOD_BODY, content_type=content_type).status_code == 201
