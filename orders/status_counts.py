"""Orders per status (pipeline_orders_by_status): counters that every status change moves, recounted
from the orders when they stand still (ecom_project/status_counts.py)."""
from __future__ import annotations

from ecom_project.status_counts import StatusCounts
from orders import domain, repository

ORDER_COUNTS = StatusCounts(name="orders", counters=repository.status_counts, statuses=domain.STATUSES,
                            scan=repository.order_statuses, written_field="updatedAt", doc_id="orders")

