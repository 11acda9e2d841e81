"""Carrier rules of the simulated shipping provider: pure decisions, no I/O."""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

CARRIERS = ("UPS", "DHL", "FedEx")


class ShipmentStatus(str, Enum):
    SHIPPED = "SHIPPED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Booking:
    """What the carrier answered: a shipment, or the reason there is none."""

    status: ShipmentStatus
    shipment_id: str = ""
    carrier: str = ""
    tracking_number: str = ""
    reason: str = ""


def _digest(purpose: str, order_id: str) -> bytes:
    return hashlib.sha256(f"shipping-{purpose}:{order_id}".encode()).digest()


def hash_fraction(order_id: str) -> float:
    """A fraction in [0, 1) fixed by the orderId, so a replay or retry decides the same way."""
    return int.from_bytes(_digest("failure", order_id)[:8], "big") / 2**64


def carrier_for(order_id: str) -> str:
    return CARRIERS[_digest("carrier", order_id)[0] % len(CARRIERS)]


def tracking_number_for(order_id: str) -> str:
    digits = int.from_bytes(_digest("tracking", order_id)[:8], "big") % 10**12
    return f"{carrier_for(order_id)[:3].upper()}{digits:012d}"


def shipment_id_for(order_id: str) -> str:
    return "SHP-" + _digest("shipment", order_id).hex()[:20].upper()


def decide_booking(
    *, order_id: str, shipping_country: str | None, allowed_countries: Collection[str], failure_rate: float
) -> Booking:
    if shipping_country and shipping_country.upper() not in {c.upper() for c in allowed_countries}:
        return Booking(ShipmentStatus.FAILED, reason=f"the carrier does not ship to {shipping_country}")
    if failure_rate > 0 and hash_fraction(order_id) < failure_rate:
        return Booking(ShipmentStatus.FAILED, reason="the carrier rejected the booking (simulated failure rate)")
    return Booking(
        ShipmentStatus.SHIPPED, shipment_id=shipment_id_for(order_id), carrier=carrier_for(order_id),
        tracking_number=tracking_number_for(order_id),
    )
