"""Every event schema round-trips through the envelope and the wire; no PII in any schema."""
from __future__ import annotations

import json
import re

import pytest
from pydantic import BaseModel

from ecom_project.events.envelope import InvalidEvent, decode, new_event, payload_of
from ecom_project.events.examples import EXAMPLES
from ecom_project.events.registry import ALL_TOPICS, SCHEMAS, dlq_topic, topic_of, type_of_topic


@pytest.mark.parametrize("key", sorted(SCHEMAS))
def test_example_round_trips_through_the_wire(key):
    event_type, version = key
    schema = SCHEMAS[key]
    payload = schema.model_validate(EXAMPLES[key])
    event = new_event(event_type, payload, order_id="order-1", version=version)
    wire = event.to_json()
    decoded = decode(wire)
    assert decoded == event
    assert payload_of(decoded) == payload
    assert decoded.payload == EXAMPLES[key]
    body = json.loads(wire)
    assert set(body) == {"eventId", "type", "version", "timestamp", "correlationId", "causationId", "key", "payload", "headers"}


def test_every_schema_has_an_example():
    assert set(EXAMPLES) == set(SCHEMAS)


def test_caused_event_keeps_correlation_and_points_to_its_cause():
    first = new_event("order.OrderCreated", SCHEMAS[("order.OrderCreated", 1)].model_validate(EXAMPLES[("order.OrderCreated", 1)]), order_id="o1")
    second = new_event(
        "inventory.InventoryFailed",
        SCHEMAS[("inventory.InventoryFailed", 1)].model_validate(EXAMPLES[("inventory.InventoryFailed", 1)]),
        order_id="o1", cause=first,
    )
    assert second.correlation_id == first.correlation_id
    assert second.causation_id == str(first.event_id)


def test_topics_follow_the_design_names():
    assert topic_of("payment.PaymentFailed") == "payment.PaymentFailed.v1"
    assert type_of_topic("shipping.OrderShipped.v1") == ("shipping.OrderShipped", 1)
    assert dlq_topic("order.OrderCreated.v1") in ALL_TOPICS
    assert "ops.DeadLetter.v1" not in ALL_TOPICS  # dead letters travel on <topic>.dlq


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1,2]", "not a JSON object"),
        (b'{"type": "x"}', "bad envelope"),
    ],
)
def test_undecodable_input_is_an_invalid_event(raw, reason):
    with pytest.raises(InvalidEvent, match=reason):
        decode(raw)


def test_unknown_type_and_bad_payload_are_invalid():
    good = json.loads(new_event(
        "order.OrderCreated", SCHEMAS[("order.OrderCreated", 1)].model_validate(EXAMPLES[("order.OrderCreated", 1)]), order_id="o"
    ).to_json())
    with pytest.raises(InvalidEvent, match="unknown event type"):
        decode(json.dumps({**good, "version": 9}))
    with pytest.raises(InvalidEvent, match="payload"):
        decode(json.dumps({**good, "payload": {**good["payload"], "items": []}}))
    with pytest.raises(InvalidEvent, match="payload"):
        decode(json.dumps({**good, "payload": {**good["payload"], "email": "a@b.c"}}))


PII = re.compile(r"name|email|mail|phone|street|address|line1|line2|city|zip|postal|card|pan|cvv|cvc|iban|birth", re.I)
ALLOWED = {"shippingCountry", "originalType"}  # a country is fine (DESIGN §5); type names are not PII


def field_names(model: type[BaseModel]) -> set[str]:
    schema = model.model_json_schema(by_alias=True)
    names = set()

    def walk(node):
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return names


@pytest.mark.parametrize("key", sorted(SCHEMAS))
def test_no_pii_fields_in_any_event(key):
    suspicious = {n for n in field_names(SCHEMAS[key]) if PII.search(n) and n not in ALLOWED}
    assert not suspicious, f"{key} carries PII-looking fields: {suspicious}"


def test_payload_rejects_unknown_fields_so_pii_cannot_slip_in():
    data = {**EXAMPLES[("order.OrderCreated", 1)], "customerEmail": "x@example.com"}
    with pytest.raises(Exception):
        SCHEMAS[("order.OrderCreated", 1)].model_validate(data)
