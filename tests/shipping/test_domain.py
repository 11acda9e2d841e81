"""Carrier rules without Kafka or Mongo."""
from __future__ import annotations

from shipping.domain import CARRIERS, ShipmentStatus, decide_booking, hash_fraction, tracking_number_for

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "NL"]


def book(order_id: str = "order-1", *, country: str | None = "US", rate: float = 0.0):
    return decide_booking(order_id=order_id, shipping_country=country, allowed_countries=COUNTRIES, failure_rate=rate)


def test_allowed_country_is_booked_with_carrier_and_tracking_number():
    booking = book(country="DE")
    assert booking.status is ShipmentStatus.SHIPPED
    assert booking.carrier in CARRIERS
    assert booking.tracking_number and booking.shipment_id


def test_no_country_given_is_booked():
    assert book(country=None).status is ShipmentStatus.SHIPPED


def test_country_outside_the_list_fails_with_a_readable_reason():
    booking = book(country="BR")
    assert booking.status is ShipmentStatus.FAILED
    assert booking.reason == "the carrier does not ship to BR"
    assert not booking.tracking_number


def test_booking_is_deterministic_per_order():
    assert book("order-7") == book("order-7")
    assert tracking_number_for("order-7") != tracking_number_for("order-8")
    assert {book(f"order-{n}").carrier for n in range(60)} == set(CARRIERS)


def test_failure_rate_is_fixed_by_the_order_id_and_roughly_proportional():
    first = [book(f"o-{n}", rate=0.2).status for n in range(4000)]
    assert first == [book(f"o-{n}", rate=0.2).status for n in range(4000)]
    assert 0.17 < first.count(ShipmentStatus.FAILED) / 4000 < 0.23
    assert all(0.0 <= hash_fraction(f"o-{n}") < 1.0 for n in range(100))
    assert book(rate=1.0).reason == "the carrier rejected the booking (simulated failure rate)"
    assert all(book(f"o-{n}", rate=0.0).status is ShipmentStatus.SHIPPED for n in range(100))
