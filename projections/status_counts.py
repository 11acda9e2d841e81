"""Projections per status (the dashboard's chips, GET /api/read/status-counts): counters that every status
change of a live projection moves, recounted when they stand still (ecom_project/status_counts.py). A
rebuild recounts once it has swapped the rebuilt collection in."""
from __future__ import annotations

from ecom_project.status_counts import StatusCounts
from projections import domain, repository

PROJECTION_COUNTS = StatusCounts(name="projections", counters=repository.status_counts, statuses=domain.STATUSES,
                                 scan=repository.statuses)

