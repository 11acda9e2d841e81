"""The stuck-order detector (DESIGN §7): flags orders whose current step is past its deadline
and counts them in pipeline_orders_stuck{step}. It runs in the orders consumer's process
(every STUCK_SCAN_INTERVAL_S) and on demand as `manage.py detect_stuck_orders`."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from django.conf import settings

from ecom_project.events import saga
from ecom_project.messaging.periodic import PeriodicTask
from ecom_project.observability.metrics import ORDERS_STUCK
from orders import repository, selectors

log = logging.getLogger(__name__)


def stuck_orders_detect(*, now: datetime | None = None) -> dict[str, int]:
    """Per step, how many orders are stuck on it now; newly stuck ones are flagged and logged."""
    now = now or datetime.now(timezone.utc)
    counts, newly = dict.fromkeys(saga.STEPS, 0), dict.fromkeys(saga.STEPS, 0)
    for order, step in selectors.overdue_orders(now=now):
        counts[step] += 1
        if order.get("stuckStep") != step and repository.order_flag_stuck(order, step=step, at=now):
            newly[step] += 1
    for step, count in counts.items():
        ORDERS_STUCK.labels(step).set(count)
        if newly[step]:
            log.warning("orders stuck", extra={"step": step, "newlyStuck": newly[step], "stuck": count,
                                               "deadlineSeconds": settings.SAGA_STEP_TIMEOUT_S[step]})
    return counts


def stuck_detector_tasks() -> list[PeriodicTask]:
    return [PeriodicTask("stuck-orders", interval_s=settings.STUCK_SCAN_INTERVAL_S, run=stuck_orders_detect)]
