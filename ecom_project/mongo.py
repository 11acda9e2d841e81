"""The one MongoDB client of the process, and the one place that knows the store's limits.

`MONGO_URL` is any MongoDB server, or (unset) the local FerretDB of a running `make run`, found
through `DATA_DIR/engines.json`. The code keeps to what both MongoDB and FerretDB 1.24 on SQLite
do well (docs/store.md lists the differences met); the helpers below are where it must choose.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

from ecom_project.config import ConfigError


@lru_cache(maxsize=None)
def _client(url: str) -> Any:
    import pymongo

    return pymongo.MongoClient(url, serverSelectionTimeoutMS=3000, tz_aware=True)


def get_db() -> Any:
    """The project's database (DB name from `MONGO_DB`, default `ecom`)."""
    if not settings.MONGO_URL:
        raise ConfigError(
            "no store: MONGO_URL is unset and no `make run` is running (its local store is found through "
            f"{settings.DATA_DIR}/engines.json); start `make run`, or set MONGO_URL=mongodb://host:port"
        )
    return _client(settings.MONGO_URL)[settings.MONGO_DB]


def find_by_ids(collection: Any, ids: Iterable[Any], projection: dict | None = None) -> list[dict]:
    """The documents with these `_id`s. One lookup per id: FerretDB reads a whole collection for
    `{_id: {$in: [...]}}` (only a filter that is exactly `{_id: v}` uses its index), MongoDB reads
    the index either way."""
    found = (collection.find_one({"_id": doc_id}, projection) for doc_id in dict.fromkeys(ids))
    return [doc for doc in found if doc is not None]


# Read a result in one reply rather than through a cursor kept open between getMores, for reads that run
# beside writes (docs/store.md: FerretDB 1.24 hung a scan and a concurrent bulk write on each other).
# Pass as `batch_size=` to `find`.
ONE_BATCH = 100_000


def ensure_index(collection: Any, keys: Any, **options: Any) -> None:
    """`create_index`, idempotent on both stores. FerretDB 1.24 now and then answers "index … already
    exists" for an index it has (seen right after the collection was dropped and made again)."""
    from pymongo.errors import OperationFailure

    try:
        collection.create_index(keys, **options)
    except OperationFailure as exc:
        if "already exists" not in str(exc):
            raise


def ping() -> bool:
    try:
        get_db().command("ping")
        return True
    except Exception:  # readiness reports it; the caller decides what to do
        return False
