"""What an order id looks like.

The service makes ids as 32 lowercase hex digits (a UUID4 without hyphens). A client may
choose the id instead (the reference pipeline's load generator does): any UUID, kept in its
canonical hyphenated lowercase form, so each UUID has exactly one spelling in the store and
two spellings of one UUID are one idempotency key. The two forms never collide: one has
hyphens, the other has none.
"""
from __future__ import annotations

import re
import uuid

_SERVICE_ID = re.compile(r"^[0-9a-f]{32}$")
_CLIENT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CANONICAL_CLIENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_order_id() -> str:
    return uuid.uuid4().hex


def client_order_id(raw: object) -> str | None:
    """The canonical form of a client-chosen id, or None when `raw` is not a hyphenated UUID.

    Only the 8-4-4-4-12 form is taken (any case): `uuid.UUID` would also take braces, a
    `urn:uuid:` prefix or bare hex, spellings no client of the spec sends."""
    if not isinstance(raw, str) or not _CLIENT_ID.fullmatch(raw):
        return None
    return str(uuid.UUID(raw))


def is_order_id(raw: str) -> bool:
    """True for an id this service could have stored (either form); anything else is unknown."""
    return bool(_SERVICE_ID.fullmatch(raw) or _CANONICAL_CLIENT_ID.fullmatch(raw))
