"""Formatting of the operator pages: ages as operators read them (2h 05m, 40s)."""
from __future__ import annotations

from datetime import datetime, timezone

from django import template

register = template.Library()


@register.filter
def age(seconds: int | float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@register.filter
def age_since(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # mongomock: naive UTC
    return age(max(0, (datetime.now(timezone.utc) - moment).total_seconds()))
