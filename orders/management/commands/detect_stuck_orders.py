"""Flag and list the orders whose current saga step is past its deadline (SAGA_STEP_TIMEOUT_S)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from orders import selectors, stuck

LISTED = 50


class Command(BaseCommand):
    help = "Flag stuck orders once, print how many are stuck per step and the newest of them."

    def handle(self, *args: object, **options: object) -> None:
        counts = stuck.stuck_orders_detect()
        for step, count in counts.items():
            self.stdout.write(f"{step}: {count} stuck")
        rows, _ = selectors.order_search(where=selectors.OrderFilter(stuck=True), limit=LISTED)
        for order in rows:
            self.stdout.write(f"{order['orderId']} {order['status']} overdue {order['overdueStep']} "
                              f"age {order['ageSeconds']}s")
