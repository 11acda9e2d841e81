"""Payment reads for operator pages: no internal fields, newest first, bad filters are 4xx errors."""
from __future__ import annotations

import pytest

from ecom_project.api_errors import ApplicationError
from payments import handlers
from payments.selectors import payment_get, payment_list
from tests.payments.conftest import inventory_reserved, new_order_id


def authorise(total: str, order_id: str | None = None) -> str:
    order_id = order_id or new_order_id()
    event = inventory_reserved(order_id, total=total)
    handlers.HANDLERS[event.type](event)
    return order_id


def test_payment_get_hides_the_outbox_and_the_guard():
    order_id = authorise("10.00")
    payment = payment_get(order_id=order_id)
    assert payment["_id"] == order_id and payment["status"] == "AUTHORIZED" and payment["amount"] == "10.00"
    assert not {"outbox", "appliedEvents", "outboxLease"} & set(payment)
    assert payment_get(order_id="no-such-order") is None


def test_payment_list_newest_first_and_by_status():
    # Stored times have millisecond precision; ids ascending keep the tie-break (_id) newest first too.
    prefix = new_order_id()
    first, declined, last = authorise("1.00", f"{prefix}-1"), authorise("7000.00", f"{prefix}-2"), authorise("2.00", f"{prefix}-3")
    assert [p["_id"] for p in payment_list()] == [last, declined, first]
    assert [p["_id"] for p in payment_list(status="DECLINED")] == [declined]
    assert [p["_id"] for p in payment_list(limit=1)] == [last]


@pytest.mark.parametrize("kwargs, field", [({"status": "PAID"}, "status"), ({"limit": 0}, "limit"), ({"limit": 201}, "limit")])
def test_payment_list_rejects_bad_filters(kwargs, field):
    with pytest.raises(ApplicationError) as error:
        payment_list(**kwargs)
    assert error.value.status_code == 400 and field in error.value.fields
