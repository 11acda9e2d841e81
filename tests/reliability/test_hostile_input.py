"""Hostile input, property-based: every API answers a success or a 4xx JSON error, never a 5xx,
never stores a partial order, and refuses MongoDB operator injection."""
from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, event, given, settings as hsettings, strategies as st
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from orders import repository as order_repository

FUZZ = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ORDER_FIELDS = {"_id", "orderId", "status", "items", "total", "currency", "shippingAddress", "createdAt", "outbox"}
INJECTIONS = [{"$gt": ""}, {"$ne": None}, {"$where": "1"}, {"a.b": 1}, {"$set": {"status": "SHIPPED"}}]

json_scalars = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars | st.sampled_from(INJECTIONS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
skus = st.sampled_from(["SKU-1", "SKU-2", "", "SKU 1", "x" * 65, "SKU-$1"]) | st.text(max_size=10) | json_values
qtys = st.sampled_from([1, 2, 10_000, 10_001, 0, -1, 1.5, "2", True]) | json_values
near_valid_orders = st.fixed_dictionaries(
    {"items": st.lists(st.fixed_dictionaries({"sku": skus, "qty": qtys}), max_size=3) | json_values,
     "total": st.sampled_from([10, 10.5, 0, -1, 1e309, "10", 10.001, 10**12]) | json_values},
    optional={"currency": st.sampled_from(["USD", "usd", "EURO"]) | json_values,
              "shippingAddress": st.fixed_dictionaries({"country": st.sampled_from(["US", "us", "JP", "U"]) | json_values},
                                                       optional={"street": json_values}) | json_values,
              "$where": json_values, "a.b": json_values},
)

valid_orders = st.fixed_dictionaries(
    {"items": st.lists(st.fixed_dictionaries({"sku": st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True),
                                              "qty": st.integers(1, 10_000)}), min_size=1, max_size=5),
     "total": st.decimals(min_value=0, max_value=10**9, places=2).map(float) | st.integers(0, 10**9)},
    optional={"currency": st.from_regex(r"[A-Z]{3}", fullmatch=True),
              "shippingAddress": st.fixed_dictionaries({"country": st.from_regex(r"[A-Z]{2}", fullmatch=True)},
                                                       optional={"street": st.text(max_size=200)})},
)


@pytest.fixture
def api():
    return APIClient()


def assert_json_4xx_or_success(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields"} and error["message"]


def stored_orders() -> list[dict]:
    return list(order_repository.orders().find())


def post_raw(api, raw: bytes):
    return api.generic("POST", "/api/orders", raw, content_type="application/json")


@FUZZ
@given(body=valid_orders | near_valid_orders | json_values)
def test_order_intake_answers_4xx_or_201_and_never_stores_a_partial_order(api, body):
    before = len(stored_orders())
    response = post_raw(api, json.dumps(body).encode())
    assert_json_4xx_or_success(response)
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics: how many got through
    orders = stored_orders()
    if response.status_code == 201:
        assert len(orders) == before + 1
        [order] = [o for o in orders if o["_id"] == response.json()["orderId"]]
        assert ORDER_FIELDS <= set(order) and order["status"] == "PENDING" and len(order["outbox"]) == 1
    else:
        assert len(orders) == before, "a refused order stored nothing"


@FUZZ
@given(raw=st.binary(max_size=300))
def test_order_intake_refuses_undecodable_bytes(api, raw):
    response = post_raw(api, raw)
    assert_json_4xx_or_success(response)


VALID = {"items": [{"sku": "SKU-1", "qty": 1}], "total": 10, "currency": "USD", "shippingAddress": {"country": "US"}}


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def replaced(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@pytest.mark.parametrize("path", [p for p in paths(VALID) if p], ids=str)
@pytest.mark.parametrize("injection", INJECTIONS, ids=json.dumps)
def test_mongo_operator_in_any_field_is_refused(api, path, injection):
    response = post_raw(api, json.dumps(replaced(VALID, path, injection)).encode())
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert stored_orders() == []


@pytest.mark.parametrize("key", ["$gt", "$where", "a.b", ".", "$"])
@pytest.mark.parametrize("where", ["top", "line", "address"])
def test_keys_starting_with_dollar_or_holding_a_dot_are_refused(api, key, where):
    body = json.loads(json.dumps(VALID))
    {"top": body, "line": body["items"][0], "address": body["shippingAddress"]}[where][key] = "x"
    response = post_raw(api, json.dumps(body).encode())
    assert response.status_code == 400
    assert stored_orders() == []


query_values = st.text(max_size=40) | st.sampled_from(["PENDING", "SHIPPED", "0", "-1", "201", "1e3", "[$gt]=", "%00"])


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["status", "limit", "cursor", "status[$ne]", "x"]), query_values, max_size=4))
def test_read_api_query_parameters_never_cause_a_5xx(api, params):
    assert_json_4xx_or_success(api.get("/api/read/orders", params))


@FUZZ
@given(order_id=st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s and "?" not in s and "#" not in s))
def test_order_lookups_by_any_id_never_cause_a_5xx(api, order_id):
    for path in (f"/api/orders/{order_id}", f"/api/read/orders/{order_id}"):
        response = api.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)


@pytest.fixture
def staff_api(db):
    user = get_user_model().objects.create(username="fuzz-operator", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


ADMIN_POSTS = ["/api/admin/orders/{id}/retry", "/api/admin/orders/{id}/compensate", "/api/admin/dead-letters/{id}/replay"]


@FUZZ
@given(path=st.sampled_from(ADMIN_POSTS), target=st.sampled_from(["0" * 32, "nope", "$gt", "a.b"]) | st.text(
    alphabet=st.characters(blacklist_characters="/?#%", blacklist_categories=("Cs",)), min_size=1, max_size=40),
    body=st.fixed_dictionaries({}, optional={"step": json_values | st.sampled_from(["inventory", "payment"]),
                                             "action": json_values | st.sampled_from(["refundPayment"]),
                                             "force": json_values}) | json_values)
def test_admin_api_bodies_never_cause_a_5xx(staff_api, path, target, body):
    response = staff_api.generic("POST", path.format(id=target), json.dumps(body), content_type="application/json")
    assert_json_4xx_or_success(response)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["status", "topic", "orderId", "limit", "cursor", "topic[$ne]"]),
                              query_values, max_size=4))
def test_admin_dead_letter_filters_never_cause_a_5xx(staff_api, params):
    assert_json_4xx_or_success(staff_api.get("/api/admin/dead-letters", params))
