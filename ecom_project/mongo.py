"""The one MongoDB client of the process.

`MONGO_URL` unset or `mongomock://` gives an in-process mongomock database; a
`mongodb://` URL gives pymongo against a real server. Callers never branch on which.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from django.conf import settings

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_MOCK_WRITES = {
    "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
    "delete_many", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
    "bulk_write", "create_index", "drop",
    # Reads too: mongomock updates documents in place, so a read copying a document while another
    # thread writes it fails with "dictionary changed size during iteration".
    "find_one", "count_documents", "estimated_document_count", "distinct", "aggregate",
}


def _lock_of(collection: str) -> threading.RLock:
    """One lock per collection: mongomock keeps each collection's documents apart, so writers of
    different collections (different apps) never wait for each other."""
    lock = _LOCKS.get(collection)
    if lock is None:
        with _LOCKS_GUARD:
            lock = _LOCKS.setdefault(collection, threading.RLock())
    return lock


class _SerializedCollection:
    """mongomock applies an update as read-modify-write in Python; a real server applies it
    atomically. Serialising writes in the process gives mongomock the same single-document
    atomicity that the outbox and idempotency guards rely on."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self._lock = _lock_of(collection.full_name)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name == "find":
            return lambda *args, **kwargs: _SerializedCursor(attr(*args, **kwargs), self._lock)
        if name not in _MOCK_WRITES:
            return attr

        def serialized(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return serialized

    def __getitem__(self, name: str) -> "_SerializedCollection":
        return _SerializedCollection(self._collection[name])


class _SerializedCursor:
    """A mongomock cursor computes its results on the first `next`: do that under the lock."""

    def __init__(self, cursor: Any, lock: threading.RLock) -> None:
        self._cursor = cursor
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._cursor, name)
        if not callable(attr):
            return attr

        def chained(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self if result is self._cursor else result

        return chained

    def __iter__(self) -> "_SerializedCursor":
        return self

    def __next__(self) -> Any:
        with self._lock:
            return next(self._cursor)


class _SerializedDatabase:
    def __init__(self, database: Any) -> None:
        self._database = database
        self._collections: dict[str, _SerializedCollection] = {}

    def __getitem__(self, name: str) -> _SerializedCollection:
        """One wrapper per collection, made once: mongomock looks each collection's data up by name
        on every operation, so a dropped or renamed collection is seen through the same wrapper."""
        collection = self._collections.get(name)
        if collection is None:
            collection = self._collections.setdefault(name, _SerializedCollection(self._database[name]))
        return collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


def _install_id_lookup(mongomock: Any) -> None:
    """mongomock scans every document for every query; a real server uses the _id index.
    Queries on a plain `_id` (or `_id: {$in: [...]}`) read just those documents, so the
    embedded store's cost per event does not grow with the number of orders."""
    from bson import ObjectId
    from mongomock.filtering import filter_applies

    collection_class = mongomock.collection.Collection
    if getattr(collection_class, "_ecom_id_lookup", False):
        return
    scan = collection_class._iter_documents
    scalar = (str, int, ObjectId)

    def iter_documents(self: Any, filter: Any) -> Any:
        wanted = filter.get("_id") if isinstance(filter, dict) else None
        if isinstance(wanted, scalar) and not isinstance(wanted, bool):
            keys = [wanted]
        elif isinstance(wanted, dict) and set(wanted) == {"$in"} and all(
            isinstance(k, scalar) and not isinstance(k, bool) for k in wanted["$in"]
        ):
            keys = list(dict.fromkeys(wanted["$in"]))
        else:
            return scan(self, filter)
        store = self._store
        found = [store[key] for key in keys if key in store]
        return (document for document in found if filter_applies(filter, document))

    collection_class._iter_documents = iter_documents
    collection_class._ecom_id_lookup = True


@lru_cache(maxsize=None)
def _client(url: str) -> Any:
    if not _is_shared(url):
        import mongomock

        _install_id_lookup(mongomock)
        return mongomock.MongoClient()
    import pymongo

    return pymongo.MongoClient(url, serverSelectionTimeoutMS=3000, tz_aware=True)


def get_db() -> Any:
    """The project's database (DB name from `MONGO_DB`, default `ecom`)."""
    return _database(settings.MONGO_URL, settings.MONGO_DB)


@lru_cache(maxsize=None)
def _database(url: str, name: str) -> Any:
    database = _client(url)[name]
    return database if _is_shared(url) else _SerializedDatabase(database)


def is_shared_store() -> bool:
    """True when several processes can see the same data (a real MongoDB server)."""
    return _is_shared(settings.MONGO_URL)


@lru_cache(maxsize=None)
def _is_shared(url: str) -> bool:
    return urlparse(url).scheme != "mongomock"


def ping() -> bool:
    try:
        get_db().command("ping")
        return True
    except Exception:  # readiness reports it; the caller decides what to do
        return False
