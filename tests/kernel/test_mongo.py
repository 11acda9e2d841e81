"""The store behaves like MongoDB for the queries the project makes (runs on mongomock and on a real server)."""
from __future__ import annotations

import threading

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


def test_ping():
    assert ping()
