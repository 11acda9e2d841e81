"""The store behaves like MongoDB for the queries the project makes (runs on the local FerretDB and on MongoDB with TEST_MONGO_URL)."""
from __future__ import annotations

import threading

import pytest
from pymongo.errors import DuplicateKeyError, OperationFailure

from ecom_project.mongo import get_db, ping


def test_id_queries_match_like_a_server(clean_store):
    col = get_db()["mongo_test"]
    col.insert_many([{"_id": f"k{i}", "n": i} for i in range(5)] + [{"_id": 7, "n": 7}])
    assert col.find_one({"_id": "k3"})["n"] == 3
    assert col.find_one({"_id": "k3", "n": 4}) is None
    assert col.find_one({"_id": "missing"}) is None
    assert sorted(d["_id"] for d in col.find({"_id": {"$in": ["k1", "k2", "nope", "k1"]}})) == ["k1", "k2"]
    assert col.count_documents({"_id": {"$in": ["k1", 7]}, "n": {"$gte": 5}}) == 1
    assert col.find_one({"_id": 7})["n"] == 7
    assert col.update_one({"_id": "k0", "n": 99}, {"$set": {"n": 1}}).matched_count == 0
    assert col.count_documents({"n": {"$gt": 2}}) == 3


def test_concurrent_conditional_updates_apply_exactly_once(clean_store):
    col = get_db()["mongo_test"]
    col.insert_one({"_id": "stock", "available": 1000})
    wins = []

    def take() -> None:
        for _ in range(200):
            result = col.update_one({"_id": "stock", "available": {"$gte": 3}}, {"$inc": {"available": -3}})
            wins.append(result.modified_count)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(wins) == 333
    assert col.find_one({"_id": "stock"})["available"] == 1


def test_guarded_pushes_from_many_threads_lose_nothing_and_apply_once(clean_store):
    """The outbox and the idempotency guards rely on single-document atomicity: on FerretDB the store
    program's front door supplies it (FerretDB's SQLite handler updates by read-modify-write)."""
    col = get_db()["mongo_test"]
    col.insert_one({"_id": "doc", "n": 0, "applied": []})

    def apply(thread: int) -> None:
        for i in range(50):
            col.update_one({"_id": "doc"}, {"$inc": {"n": 1}})
            for _ in range(2):  # the second delivery of each event must change nothing
                col.update_one({"_id": "doc", "applied": {"$ne": f"{thread}-{i}"}}, {"$push": {"applied": f"{thread}-{i}"}})

    threads = [threading.Thread(target=apply, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = col.find_one({"_id": "doc"})
    assert doc["n"] == 300 and len(doc["applied"]) == 300 == len(set(doc["applied"]))


def test_one_lease_claim_wins_among_concurrent_claimants(clean_store):
    col = get_db()["mongo_test"]
    col.insert_one({"_id": "lease"})
    winners = []

    def claim(owner: int) -> None:
        if col.find_one_and_update({"_id": "lease", "owner": None}, {"$set": {"owner": owner}}) is not None:
            winners.append(owner)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1 and col.find_one({"_id": "lease"})["owner"] == winners[0]


def test_id_anchored_writes_answer_like_mongodb_when_the_rest_does_not_match(clean_store):
    col = get_db()["mongo_test"]
    col.insert_one({"_id": "a", "status": "NEW", "tags": ["x"]})
    assert col.update_one({"_id": "a", "status": "OLD"}, {"$set": {"n": 1}}).matched_count == 0
    assert col.find_one_and_update({"_id": "a", "tags": {"$ne": "x"}}, {"$set": {"n": 1}}) is None
    assert col.delete_one({"_id": "a", "status": "OLD"}).deleted_count == 0
    assert col.update_one({"_id": "a", "status": "NEW"}, {"$set": {"n": 2}}).modified_count == 1
    assert col.find_one({"_id": "a"})["n"] == 2
    assert col.update_one({"_id": "b", "status": "NEW"}, {"$set": {"n": 3}}, upsert=True).upserted_id == "b"
    assert col.delete_one({"_id": "a", "status": "NEW"}).deleted_count == 1


def _front_door_stats() -> dict:
    try:
        return get_db().command("ecomFrontDoorStats")
    except OperationFailure:
        pytest.skip("no front door: the store is MongoDB itself")


def test_a_guarded_upsert_is_anchored_to_its_id_and_answers_like_mongodb(clean_store):
    """FerretDB reads the whole collection for an upsert whose filter says more than {_id}; the front door
    sends it on as {_id: v} when that inserts the same document (no document has the _id, and the rest of
    the filter adds no field to it), so a payment's first write costs the same at any history."""
    col = get_db()["mongo_test"]
    before = _front_door_stats()
    guard = {"status": {"$exists": False}, "refundRequested": {"$exists": False}}
    result = col.update_one({"_id": "p1", **guard}, {"$set": {"v": 1}, "$setOnInsert": {"c": 1}}, upsert=True)
    assert result.upserted_id == "p1" and col.find_one({"_id": "p1"}) == {"_id": "p1", "v": 1, "c": 1}
    after = _front_door_stats()
    assert after["anchoredUpserts"] == before["anchoredUpserts"] + 1, "inserted through the _id index"
    assert col.update_one({"_id": "p1", **guard}, {"$set": {"v": 2}}, upsert=True).modified_count == 1
    assert _front_door_stats()["anchored"] == after["anchored"] + 1, "an existing match: anchored as any write"

    col.update_one({"_id": "p1"}, {"$set": {"status": "AUTHORIZED"}})
    with pytest.raises(DuplicateKeyError):  # as on MongoDB: no match, and the insert collides with the _id
        col.update_one({"_id": "p1", **guard}, {"$set": {"v": 3}}, upsert=True)
    assert col.find_one({"_id": "p1"})["v"] == 2

    assert col.update_one({"_id": "p2", "kind": "x", "n": {"$gt": 1}}, {"$set": {"v": 1}}, upsert=True).upserted_id == "p2"
    assert col.find_one({"_id": "p2"}) == {"_id": "p2", "kind": "x", "v": 1}, "an equality adds a field: FerretDB decides"
    assert _front_door_stats()["anchoredUpserts"] == after["anchoredUpserts"]


def test_pull_all_removes_exactly_the_entries_read(clean_store):
    """How the relay removes what it published: `$pullAll` of the entries as read. (A `$pull` with a
    condition, such as {eventId: {$in: [...]}}, changes nothing on FerretDB 1.24.)"""
    col = get_db()["mongo_test"]
    col.insert_one({"_id": "d", "outbox": [{"eventId": "1", "v": "a"}, {"eventId": "2", "v": "b"}]})
    read = col.find_one({"_id": "d"})["outbox"][:1]
    col.update_one({"_id": "d"}, {"$push": {"outbox": {"eventId": "3", "v": "c"}}})  # a write in between
    assert col.update_one({"_id": "d"}, {"$pullAll": {"outbox": read}}).modified_count == 1
    assert [e["eventId"] for e in col.find_one({"_id": "d"})["outbox"]] == ["2", "3"]


def test_ping():
    assert ping()
