"""Opaque keyset cursors for newest-first lists: the sort key of a page's last row, base64 JSON."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone

from ecom_project.api_errors import ApplicationError


def encode_cursor(moment: datetime, row_id: str) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # mongomock hands back naive UTC
    raw = json.dumps([moment.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(row_id, str):
            raise ValueError("the row id is not a string")
        return datetime.fromisoformat(moment), row_id
    except (ValueError, TypeError, binascii.Error):
        raise ApplicationError("cursor is not one this list returned.", code="invalid",
                               fields={"cursor": "invalid"}) from None
